#!/usr/bin/env bash
# Data-parallel pretraining on the CPU: ms per optimizer step with 1 rank
# (batch 4, OMP_NUM_THREADS=2) and 2 ranks (biobertpt launch, batch 2 each,
# one thread each), the same effective batch of 4 blocks of 32 tokens, for
# the tiny and small configs; rank 0 reports the gradient all-reduce time
# and bytes per step. Step time: metrics.jsonl timestamps from step 2 to
# the last step.
#
#   go run ./examples/internal/bench/ddpprep DIR && go build -o DIR/biobertpt ./examples/biobertpt
#   cd DIR && bash PATH/TO/examples/internal/bench/ddp_bench.sh
set -u
B=${BIOBERTPT:-./biobertpt}
run() { # name config vocab ranks steps
  local name=$1 cfg=$2 voc=$3 n=$4 steps=$5 out=out-$1-$4
  rm -rf $out
  local args=(pretrain -config $cfg -vocab $voc -corpus notes.txt -out $out -max-steps $steps -block-size 32 -log-steps 1 -validation-fraction 0)
  if [ $n = 1 ]; then OMP_NUM_THREADS=2 $B "${args[@]}" -batch 4 >$out.log 2>&1
  else $B launch -nproc 2 -- "${args[@]}" -batch 2 >$out.log 2>&1; fi
  echo "rc=$?" >>$out.log
  python3 - $out $steps $n <<'PY'
import json,sys,datetime
out,steps,n=sys.argv[1],int(sys.argv[2]),sys.argv[3]
L=[json.loads(l) for l in open(out+'/metrics.jsonl') if '"train"' in l]
t=lambda s: datetime.datetime.fromisoformat(s['time'].replace('Z','')[:26])
a=[x for x in L if x['step']==2][0]; b=L[-1]
print(out, "ranks", n, "ms/step %.1f" % ((t(b)-t(a)).total_seconds()*1e3/(b['step']-2)))
PY
  grep -h 'all-reduce\|effective' $out.log | head -3
}
run tiny tiny.json vocab.txt 1 60
run tiny tiny.json vocab.txt 2 60
run small small.json vocab-small.txt 1 12
run small small.json vocab-small.txt 2 12
