#!/usr/bin/env bash
# Bad inputs of scripts/device/build: each is one line on stderr naming what is wrong, exit
# status 2, before anything is extracted or configured. Uses this machine's python3 torch
# (Debian's, CPU-only) as the LibTorch. Run by ctest (device_build_inputs).
set -uo pipefail
cd "$(dirname "$0")/../../.."
export PYTHON=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

# expect NAME EXPECTED_RC REGEX -- ARGS...: runs the build, checks status and the one stderr line.
expect() {
  local name=$1 want_rc=$2 regex=$3
  shift 4
  scripts/device/build "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" != "$want_rc" ] || ! grep -qE -e "$regex" "$tmp/err" "$tmp/out" ||
     { [ "$want_rc" = 2 ] && [ "$(wc -l <"$tmp/err")" != 1 ]; }; then
    echo "FAIL $name: rc $rc (want $want_rc), stderr:"; cat "$tmp/err"; failures=$((failures + 1))
  else
    echo "ok   $name: $(cat "$tmp/err" "$tmp/out" | head -1)"
  fi
}

# A well-formed bundle of one (dummy) package.
good=$tmp/good
mkdir -p "$good"
echo dummy >"$good/libdummy_1.0_amd64.deb"
printf 'debian_release bookworm\narchitecture amd64\ndeb libdummy 1.0 libdummy_1.0_amd64.deb 0\n' >"$good/MANIFEST"

expect missing-bundle 2 "bundle folder '$tmp/none' is missing: run scripts/device/bundle" -- \
  --bundle "$tmp/none" --cpu --check-only
mkdir -p "$tmp/nomanifest"
expect no-manifest 2 "has no MANIFEST" -- --bundle "$tmp/nomanifest" --cpu --check-only
cp -r "$good" "$tmp/trixie"
sed -i 's/bookworm/trixie/' "$tmp/trixie/MANIFEST"
expect other-release 2 "is from Debian 'trixie', this build needs Debian bookworm" -- \
  --bundle "$tmp/trixie" --cpu --check-only
cp -r "$good" "$tmp/lacking"
printf 'deb libother 2.0 libother_2.0_amd64.deb 0\n' >>"$tmp/lacking/MANIFEST"
expect missing-deb 2 "lacks libother_2.0_amd64.deb" -- --bundle "$tmp/lacking" --cpu --check-only
expect cpu-torch-for-cuda 2 "has no CUDA \(no libtorch_cuda.so\): pass a CUDA LibTorch with --torch, or --cpu" -- \
  --bundle "$good" --check-only
expect torch-not-a-folder 2 "--torch '$tmp/nowhere' is not a folder" -- \
  --bundle "$good" --torch "$tmp/nowhere" --cpu --check-only
mkdir -p "$tmp/empty-torch"
expect torch-without-package 2 "holds neither Torch/TorchConfig.cmake nor include" -- \
  --bundle "$good" --torch "$tmp/empty-torch" --cpu --check-only
expect unknown-argument 2 "unknown argument '--frobnicate'" -- --frobnicate
expect valid-cpu 0 "inputs valid \(--check-only\)" -- --bundle "$good" --cpu --check-only

((failures == 0)) || { echo "$failures case(s) failed"; exit 1; }
echo "all cases passed"
