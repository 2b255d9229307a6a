#!/usr/bin/env bash
# One device call that compiles and runs the NCCL path on a GPU machine:
# setup against the machine's CUDA torch (the summary's "distributed" line
# says whether NCCL compiled, and why not), the CUDA tests of internal/dist
# (a one-rank NCCL group: collectives and the reducer on CUDA tensors;
# NCCL refuses two ranks on one GPU), the CPU multi-process tests, and the
# gradient all-reduce benchmark over Gloo on the machine's cores.
#
#   bash examples/internal/bench/device_pack.sh
#   device run (carry .device):  OUT=$OUT bash internal/dist/gpu_dist.sh
set -uo pipefail
out=${OUT:-.}
mkdir -p "$out"
source .device/env.sh
unset GOFLAGS # go.work refuses -mod=mod
step() { # step NAME COMMAND...: run, keep the output and the status
  local name=$1
  shift
  echo "== $name" >&2
  "$@" >"$out/$name.txt" 2>&1
  echo "$name: exit $?" | tee -a "$out/summary.txt" >&2
}
step setup go run ./internal/setup
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >"$out/gpu.txt" 2>&1
step dist_cuda go test -count=1 -v -run 'NCCL|SingleRank|MissingBackend' ./internal/dist/
step dist_tests go test -count=1 ./internal/dist/ ./internal/torchsetup/
step dist_bench go test -count=1 -run '^$' -bench ReducerSync -benchtime 5x ./internal/dist/
grep -h -E '^(distributed|devices)' "$out/setup.txt" >>"$out/summary.txt"
