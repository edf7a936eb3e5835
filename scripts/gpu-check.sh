#!/usr/bin/env bash
# The GPU check, in one command, on an NVIDIA machine with the driver, CUDA and PyTorch but no .NET SDK and no
# network, after scripts/prepare-gpu-check.sh has filled .device/ on a development machine. About 8 minutes.
#
#   scripts/gpu-check.sh [RESULT_DIR]     (RESULT_DIR default: $OUT, else gpu-check-logs)
#
# Two files come back in RESULT_DIR, whatever happens (also when a step fails or time runs out): summary.txt and
# logs.tar.xz, every log and run folder of the check without their weights. It runs, logging each step: the devices ILGPU sees; every parity fixture on CUDA (the device's
# own kernels, which are the GPU kernels); eval on CUDA of the checkpoint trained and evaluated on the CPU
# beforehand (same weights and seeds: compared with the CPU's eval.json); a short Fashion-MNIST training run on
# CUDA and the PyTorch peer's on the same data (test −ELBO compared); bench at batch 128, 1024 and 4096 and the
# peer at the same batches, eager and torch.compile (CUDA graphs); torch.matmul at the three product shapes
# (TF32 off); compute-sanitizer memcheck over a few training steps. A summary table ends it.
# GPU_CHECK_DEVICE=cpu runs the same flow on the CPU (no sanitizer, no torch.compile): a dry run of the script.
set -uo pipefail
cd "$(dirname "$0")/.."
result=${1:-${OUT:-gpu-check-logs}}
mkdir -p "$result"
logs=$(mktemp -d)
app=$(mktemp -d)
# What comes back is small and flat: the summary and one archive of the logs, packed on any exit.
pack() {
  [ -f "$logs/summary.txt" ] && cp "$logs/summary.txt" "$result/summary.txt"
  tar -C "$logs" --exclude='*.safetensors' -cf - . | xz -6 -T1 > "$result/logs.tar.xz"
  echo "Results: $result/summary.txt and $result/logs.tar.xz ($(du -h "$result/logs.tar.xz" | cut -f1))"
  rm -rf "$app" "$logs"
}
trap pack EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
device=${GPU_CHECK_DEVICE:-cuda}
python=${PYTHON:-python3}
epochs=${GPU_CHECK_EPOCHS:-3}
d=.device
start=$(date +%s)
step() { echo; echo "== $1 ($(( $(date +%s) - start )) s)"; }

