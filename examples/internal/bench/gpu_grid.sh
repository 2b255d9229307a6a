#!/usr/bin/env bash
# Runs the BENCHMARKS.md GPU grid with `biobertpt bench` and, in the same call, the HF
# reference (hf_bench.py --all), on the GPU machine. JSON lines go to
# ${OUT:-.}/ours.jsonl and ${OUT:-.}/hf.jsonl; a failed configuration is
# recorded as {"task",...,"error"} as hf_bench.py does.
#
#   bash examples/internal/bench/device_pack.sh && cp PATH/TO/hf_bench.py .device/
#   device run (carry .device):  bash examples/internal/bench/gpu_grid.sh
set -uo pipefail
out=${OUT:-.}
source .device/env.sh
unset GOFLAGS # an env.sh that sets -mod=mod would let offline builds try to edit go.mod
# setup installs the bbshim package (TF32 switch, fused AdamW, CUDA
# allocator stats) into the patched gotch; no build tags or flags needed.
go run ./examples/setup >&2 || exit 1
go build -o /tmp/biobertpt ./examples/biobertpt || exit 1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >&2

grid=("ner 4 256 fp32" "ner 4 256 tf32" "ner 4 256 bf16" "mlm 4 512 fp32" "mlm 4 512 tf32" "mlm 4 512 bf16"
      "ner 32 256 bf16" "mlm 32 512 bf16" "ner 32 256 tf32" "mlm 32 512 tf32")
for row in "${grid[@]}"; do
  read -r task batch seq dtype <<<"$row"
  if ! /tmp/biobertpt bench -device cuda -config mbert -task "$task" -batch "$batch" -seq "$seq" -dtype "$dtype" \
       -steps 30 -warmup 5 -json >>"$out/ours.jsonl" 2>/tmp/bench.err; then
    python3 -c 'import json,sys; t,b,s,d=sys.argv[1:5]; print(json.dumps({"task":t,"batch":int(b),"seq":int(s),"dtype":d,"error":open("/tmp/bench.err").read()[-300:]}))' \
      "$task" "$batch" "$seq" "$dtype" >>"$out/ours.jsonl"
  fi
  tail -n1 "$out/ours.jsonl"
done
# AdamW kernel lever: the batch-4 NER row with each kernel (fused is the default).
for impl in foreach single-tensor; do
  /tmp/biobertpt bench -device cuda -config mbert -task ner -batch 4 -seq 256 -dtype tf32 -adamw "$impl" \
    -steps 30 -warmup 5 -json >>"$out/ours_adamw.jsonl" 2>>/tmp/bench.err || echo "{\"adamw\":\"$impl\",\"error\":true}" >>"$out/ours_adamw.jsonl"
  tail -n1 "$out/ours_adamw.jsonl"
done
# Other levers on the batch-4 rows: separate q/k/v matmuls (fused is the
# CUDA default), the whole step as a CUDA graph, fp16 with loss scaling,
# and the 12 GB-card cap.
for extra in "ner 4 256 tf32 -qkv separate" "mlm 4 512 bf16 -qkv separate" \
             "ner 4 256 tf32 -cuda-graph" "ner 4 256 bf16 -cuda-graph" "mlm 4 512 bf16 -cuda-graph" "ner 32 256 bf16 -cuda-graph" \
             "ner 4 256 fp16" "mlm 4 512 fp16" \
             "ner 4 256 bf16 -max-memory 11" "mlm 4 512 bf16 -max-memory 11" "mlm 4 512 fp32 -max-memory 11"; do
  read -r task batch seq dtype flags <<<"$extra"
  # shellcheck disable=SC2086
  /tmp/biobertpt bench -device cuda -config mbert -task "$task" -batch "$batch" -seq "$seq" -dtype "$dtype" $flags \
    -steps 30 -warmup 5 -json >>"$out/ours_levers.jsonl" 2>>/tmp/bench.err ||
    echo "{\"row\":\"$extra\",\"error\":$(tail -c 300 /tmp/bench.err | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')}" >>"$out/ours_levers.jsonl"
  tail -n1 "$out/ours_levers.jsonl"
done
python3 .device/hf_bench.py --all --out "$out/hf.jsonl" >/dev/null
cat "$out/hf.jsonl"
