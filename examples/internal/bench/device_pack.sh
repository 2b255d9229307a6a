#!/usr/bin/env bash
# Packs what the GPU machine (no network, no Go) needs into .device/: a
# trimmed Go toolchain, the module cache of this module's build list, and
# env.sh. This project builds gotch from the patched copy that setup writes
# into .biobertpt/gotch (go.mod's replace; internal/torchsetup):
#   - the build list is read with GOWORK=off, and `go list -e` tolerates the
#     bbshim package, which exists only in the patched copy;
#   - gotch v0.9.1's source stays in the cache: setup copies it on the GPU
#     machine to make that machine's patched copy;
#   - env.sh does not set GOFLAGS=-mod=mod, which Go refuses when a
#     workspace (go.work) is in use.
# Run from the project root; carry the folder it prints:
#   bash examples/internal/bench/device_pack.sh && cp PATH/TO/hf_bench.py .device/
# On the GPU machine: source .device/env.sh && go run ./examples/setup && …
set -euo pipefail
out=${1:-.device}
mkdir -p "$out"
grep -qx "/$out/" .git/info/exclude 2>/dev/null || echo "/$out/" >>.git/info/exclude

goroot=$(go env GOROOT)
if [ ! -s "$out/go.tar.xz" ] || [ "$(cat "$out/go.version" 2>/dev/null)" != "$(go version)" ]; then
  echo "packing the Go toolchain from $goroot ..." >&2
  (cd "$(dirname "$goroot")" && tar --exclude='go/src/cmd' --exclude='*_test.go' \
    --exclude='testdata' --exclude='go/test' --exclude='go/doc' --exclude='go/api' \
    --exclude='go/misc' --exclude='go/pkg/tool/*/fix' --exclude='go/pkg/tool/*/preprofile' \
    -cJf - go/bin go/pkg/tool go/pkg/include go/src go/go.env go/VERSION) >"$out/go.tar.xz"
  go version >"$out/go.version"
fi

echo "packing the module cache of the build list ..." >&2
mc=$(mktemp -d)
trap 'chmod -R u+w "$mc" 2>/dev/null; rm -rf "$mc"' EXIT
# A copy of go.mod and go.sum takes what `download all` records, so the
# checkout's files stay as committed.
cp go.mod "$mc/pack.mod" && cp go.sum "$mc/pack.sum"
export GOWORK=off GOFLAGS="-mod=mod -modfile=$mc/pack.mod"
GOMODCACHE=$mc go mod download all
keep=$(GOMODCACHE=$mc go list -e -deps -test -f '{{with .Module}}{{.Dir}}{{end}}' ./... | sort -u)
# go.mod replaces gotch with .biobertpt/gotch, which setup fills on the GPU
# machine from gotch's own source: fetch that by version.
(cd "$mc" && GOMODCACHE=$mc GOFLAGS= go mod download github.com/sugarme/gotch@v0.9.1)
rm -f "$mc/pack.mod" "$mc/pack.sum"
gotch="$mc/github.com/sugarme/gotch@v0.9.1"
[ -f "$gotch/libtch/torch_api.cpp" ] || { echo "device_pack: $gotch is missing" >&2; exit 1; }
keep=$(printf '%s\n%s\n' "$keep" "$gotch")
find "$mc" -mindepth 1 -type d -name '*@*' -not -path "$mc/cache/*" -prune | while read -r d; do
  grep -qxF "$d" <<<"$keep" || { chmod -R u+w "$d"; rm -rf "$d"; }
done
# gotch's examples and code generator are not needed to build it.
find "$gotch" -maxdepth 1 -type d \( -name example -o -name gen \) -exec chmod -R u+w {} + -exec rm -rf {} +
find "$mc/cache/download" -name '*.zip' -delete
tar -C "$mc" -cJf "$out/gomod.tar.xz" .

cat >"$out/env.sh" <<'ENV'
# source me on the GPU machine (bash examples/internal/bench/device_pack.sh made me)
_d=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ ! -x /opt/go/bin/go ]; then mkdir -p /opt && tar -xJf "$_d/go.tar.xz" -C /opt; fi
mkdir -p /root/go/pkg/mod && tar -xJf "$_d/gomod.tar.xz" -C /root/go/pkg/mod 2>/dev/null || true
export PATH=/opt/go/bin:$PATH GOROOT=/opt/go GOTOOLCHAIN=local GOPROXY=off GOSUMDB=off
unset GOFLAGS
export LIBTORCH=$(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__))')
export LD_LIBRARY_PATH=$LIBTORCH/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
ENV
du -sh "$out"/* >&2
echo "$out"
