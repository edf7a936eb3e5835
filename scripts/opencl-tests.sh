#!/usr/bin/env bash
# Runs the test cases that run on the OpenCL device — every row whose device is opencl or an OpenCL launch shape —
# on a real OpenCL runtime (as root), and writes their results to TestResults/opencl.trx.
#
#   sudo scripts/opencl-tests.sh            # after `dotnet build -c Release`; extra arguments go to dotnet test
#
# The runtime comes from scripts/opencl-root.sh: the host's own PoCL, or a Debian 13 root entered with chroot. In the
# root, the host's .NET SDK, its NuGet folder, this checkout (at the same absolute path: obj/ holds absolute paths)
# and the golden folder are bind-mounted; the tests run there from the host's build (--no-build), with invariant
# globalization (the minimal root has no ICU). The mounts are undone when the script ends, also on failure or Ctrl+C.
set -euo pipefail
checkout=$(cd "$(dirname "$0")/.." && pwd)
eval "$("$checkout/scripts/opencl-root.sh" | grep '^OPENCL_ROOT=')"
# Rows whose device argument is an OpenCL one (%22 is the double quote: MSBuild passes the filter on unquoted).
filter='DisplayName~device: %22opencl'
test_args=(test "$checkout/tests/IlgpuVae.Tests" -c Release --no-build --filter "${OPENCL_TEST_FILTER:-$filter}" --logger "trx;LogFileName=opencl.trx" "$@")
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 MSBUILDDISABLENODEREUSE=1
# Here the device is the point: its absence fails the cases instead of skipping them (tests' Prerequisites).
export ILGPUVAE_REQUIRE="${ILGPUVAE_REQUIRE:+$ILGPUVAE_REQUIRE,}opencl"

if [ "$OPENCL_ROOT" = / ]; then
  exec dotnet "${test_args[@]}"
fi

root=$OPENCL_ROOT
dotnet_dir=$(dirname "$(readlink -f "$(command -v dotnet)")")
nuget_dir=${NUGET_PACKAGES:+$(dirname "$NUGET_PACKAGES")}
nuget_dir=${nuget_dir:-$HOME/.nuget}
# The golden folder the tests read: $GOLDEN_DIR, or ../shared beside the checkout where it exists.
golden=${GOLDEN_DIR:-}
[ -z "$golden" ] && [ -d "$checkout/../shared/golden" ] && golden=$(cd "$checkout/../shared" && pwd)

mounted=()
bind() { # bind SOURCE: the same path inside the root
  mkdir -p "$root$1"
  mount --bind "$1" "$root$1"
  mounted+=("$root$1")
}
in_root() { # in_root COMMAND…: run it in the root with the SDK on PATH
  chroot "$root" /usr/bin/env -i HOME="$HOME" PATH="$dotnet_dir:/usr/local/bin:/usr/bin:/bin" DOTNET_ROOT="$dotnet_dir" \
    DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 MSBUILDDISABLENODEREUSE=1 DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 \
    ILGPUVAE_REQUIRE="$ILGPUVAE_REQUIRE" ${GOLDEN_DIR:+GOLDEN_DIR="$GOLDEN_DIR"} ${NUGET_PACKAGES:+NUGET_PACKAGES="$NUGET_PACKAGES"} "$@"
}
cleanup() {
  # Test hosts or build servers still running would keep the mounts busy.
  (in_root dotnet build-server shutdown >/dev/null 2>&1) || true
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" || echo "Could not unmount ${mounted[i]}." >&2
  done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for d in /proc /sys /dev "$dotnet_dir" "$nuget_dir" "$checkout"; do bind "$d"; done
[ -n "$golden" ] && [ -d "$golden" ] && case "$golden" in "$checkout"/*) ;; *) bind "$golden" ;; esac
mkdir -p "$root/tmp" && chmod 1777 "$root/tmp"

status=0
in_root sh -c 'cd "$1" && shift && exec dotnet "$@"' sh "$checkout" "${test_args[@]}" || status=$?
exit "$status"
