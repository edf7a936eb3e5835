#!/usr/bin/env bash
# Installs the GPU compilers that check ILGPU's output on a machine without a GPU (Debian bookworm, as root):
#   ptxas / cuobjdump / nvdisasm from the non-free nvidia-cuda-toolkit .deb (CUDA 11.8), unpacked without
#   its dependencies into $GPU_TOOLS (default /opt/ilgpuvae-gpu-tools), and clang-15 for OpenCL C.
# Prints the two tools' paths. Safe to run again: what is present is kept.
set -euo pipefail
tools=${GPU_TOOLS:-/opt/ilgpuvae-gpu-tools}
ptxas="$tools/usr/bin/ptxas"

need_update=1
apt_update() { if [ "$need_update" = 1 ]; then apt-get update -qq; need_update=0; fi; }

if ! command -v clang-15 >/dev/null 2>&1; then
  apt_update
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-15 >/dev/null
fi

if [ ! -x "$ptxas" ]; then
  # The toolkit lives in the non-free component; add it beside the system's sources if it is missing.
  if ! grep -rqs 'non-free' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    cat > /etc/apt/sources.list.d/ilgpuvae-non-free.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    need_update=1
  fi
  apt_update
  work=$(mktemp -d)
  (cd "$work" && apt-get download -qq nvidia-cuda-toolkit >/dev/null)
  mkdir -p "$tools"
  dpkg -x "$work"/nvidia-cuda-toolkit_*.deb "$tools"
  rm -rf "$work"
fi
"$ptxas" --version | tail -1 >&2
echo "PTXAS=$ptxas"
echo "CLANG_OPENCL=$(command -v clang-15)"