tar -C "$app" -xJf "$d/IlgpuVae.Cli.tar.xz"
cli="$app/IlgpuVae.Cli/IlgpuVae.Cli"
fmnist="$app/fmnist"
mkdir -p "$fmnist" && tar -C "$fmnist" -xJf "$d/fmnist.tar.xz" && gzip -1 "$fmnist"/*  # the peer reads .gz

if [ "$device" = cuda ]; then
  nvidia-smi -L | tee "$logs/nvidia-smi.txt"
  # ILGPU opens the unversioned libcuda.so; where only libcuda.so.1 exists, point a folder of ours at it.
  if ! ldconfig -p | grep -q 'libcuda.so '; then
    lib=$(ldconfig -p | awk '/libcuda.so.1 /{print $NF; exit}')
    if [ -n "$lib" ]; then mkdir -p "$app/lib"; ln -sf "$lib" "$app/lib/libcuda.so"; export LD_LIBRARY_PATH="$app/lib:${LD_LIBRARY_PATH:-}"; fi
  fi
fi

step "devices"
"$cli" devices 2>&1 | tee "$logs/devices.txt"

step "golden fixtures on $device: the repository's and the shared ones"
for folder in tests/golden "$d/golden"; do
  ls "$folder"/*.json >/dev/null 2>&1 || continue
  echo "-- $folder"
  "$cli" golden "$folder" --device "$device" 2>&1
done | tee "$logs/golden.txt"

step "eval on $device of the CPU-trained checkpoint"
cp -r "$d/cpu-run" "$logs/cpu-run"
"$cli" eval "$logs/cpu-run" --data "$fmnist" --device "$device" --limit 2000 --iwae-k 1000 --out "$logs/eval-$device" 2>&1 | tee "$logs/eval.txt"

step "training on $device: $epochs epochs of the Fashion-MNIST subset"
"$cli" train --data "$fmnist" --model vae --hidden 400 --latent 20 --epochs "$epochs" --batch-size 128 --seed 1 \
  --device "$device" --out "$logs/train-$device" 2>&1 | tail -4 | tee "$logs/train.txt"
"$python" "$d/pytorch_vae.py" --data "$fmnist" --epochs "$epochs" --batch 128 --device "$device" 2>&1 | tee "$logs/peer-train.jsonl"

step "bench on $device"
"$cli" bench --device "$device" --batch-sizes 128,1024,4096 --steps 30 --out "$logs" 2>&1 | tee "$logs/bench.txt"

step "whole epochs on the same data at batch 128, 1024, 4096: ours, the peer eager and compiled"
for batch in 128 1024 4096; do
  "$cli" train --data "$fmnist" --model vae --hidden 400 --latent 20 --epochs 3 --batch-size "$batch" --seed 1 \
    --device "$device" --out "$logs/throughput-$batch" > "$logs/throughput-$batch.txt" 2>&1
  tail -1 "$logs/throughput-$batch/metrics.jsonl"
  for mode in eager compile; do
    [ "$mode" = compile ] && [ "$device" != cuda ] && continue
    flag=""; [ "$mode" = compile ] && flag="--compile"
    "$python" "$d/pytorch_vae.py" --data "$fmnist" --epochs 3 --batch "$batch" --device "$device" $flag 2>&1 | tail -1 \
      | sed "s/^/{\"batch\": $batch, \"mode\": \"$mode\", \"run\": /; s/$/}/" | tee -a "$logs/peer-throughput.jsonl"
  done
done

step "torch.matmul at the products' shapes (FP32, TF32 off)"
"$python" - "$device" > "$logs/matmul.json" <<'PY'
import json, sys, time, torch
dev = torch.device(sys.argv[1])
torch.backends.cuda.matmul.allow_tf32 = False
rows = []
for batch in (128, 1024, 4096):
    for name, (m, k, n) in {"x·Wᵀ": (batch, 784, 400), "dY·W": (batch, 400, 784), "dYᵀ·x": (400, batch, 784)}.items():
        a, b = torch.rand(m, k, device=dev), torch.rand(k, n, device=dev)
        for _ in range(3): a @ b
        if dev.type == "cuda": torch.cuda.synchronize()
        times = []
        for _ in range(15):
            t = time.perf_counter()
            for _ in range(20): a @ b
            if dev.type == "cuda": torch.cuda.synchronize()
            times.append((time.perf_counter() - t) / 20)
        med = sorted(times)[7]
        rows.append({"batch": batch, "product": name, "microseconds": med * 1e6, "gflops": 2 * m * k * n / med / 1e9})
print(json.dumps(rows))
PY
cat "$logs/matmul.json"

if [ "$device" = cuda ] && command -v compute-sanitizer >/dev/null; then
  step "compute-sanitizer memcheck over a few training steps"
  compute-sanitizer --tool memcheck --print-limit 20 "$cli" bench --device cuda --batch-sizes 64 --steps 3 --warmup 0 \
    --out "$logs/sanitizer" > "$logs/memcheck.txt" 2>&1
  tail -3 "$logs/memcheck.txt"
fi

step "summary"
python3 - "$logs" "$device" <<'PY' | tee "$logs/summary.txt"
import json, os, sys
logs, device = sys.argv[1], sys.argv[2]
def load(name):
    try:
        with open(os.path.join(logs, name)) as f: return json.load(f)
    except Exception as e:
        return None
def lines(name):
    try:
        with open(os.path.join(logs, name)) as f: return [json.loads(l) for l in f if l.strip().startswith("{")]
    except Exception:
        return []
rows = []
golden = open(os.path.join(logs, "golden.txt")).read().strip().splitlines() if os.path.exists(os.path.join(logs, "golden.txt")) else []
folders = [i for i, line in enumerate(golden) if line.startswith("-- ")]
for n, i in enumerate(folders):
    end = folders[n + 1] if n + 1 < len(folders) else len(golden)
    rows.append((f"golden fixtures {golden[i][3:]}", golden[end - 1] if end - 1 > i else "no output"))
if not folders: rows.append(("golden fixtures", "did not run"))
cpu, gpu = load("cpu-run/eval.json"), load(f"eval-{device}/eval.json")
if cpu and gpu:
    for key in ("test_neg_elbo", "iwae_nll", "mi", "active_units", "mmd_aggregate", "kl"):
        rows.append((f"eval {key}: cpu / {device} / diff", f"{cpu[key]:.4f} / {gpu[key]:.4f} / {gpu[key] - cpu[key]:+.4f}"))
metrics = lines(f"train-{device}/metrics.jsonl")
peer = lines("peer-train.jsonl")
if metrics and peer:
    ours, theirs = metrics[-1]["test_neg_elbo"], peer[-1]["test_neg_elbo"]
    rows.append((f"train {len(metrics)} epochs: test −ELBO ours / peer", f"{ours:.2f} / {theirs:.2f} ({100 * (ours - theirs) / theirs:+.2f} %)"))
    rows.append(("train images/s ours / peer (last epoch)", f"{metrics[-1]['images_per_second']:.0f} / {peer[-1]['images_per_second']:.0f}"))
peers = lines("peer-throughput.jsonl")
for batch in (128, 1024, 4096):
    ours = lines(f"throughput-{batch}/metrics.jsonl")
    if not ours: continue
    p = {r["mode"]: r["run"]["images_per_second"] for r in peers if r["batch"] == batch and isinstance(r.get("run"), dict)}
    ratio = ", ".join(f"{ours[-1]['images_per_second'] / v:.2f}× {m} ({v:.0f})" for m, v in p.items())
    rows.append((f"epoch images/s at batch {batch}: ours, vs peer", f"{ours[-1]['images_per_second']:.0f}, {ratio}"))
bench = load("bench.json") or []
for b in bench:
    rows.append((f"bench batch {b['batch_size']}: images/s, launches, floor ms",
                 f"{b['images_per_second']:.0f}, {b['launches_per_step']:.0f}, {b['launch_floor_milliseconds']:.3f}"))
    pr = b["products"]
    share = f"{100 * b['products_share_of_peak']:.1f} % of peak" if b.get("products_share_of_peak") else ""
    rows.append((f"  products batch {b['batch_size']} GFLOP/s fwd / dW / layer bwd", f"{pr['forward_gflops']:.0f} / {pr['weight_gradient_gflops']:.0f} / {pr['layer_backward_gflops']:.0f} {share}"))
    if b.get("free_bytes_before") is not None:
        rows.append((f"  device memory change over the timed steps", f"{b['free_bytes_before'] - b['free_bytes_after']} bytes"))
for m in load("matmul.json") or []:
    rows.append((f"torch.matmul batch {m['batch']} {m['product']}", f"{m['gflops']:.0f} GFLOP/s"))
mc = os.path.join(logs, "memcheck.txt")
if os.path.exists(mc):
    text = open(mc).read()
    rows.append(("compute-sanitizer memcheck", "ERROR SUMMARY: " + text.split("ERROR SUMMARY:")[-1].strip().splitlines()[0] if "ERROR SUMMARY:" in text else "no summary"))
width = max(len(r[0]) for r in rows)
for k, v in rows: print(f"{k:<{width}}  {v}")
PY
echo "Total $(( $(date +%s) - start )) s"
