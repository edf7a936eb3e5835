#!/usr/bin/env bash
# Makes a real OpenCL device available (as root) and prints where it runs: OPENCL_ROOT=/ when the host's own PoCL
# will do, else the path of a Debian 13 root that holds one.
#
# ILGPU's OpenCL backend needs OpenCL 2.0, or 3.0 with the generic address space. PoCL 4 and newer have it on
# CPUs: Debian 13 (trixie) and Ubuntu 24.04 ship PoCL 6.0 / 5.0 as pocl-opencl-icd, installed here on such hosts.
# Debian 12's PoCL 3.1 lacks it, so on Debian 12 this makes a minimal Debian 13 root with debootstrap (about a
# minute, 190 MB of Debian's packages, 1.1 GB on disk) under $OPENCL_ROOT (default /opt/ilgpuvae-opencl/root),
# which scripts/opencl-tests.sh enters with chroot. ocl-icd-opencl-dev gives the unversioned libOpenCL.so that
# ILGPU opens. Safe to run again: a finished root is kept. Exits non-zero, saying why, when no device results.
set -euo pipefail
root=${OPENCL_ROOT:-/opt/ilgpuvae-opencl/root}
packages=(pocl-opencl-icd ocl-icd-opencl-dev clinfo)

. /etc/os-release
host_has_new_pocl() {
  case "$ID" in
    debian) [ "${VERSION_ID%%.*}" -ge 13 ] 2>/dev/null ;;
    ubuntu) [ "${VERSION_ID%%.*}" -ge 24 ] 2>/dev/null ;;
    *) return 1 ;;
  esac
}

# "Generic address space support  Yes" from clinfo, run by "$@" (chroot ROOT, or nothing).
# (clinfo's whole output first: grep -q would end the pipe early, and pipefail would count clinfo's SIGPIPE.)
has_generic_address_space() { local info; info=$("$@" clinfo 2>/dev/null) || return 1; grep -Eq 'Generic address space support +Yes' <<<"$info"; }

if host_has_new_pocl; then
  if ! has_generic_address_space; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
  fi
  root=/
elif [ ! -f "$root/.ilgpuvae-ready" ]; then
  if ! command -v debootstrap >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  fi
  # An unfinished root is made again; never remove one with anything mounted inside (its /proc, /dev …).
  if findmnt -rn -o TARGET | grep -q "^$root/"; then
    echo "Something is still mounted under $root: unmount it (see findmnt) before the root is made again." >&2
    exit 1
  fi
  rm -rf "$root"
  mkdir -p "$root"
  debootstrap --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" trixie "$root" http://deb.debian.org/debian >/dev/null
  touch "$root/.ilgpuvae-ready"
fi

if [ "$root" = / ]; then
  has_generic_address_space || { echo "PoCL is installed but clinfo reports no device with the generic address space." >&2; exit 1; }
else
  # PoCL's hwloc reads sysfs: mount what clinfo needs for the check, then undo it.
  for d in proc sys dev; do mount --bind "/$d" "$root/$d"; done
  ok=0; has_generic_address_space chroot "$root" || ok=$?
  for d in dev sys proc; do umount "$root/$d" 2>/dev/null || umount -l "$root/$d"; done
  [ "$ok" -eq 0 ] || { echo "The Debian 13 root at $root has no OpenCL device with the generic address space (clinfo)." >&2; exit 1; }
fi
echo "OPENCL_ROOT=$root"
