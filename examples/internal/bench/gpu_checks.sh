#!/usr/bin/env bash
# The first device call on a GPU machine: everything that proves the CUDA
# paths correct, as opposed to fast (gpu_grid.sh, the second call, times
# them). Results go under ${OUT:-.}: each step writes its own file, and a
# failing step does not stop the others.
#
#   bash examples/internal/bench/device_pack.sh && cp PATH/TO/hf_bench.py .device/
#   device run (carry .device):  OUT=$OUT bash examples/internal/bench/gpu_checks.sh
#
# 1. setup against the machine's CUDA torch (bbshim: fused AdamW, allocator
#    statistics and cap, CUDA graphs; what did not compile is switched off
#    and printed);
# 2. the HF cross-check: bert/testdata regenerated with the real
#    transformers (gen_fixtures.py uses it when importable; the new files
#    come back as bert-testdata.tgz), then every bert test against them,
#    including TestCUDAMatchesCPU (1e-4) and the CUDA bf16/fp16 tests;
# 3. the CUDA-only tests of the other packages (pinned uploads, memory cap,
#    fused AdamW, fp16 loss scaling, CUDA graph replay against eager steps
#    in bench and in the NER trainer);
# 4. the quickstart end to end on CUDA (pretraining + NER fine-tuning), and
#    its two saved models loaded by transformers' from_pretrained
#    (check_go_saved.py) next to `biobertpt forward` on the same input.
set -uo pipefail
out=${OUT:-.}
mkdir -p "$out"
source .device/env.sh
unset GOFLAGS # an env.sh that sets -mod=mod would let offline builds try to edit go.mod
step() { # step NAME COMMAND...: run, keep the output and the status
  local name=$1
  shift
  echo "== $name" >&2
  "$@" >"$out/$name.txt" 2>&1
  echo "$name: exit $?" | tee -a "$out/summary.txt" >&2
}

step setup go run ./examples/setup
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >"$out/gpu.txt" 2>&1
python3 -c 'import torch, transformers; print("torch", torch.__version__, "cuda", torch.version.cuda, "transformers", transformers.__version__)' >"$out/versions.txt" 2>&1

step gen_fixtures python3 bert/testdata/gen_fixtures.py
tar czf "$out/bert-testdata.tgz" bert/testdata
step bert_tests go test -count=1 -v ./bert/
step cuda_tests go test -count=1 -v -run 'CUDA|FP16|PinMemory|Graph|MaxMemory|LimitMemory|Fused' \
  ./examples/internal/bench/ ./internal/tensors/ ./internal/torchutil/ ./internal/optim/ ./ner/
step optim_tests go test -count=1 ./internal/optim/ ./pretrain/ ./ner/

step quickstart go run ./examples/quickstart -device cuda -out "$out/quickstart"
go build -o /tmp/biobertpt ./examples/biobertpt
cat >/tmp/input.json <<'EOF'
{"input_ids": [[2, 15, 27, 301, 44, 9, 3, 0], [2, 88, 120, 7, 3, 0, 0, 0]],
 "attention_mask": [[1, 1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 0, 0, 0]],
 "token_type_ids": [[0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0]]}
EOF
for pair in "pretrain/final mlm" "ner/best token-classification"; do
  read -r dir head <<<"$pair"
  name=$(echo "$dir" | tr / _)
  /tmp/biobertpt forward -model "$out/quickstart/$dir" -head "$head" -input /tmp/input.json \
    >"$out/go_forward_$name.txt" 2>"$out/go_forward_$name.err"
  echo "go_forward_$name: exit $?" >>"$out/summary.txt"
  python3 bert/testdata/check_go_saved.py "$out/quickstart/$dir" /tmp/input.json \
    >"$out/hf_forward_$name.txt" 2>"$out/hf_forward_$name.err"
  echo "hf_forward_$name: exit $?" >>"$out/summary.txt"
  python3 - "$out/go_forward_$name.txt" "$out/hf_forward_$name.txt" >>"$out/summary.txt" 2>&1 <<'EOF'
import json, sys
def flat(x):
    return [v for r in x for v in flat(r)] if isinstance(x, list) else [x]
go, hf = (json.load(open(p)) for p in sys.argv[1:3])
k = "logits"
a, b = flat(go[k]), flat(hf[k])
print(sys.argv[1], "vs check_go_saved.py (transformers when importable): max |diff|", max(abs(x - y) for x, y in zip(a, b)), "over", len(a), "values")
EOF
done
cat "$out/summary.txt"
