#!/usr/bin/env bash
# Prints a SHA-256 per output file of a set of small fixed-seed runs on the CPU accelerator — dense, conv, MADE,
# PixelCNN, IAF, two replicas, dynamic binarization, eval and sample — with the timing and memory keys (seconds,
# images_per_second, epoch_seconds, exchange_seconds, rss_mb, managed_mb) removed from metrics.jsonl and eval.json. A change that must not alter results
# (a refactor) leaves every line as it was: run it before and after and diff the two outputs.
#
#   scripts/fixed-seed-hashes.sh [--cli PATH/IlgpuVae.Cli.dll] > hashes.txt
#
# Without --cli it builds this checkout's CLI (Release). Takes about two minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
cli=""
while [ $# -gt 0 ]; do
  case "$1" in
    --cli) cli="$2"; shift 2 ;;
    *) echo "Unknown option $1. See the comment at the top of $0." >&2; exit 1 ;;
  esac
done
if [ -z "$cli" ]; then
  dotnet build src/IlgpuVae.Cli -c Release -v quiet -nologo >/dev/null
  cli=src/IlgpuVae.Cli/bin/Release/net10.0/IlgpuVae.Cli.dll
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

tiny=(--train-limit 192 --test-limit 48 --batch-size 32 --hidden 24 --latent 3 --epochs 2 --seed 7)
run() { local name=$1; shift; dotnet "$cli" "$@" >"$work/$name.log" 2>&1 || { cat "$work/$name.log" >&2; exit 1; }; }
train() { local name=$1; shift; run "$name" train "${tiny[@]}" --out "$work/$name" "$@"; }

train dense --device cpu --model vae --binarize dynamic
train conv --device cpu --arch conv --channels 4,8
train made --device cpu --decoder made --made-hidden 32 --binarize dynamic
train pixelcnn --device cpu --decoder pixelcnn --pixelcnn-channels 4 --pixelcnn-layers 1 --pixelcnn-kernel 3 --pixelcnn-first-kernel 3 --binarize dynamic
train iaf --device cpu --posterior iaf --flow-steps 1 --flow-hidden 8 --context-dim 4 --model beta-vae
train replicas --replicas cpu:0,cpu:1 --model mmd-vae
run eval eval "$work/dense" --device cpu --limit 48 --iwae-k 20
run sample sample "$work/made" --device cpu --count 8 --out "$work/made-sample"

# Without the timing and memory keys, and with keys sorted, so only results count.
strip() {
  python3 - "$1" <<'PY'
import json, sys
timing = {"seconds", "images_per_second", "epoch_seconds", "rss_mb", "managed_mb", "exchange_seconds"}
path = sys.argv[1]
text = open(path).read()
objects = [json.loads(line) for line in text.splitlines() if line.strip()] if path.endswith(".jsonl") else [json.loads(text)]
for o in objects:
    print(json.dumps({k: v for k, v in o.items() if k not in timing}, sort_keys=True))
PY
}
for name in dense conv made pixelcnn iaf replicas; do
  for f in model.safetensors training_state.safetensors; do
    echo "$name/$f $(sha256sum "$work/$name/$f" | cut -c1-16)"
  done
  echo "$name/metrics.jsonl $(strip "$work/$name/metrics.jsonl" | sha256sum | cut -c1-16)"
done
echo "dense/eval.json $(strip "$work/dense/eval.json" | sha256sum | cut -c1-16)"
for f in "$work"/made-sample/*.png; do echo "made-sample/$(basename "$f") $(sha256sum "$f" | cut -c1-16)"; done
