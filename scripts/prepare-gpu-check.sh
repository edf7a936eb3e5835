#!/usr/bin/env bash
# Prepares everything scripts/gpu-check.sh needs on an NVIDIA machine that has the driver, CUDA and PyTorch
# but no .NET SDK and no network: what needs no GPU is done here, once, and carried in .device/ (ignored by
# git, at most 64 MiB).
#
#   scripts/prepare-gpu-check.sh --peer PATH/pytorch_vae.py [--golden DIR] [--data DIR] [--train-images N]
#
#   .device/IlgpuVae.Cli.tar.xz   the CLI published self-contained for linux-x64
#   .device/golden/               the parity fixtures: DIR's (default $GOLDEN_DIR) and the repository's tests/golden
#   .device/fmnist/               Fashion-MNIST: the first N (default 20,000) training images and all 10,000 test
#                                 images, as gzipped IDX files (DIR default: what --data fashion-mnist finds)
#   .device/pytorch_vae.py        the PyTorch peer
#   .device/cpu-run/              a 784-400-20 VAE trained here on the CPU for 2 epochs on that subset, and its
#                                 eval.json from the CPU (2,000 test images, K = 1000): the GPU check evaluates the
#                                 same weights with the same seeds on CUDA and compares
set -euo pipefail
cd "$(dirname "$0")/.."

peer="" golden="${GOLDEN_DIR:-}" data="" train_images=20000
while [ $# -gt 0 ]; do
  case "$1" in
    --peer) peer="$2"; shift 2 ;;
    --golden) golden="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    --train-images) train_images="$2"; shift 2 ;;
    *) echo "Unknown option $1. See the comment at the top of $0." >&2; exit 1 ;;
  esac
done
[ -f "$peer" ] || { echo "Give the PyTorch peer script with --peer PATH/pytorch_vae.py." >&2; exit 1; }

out=.device
rm -rf "$out/golden" "$out/fmnist" "$out/cpu-run" "$out/IlgpuVae.Cli.tar.xz"
mkdir -p "$out/golden" "$out/fmnist"

echo "== publishing the CLI self-contained for linux-x64"
publish=$(mktemp -d)
dotnet publish src/IlgpuVae.Cli/IlgpuVae.Cli.csproj -c Release -r linux-x64 --self-contained true \
  -p:InvariantGlobalization=true -p:DebugType=none -o "$publish/IlgpuVae.Cli" >"$publish/log" 2>&1 || { cat "$publish/log"; exit 1; }
tar -C "$publish" -cJf "$out/IlgpuVae.Cli.tar.xz" IlgpuVae.Cli
cli="$publish/IlgpuVae.Cli/IlgpuVae.Cli"

echo "== fixtures"
[ -n "$golden" ] && cp "$golden"/*.json "$out/golden/"
cp tests/golden/*.json "$out/golden/" 2>/dev/null || true
ls "$out/golden" | wc -l

echo "== Fashion-MNIST subset"
if [ -z "$data" ]; then
  for d in ./data/fashion-mnist ./data "${XDG_CACHE_HOME:-$HOME/.cache}/ilgpuvae/fashion-mnist" /usr/share/datasets/fashion-mnist; do
    [ -e "$d/train-images-idx3-ubyte.gz" ] || [ -e "$d/train-images-idx3-ubyte" ] && { data="$d"; break; }
  done
fi
[ -n "$data" ] || { echo "Fashion-MNIST not found: give --data DIR (Debian: apt-get install dataset-fashion-mnist)." >&2; exit 1; }
python3 - "$data" "$out/fmnist" "$train_images" <<'PY'
import gzip, os, struct, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def read(name):
    for path, op in ((os.path.join(src, name + ".gz"), gzip.open), (os.path.join(src, name), open)):
        if os.path.exists(path):
            with op(path, "rb") as f: return f.read()
    sys.exit(f"{name} is not in {src}")
for name, limit in (("train-images-idx3-ubyte", n), ("train-labels-idx1-ubyte", n),
                    ("t10k-images-idx3-ubyte", 0), ("t10k-labels-idx1-ubyte", 0)):
    raw = read(name)
    ndim = raw[3]
    dims = list(struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim]))
    per = 1
    for d in dims[1:]: per *= d
    if limit: dims[0] = min(limit, dims[0])
    body = raw[4 + 4 * ndim: 4 + 4 * ndim + dims[0] * per]
    with gzip.open(os.path.join(dst, name + ".gz"), "wb", compresslevel=9) as f:
        f.write(raw[:4] + struct.pack(">" + "I" * ndim, *dims) + body)
PY
cp "$peer" "$out/pytorch_vae.py"

echo "== a CPU-trained checkpoint and its CPU evaluation"
"$cli" train --data "$out/fmnist" --model vae --hidden 400 --latent 20 --epochs 2 --batch-size 128 --seed 1 \
  --device cpu --out "$out/cpu-run" | tail -3
"$cli" eval "$out/cpu-run" --device cpu --limit 2000 --iwae-k 1000 --out "$out/cpu-run" | tail -12
rm -f "$out/cpu-run/"*.png
rm -rf "$publish"
du -sh "$out"
size=$(du -sm "$out" | cut -f1)
[ "$size" -le 64 ] || { echo "$out is ${size} MiB; at most 64 MiB travels. Use --train-images with fewer images." >&2; exit 1; }
echo "Ready: run scripts/gpu-check.sh on the GPU machine (carry .device along)."
