#!/usr/bin/env bash
# The information preference experiment: two decoders that can model x without z (a MADE and a PixelCNN), each
# trained first alone (the KL weighted so heavily, β = 100, that the code carries nothing: the NLL a collapsed VAE
# would reach) and then with each objective — vae, vae with KL warm-up, vae with free bits, beta-vae, infovae
# (α = 0) and mmd-vae (α = 1) — on dynamically binarized Fashion-MNIST (and MNIST where installed), the same
# subset, epochs, batch and seed. Every run is evaluated on the test subset after each epoch (--eval-every 1) and
# at the end (eval); then each decoder's runs are drawn on shared charts and a table row is printed per run.
# Runs go two at a time (a 2-core machine's share); a finished run (its eval.json exists) is not run again.
#
#   scripts/autoregressive-experiment.sh [--epochs 8] [--train-limit 30000] [--test-limit 2000] [--iwae-k 50]
#       [--out runs/information-preference] [--data fashion-mnist] [--device cpu] [--jobs 2] [--only REGEX]
#
# IVAE_CLI names a built IlgpuVae.Cli to use instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=8 train=30000 test=2000 iwae=50 out=runs/information-preference data=fashion-mnist device=cpu jobs=2 only=.
while [ $# -gt 0 ]; do
  case "$1" in
    --epochs) epochs="$2"; shift 2 ;;
    --train-limit) train="$2"; shift 2 ;;
    --test-limit) test="$2"; shift 2 ;;
    --iwae-k) iwae="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    --device) device="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    *) echo "Unknown option $1. See the comment at the top of $0." >&2; exit 1 ;;
  esac
done
if [ -z "${IVAE_CLI:-}" ]; then
  dotnet build -c Release src/IlgpuVae.Cli >/dev/null
  IVAE_CLI=src/IlgpuVae.Cli/bin/Release/net10.0/IlgpuVae.Cli
fi
export IVAE_CLI out data epochs train test iwae device
mkdir -p "$out"

# The decoders: a MADE of one 500-unit hidden layer (hidden degrees spread over the whole image), and a small
# PixelCNN — a 7×7 type-A layer and two 5×5 type-B layers of 16 channels, which sees 7 rows above a pixel.
made="--decoder made --made-hidden 500"
pixelcnn="--decoder pixelcnn --pixelcnn-channels 16 --pixelcnn-layers 2 --pixelcnn-kernel 5 --pixelcnn-first-kernel 7"
export made pixelcnn
objectives=(
  "decoder-alone|--model beta-vae --beta 100"
  "vae|--model vae"
  "vae-warmup|--model vae --kl-warmup 2"
  "vae-free-bits|--model vae --free-bits 0.5"
  "beta-vae|--model beta-vae"
  "infovae|--model infovae"
  "mmd-vae|--model mmd-vae"
)

one_run() {  # NAME DECODER OBJECTIVE-OPTIONS
  local run="$out/$data-$1"
  [ -f "$run/eval.json" ] && return 0
  rm -rf "$run"
  # shellcheck disable=SC2086
  "$IVAE_CLI" train --data "$data" --binarize dynamic ${!2} $3 --hidden 256 --latent 16 --epochs "$epochs" \
    --batch-size 64 --lr 1e-3 --seed 1 --device "$device" --train-limit "$train" --test-limit "$test" \
    --eval-every 1 --eval-iwae-k 10 --out "$run" > "$run.log" 2>&1 &&
  "$IVAE_CLI" eval "$run" --iwae-k "$iwae" --limit "$test" --device "$device" >> "$run.log" 2>&1 ||
    { echo "$1 failed: see $run.log" >&2; return 1; }
  echo "$1 done"
}
export -f one_run

# Slow PixelCNN runs and fast MADE runs interleaved, so both lanes stay busy to the end.
for objective in "${objectives[@]}"; do
  for decoder in pixelcnn made; do
    name="$decoder-${objective%%|*}"
    [[ "$name" =~ $only ]] && printf '%s\t%s\t%s\n' "$name" "$decoder" "${objective#*|}"
  done
done | xargs -P "$jobs" -L 1 -d '\n' bash -c 'IFS=$'"'"'\t'"'"' read -r n d o <<< "$0"; one_run "$n" "$d" "$o"'

for decoder in made pixelcnn; do
  runs=()
  for objective in "${objectives[@]}"; do
    run="$out/$data-$decoder-${objective%%|*}"
    [ -f "$run/eval.json" ] && runs+=("$run")
  done
  [ ${#runs[@]} -gt 1 ] || continue
  mkdir -p "$out/$decoder"
  "$IVAE_CLI" compare "${runs[@]}" --metric mi,active_units,test_neg_elbo,iwae_nll,kl --out "$out/$decoder" > /dev/null
done

python3 - "$out" "$data" <<'PY'
import json, os, sys
out, data = sys.argv[1], sys.argv[2]
names = ["decoder-alone", "vae", "vae-warmup", "vae-free-bits", "beta-vae", "infovae", "mmd-vae"]
print(f"{'run':24} {'test -ELBO':>10} {'IWAE NLL':>9} {'recon':>8} {'KL':>7} {'MI':>6} {'AU':>4} {'MMD agg':>9}")
for decoder in ["made", "pixelcnn"]:
    for name in names:
        path = f"{out}/{data}-{decoder}-{name}/eval.json"
        if not os.path.exists(path): continue
        e = json.load(open(path))
        print(f"{decoder + ' ' + name:24} {e['test_neg_elbo']:10.2f} {e['iwae_nll']:9.2f} {e['test_recon']:8.2f} {e['kl']:7.2f} "
              f"{e['mi']:6.3f} {e['active_units']:4d} {e['mmd_aggregate']:9.5f}")
PY
