#!/usr/bin/env bash
# One device call that compiles and runs the NCCL path on a GPU machine:
# setup against the machine's CUDA torch (the summary's "distributed" line
# says whether NCCL compiled, and why not), the CUDA tests of internal/dist
# (a one-rank NCCL group: collectives and the reducer on CUDA tensors;
# NCCL refuses two ranks on one GPU), the CPU multi-process tests, and the
# gradient all-reduce benchmark over Gloo on the machine's cores, and a tiny
# pretraining run of the training engine on a one-rank NCCL group.
#
#   bash examples/internal/bench/device_pack.sh
#   device run (carry .device):  OUT=$OUT bash internal/dist/gpu_dist.sh
set -uo pipefail
out=${OUT:-.}
mkdir -p "$out"
source .device/env.sh
unset GOFLAGS # builds use go.mod and go.sum as committed
step() { # step NAME COMMAND...: run, keep the output and the status
  local name=$1
  shift
  echo "== $name" >&2
  "$@" >"$out/$name.txt" 2>&1
  echo "$name: exit $?" | tee -a "$out/summary.txt" >&2
}
step setup go run ./examples/setup
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >"$out/gpu.txt" 2>&1
step dist_cuda go test -count=1 -v -run 'NCCL|SingleRank|MissingBackend' ./internal/dist/
step dist_tests go test -count=1 ./internal/dist/ ./internal/torchsetup/
step dist_bench go test -count=1 -run '^$' -bench ReducerSync -benchtime 5x ./internal/dist/
# The training engine on a one-rank NCCL group (BIOBERTPT_DISTRIBUTED=1):
# broadcast, the bucketed gradient all-reduce on CUDA tensors and the sharded
# validation, in a tiny pretraining run; its losses must equal the plain
# one-process run's.
ddp=$(mktemp -d)
step ddp_prep go run ./examples/internal/bench/ddpprep "$ddp"
step ddp_build go build -o "$ddp/biobertpt" ./examples/biobertpt
ddp_args=(pretrain -device cuda -config "$ddp/tiny.json" -vocab "$ddp/vocab.txt" -corpus "$ddp/notes.txt" -batch 4 -max-steps 20 -block-size 32 -log-steps 1 -validation-fraction 0.05)
step ddp_plain "$ddp/biobertpt" "${ddp_args[@]}" -out "$ddp/plain"
step ddp_nccl env BIOBERTPT_DISTRIBUTED=1 "$ddp/biobertpt" "${ddp_args[@]}" -out "$ddp/nccl"
grep -h 'backend\|all-reduce' "$out/ddp_nccl.txt" >>"$out/summary.txt"
step ddp_same_losses python3 -c "import json,sys
f=lambda d:[(j['step'],j.get('loss'),j.get('perplexity')) for j in map(json.loads,open(d+'/metrics.jsonl'))]
a,b=f(sys.argv[1]),f(sys.argv[2]); print(len(a),'lines; max loss difference',max(abs((x[1] or 0)-(y[1] or 0)) for x,y in zip(a,b))); sys.exit(0 if len(a)==len(b) and len(a)>0 else 1)" "$ddp/plain" "$ddp/nccl"
grep -h -E '^(distributed|devices)' "$out/setup.txt" >>"$out/summary.txt"
