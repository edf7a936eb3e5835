#!/usr/bin/env bash
# Installs MPICH (mpiexec and libmpich.so.12) for data-parallel training across processes and its test
# (mpiexec -n 2 on the built CLI), on Debian as root. Safe to run again: an mpiexec already on PATH is kept.
# Open MPI's mpiexec is another ABI: IlgpuVae refuses it by name.
set -euo pipefail
if ! command -v mpiexec >/dev/null 2>&1 || [ -z "$(ldconfig -p | grep 'libmpich\.so\.12')" ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mpich >/dev/null
fi
echo "mpiexec: $(command -v mpiexec)" >&2
