#!/usr/bin/env bash
# The information preference experiment: a MADE decoder (which can model x without z) trained with each of the
# four objectives on dynamically binarized Fashion-MNIST (and MNIST where installed), the same epochs, batch and
# seed; each run evaluated on the test set; then the runs' MI, active units and test −ELBO per epoch drawn on
# shared charts. Prints one table row per run.
#
#   scripts/autoregressive-experiment.sh [--epochs 20] [--out runs/information-preference] [--data fashion-mnist]
#       [--eval-limit 2000] [--iwae-k 100] [--device cpu]
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=20 out=runs/information-preference data=fashion-mnist limit=2000 iwae=100 device=cpu
while [ $# -gt 0 ]; do
  case "$1" in
    --epochs) epochs="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    --eval-limit) limit="$2"; shift 2 ;;
    --iwae-k) iwae="$2"; shift 2 ;;
    --device) device="$2"; shift 2 ;;
    *) echo "Unknown option $1. See the comment at the top of $0." >&2; exit 1 ;;
  esac
done
dotnet build -c Release src/IlgpuVae.Cli >/dev/null
cli=src/IlgpuVae.Cli/bin/Release/net10.0/IlgpuVae.Cli
mkdir -p "$out"
for preset in vae beta-vae infovae mmd-vae; do
  run="$out/$data-$preset"
  [ -f "$run/eval.json" ] && continue   # finished already
  rm -rf "$run"
  "$cli" train --data "$data" --binarize dynamic --model "$preset" --decoder made --made-hidden 500 --hidden 400 --latent 20 \
    --epochs "$epochs" --batch-size 128 --lr 1e-3 --seed 1 --device "$device" \
    --eval-every 2 --eval-iwae-k 10 --test-limit "$limit" --out "$run" > "$out/$data-$preset.log"
  "$cli" eval "$run" --iwae-k "$iwae" --limit "$limit" --device "$device" >> "$out/$data-$preset.log"
done
"$cli" compare "$out/$data-vae" "$out/$data-beta-vae" "$out/$data-infovae" "$out/$data-mmd-vae" \
  --metric mi,active_units,test_neg_elbo,kl --out "$out"
python3 - "$out" "$data" <<'PY'
import json, sys
out, data = sys.argv[1], sys.argv[2]
print(f"{'preset':10} {'test -ELBO':>10} {'IWAE NLL':>9} {'KL':>7} {'MI':>6} {'AU':>4} {'MMD agg':>9}")
for preset in ["vae", "beta-vae", "infovae", "mmd-vae"]:
    e = json.load(open(f"{out}/{data}-{preset}/eval.json"))
    print(f"{preset:10} {e['test_neg_elbo']:10.2f} {e['iwae_nll']:9.2f} {e['kl']:7.2f} {e['mi']:6.3f} {e['active_units']:4d} {e['mmd_aggregate']:9.5f}")
PY
