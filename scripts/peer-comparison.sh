#!/usr/bin/env bash
# Training speed against the PyTorch peer, same machine, same sitting: 2-epoch runs of each on Fashion-MNIST,
# ours and the peer interleaved, three of each; prints every epoch's images/s and the medians of the runs' last
# epochs, and their ratio.
#
#   scripts/peer-comparison.sh --peer PATH/pytorch_vae.py [--runs 3] [--epochs 2] [--python python3] \
#       [--ours "ARGS for train"] [--theirs "ARGS for the peer"]
#
# e.g. the conv model:  --ours "--arch conv --channels 32,64 --hidden 256" --theirs "--arch conv --channels 32,64 --hidden 256"
#      InfoVAE:         --ours "--model infovae" --theirs "--alpha 0 --lam 1000"
set -euo pipefail
cd "$(dirname "$0")/.."
peer="" runs=3 epochs=2 python=${PYTHON:-python3} ours="" theirs=""
while [ $# -gt 0 ]; do
  case "$1" in
    --peer) peer="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --epochs) epochs="$2"; shift 2 ;;
    --python) python="$2"; shift 2 ;;
    --ours) ours="$2"; shift 2 ;;
    --theirs) theirs="$2"; shift 2 ;;
    *) echo "Unknown option $1. See the comment at the top of $0." >&2; exit 1 ;;
  esac
done
[ -f "$peer" ] || { echo "Give the PyTorch peer script with --peer PATH/pytorch_vae.py." >&2; exit 1; }
# The peer's default objective is the plain VAE; ours is InfoVAE: say vae unless --ours names a model.
[[ " $ours " == *" --model "* ]] || ours="--model vae $ours"
dotnet build -c Release src/IlgpuVae.Cli >/dev/null
cli=src/IlgpuVae.Cli/bin/Release/net10.0/IlgpuVae.Cli
work=$(mktemp -d)
for r in $(seq 1 "$runs"); do
  # shellcheck disable=SC2086
  "$cli" train --data fashion-mnist --epochs "$epochs" --batch-size 128 --seed 1 --device cpu $ours \
    --out "$work/ours-$r" > "$work/ours-$r.log"
  python3 -c "import json,sys; [print('ours', json.loads(l)['epoch'], json.loads(l)['images_per_second']) for l in open(sys.argv[1])]" "$work/ours-$r/metrics.jsonl" \
    | tee -a "$work/ours.txt"
  # shellcheck disable=SC2086
  "$python" "$peer" --epochs "$epochs" $theirs | tee "$work/peer-$r.jsonl" \
    | python3 -c "import json,sys; [print('peer', json.loads(l)['epoch'], json.loads(l)['images_per_second']) for l in sys.stdin]" | tee -a "$work/peer.txt"
done
python3 - "$work" "$epochs" <<'PY'
import statistics, sys
work, epochs = sys.argv[1], sys.argv[2]
def last(name):
    return [float(l.split()[2]) for l in open(f"{work}/{name}.txt") if l.split()[1] == epochs]
o, p = last("ours"), last("peer")
print(f"last epochs, images/s: ours {o}, peer {p}")
print(f"medians: ours {statistics.median(o):.0f}, peer {statistics.median(p):.0f}, ratio {statistics.median(o) / statistics.median(p):.2f}x")
PY
rm -rf "$work"
