#!/usr/bin/env bash
# Prepares everything scripts/gpu-check.sh needs on an NVIDIA machine that has the driver, CUDA and PyTorch
# but no .NET SDK and no network: what needs no GPU is done here, once, and carried in .device/ (ignored by
# git). The GPU machine receives the working tree — tracked files, untracked ones git does not ignore, and .device/ —
# up to 64 MiB in all: this script prints that total and fails above 60 MiB, so nothing travels twice and what the
# other work adds still fits.
#
#   scripts/prepare-gpu-check.sh --peer PATH/pytorch_vae.py [--golden DIR] [--data DIR] [--train-images N] [--test-images N]
#
#   .device/IlgpuVae.Cli.tar.xz   the CLI published self-contained for linux-x64 (not trimmed: ILGPU compiles the
#                                 kernels from their IL at run time)
#   .device/golden/               the parity fixtures of DIR (default $GOLDEN_DIR), which do not travel otherwise;
#                                 the repository's tests/golden travel as tracked files and are read there
#   .device/fmnist.tar.xz         Fashion-MNIST: the first N (default 20,000) training images and the first N (default
#                                 2,000) test images, as IDX files (DIR default: what --data fashion-mnist finds); xz
#                                 packs them a third smaller than gzip
#   .device/pytorch_vae.py        the PyTorch peer
#   .device/cpu-run/              a 784-400-20 VAE trained here on the CPU for 2 epochs on that subset: only what
#                                 the check reads — config.json, model.safetensors and its eval.json from the CPU
#                                 (the 2,000 test images, K = 1000); the GPU check evaluates the same weights with
#                                 the same seeds on CUDA and compares
set -euo pipefail
cd "$(dirname "$0")/.."

peer="" golden="${GOLDEN_DIR:-}" data="" train_images=20000 test_images=2000
while [ $# -gt 0 ]; do
  case "$1" in
    --peer) peer="$2"; shift 2 ;;
    --golden) golden="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    --train-images) train_images="$2"; shift 2 ;;
    --test-images) test_images="$2"; shift 2 ;;
    *) echo "Unknown option $1. See the comment at the top of $0." >&2; exit 1 ;;
  esac
done
[ -f "$peer" ] || { echo "Give the PyTorch peer script with --peer PATH/pytorch_vae.py." >&2; exit 1; }

out=.device
rm -rf "$out/golden" "$out/fmnist" "$out/fmnist.tar.xz" "$out/cpu-run" "$out/IlgpuVae.Cli.tar.xz"
mkdir -p "$out/golden" "$out/fmnist"

echo "== publishing the CLI self-contained for linux-x64"
publish=$(mktemp -d)
dotnet publish src/IlgpuVae.Cli/IlgpuVae.Cli.csproj -c Release -r linux-x64 --self-contained true \
  -p:InvariantGlobalization=true -p:DebugType=none -o "$publish/IlgpuVae.Cli" >"$publish/log" 2>&1 || { cat "$publish/log"; exit 1; }
tar -C "$publish" -cf - IlgpuVae.Cli | xz -9e -T2 > "$out/IlgpuVae.Cli.tar.xz"
cli="$publish/IlgpuVae.Cli/IlgpuVae.Cli"

echo "== fixtures (beside the repository's tests/golden, which travel as tracked files)"
[ -n "$golden" ] && cp "$golden"/*.json "$out/golden/"
ls "$out/golden" | wc -l

echo "== Fashion-MNIST subset"
if [ -z "$data" ]; then
  for d in ./data/fashion-mnist ./data "${XDG_CACHE_HOME:-$HOME/.cache}/ilgpuvae/fashion-mnist" /usr/share/datasets/fashion-mnist; do
    [ -e "$d/train-images-idx3-ubyte.gz" ] || [ -e "$d/train-images-idx3-ubyte" ] && { data="$d"; break; }
  done
fi
[ -n "$data" ] || { echo "Fashion-MNIST not found: give --data DIR (Debian: apt-get install dataset-fashion-mnist)." >&2; exit 1; }
python3 - "$data" "$out/fmnist" "$train_images" "$test_images" <<'PY'
import gzip, os, struct, sys
src, dst, n, n_test = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def read(name):
    for path, op in ((os.path.join(src, name + ".gz"), gzip.open), (os.path.join(src, name), open)):
        if os.path.exists(path):
            with op(path, "rb") as f: return f.read()
    sys.exit(f"{name} is not in {src}")
for name, limit in (("train-images-idx3-ubyte", n), ("train-labels-idx1-ubyte", n),
                    ("t10k-images-idx3-ubyte", n_test), ("t10k-labels-idx1-ubyte", n_test)):
    raw = read(name)
    ndim = raw[3]
    dims = list(struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim]))
    per = 1
    for d in dims[1:]: per *= d
    if limit: dims[0] = min(limit, dims[0])
    body = raw[4 + 4 * ndim: 4 + 4 * ndim + dims[0] * per]
    with open(os.path.join(dst, name), "wb") as f:
        f.write(raw[:4] + struct.pack(">" + "I" * ndim, *dims) + body)
PY
cp "$peer" "$out/pytorch_vae.py"

echo "== a CPU-trained checkpoint and its CPU evaluation"
"$cli" train --data "$out/fmnist" --model vae --hidden 400 --latent 20 --epochs 2 --batch-size 128 --seed 1 \
  --device cpu --out "$publish/cpu-run" | tail -3
"$cli" eval "$publish/cpu-run" --device cpu --limit 2000 --iwae-k 1000 --out "$publish/cpu-run" | tail -12
mkdir -p "$out/cpu-run"
cp "$publish/cpu-run/config.json" "$publish/cpu-run/model.safetensors" "$publish/cpu-run/eval.json" "$out/cpu-run/"
# The run's config.json names the data where it was here; the check gives --data where it unpacks them.
tar -C "$out/fmnist" -cf - . | xz -9e -T1 > "$out/fmnist.tar.xz"
rm -rf "$out/fmnist" "$publish"

echo "== what travels"
tracked=$(git ls-files -z --cached --others --exclude-standard | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
prepared=$(du -sb "$out" | cut -f1)
du -sh "$out"/* | sed 's/^/  /'
mib() { python3 -c "print(f'{$1 / 1048576:.1f}')"; }
echo "working tree $(mib "$tracked") MiB + $out $(mib "$prepared") MiB = $(mib $((tracked + prepared))) MiB (at most 60 MiB; 64 MiB travel)"
if [ $((tracked + prepared)) -gt $((60 * 1048576)) ]; then
  echo "Over 60 MiB: use --train-images or --test-images with fewer images, or carry less." >&2
  exit 1
fi
echo "Ready: run scripts/gpu-check.sh on the GPU machine (carry .device along)."
