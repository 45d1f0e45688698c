#!/bin/bash
# Side-by-side training throughput: hybrid158-cli bench gpt vs the PyTorch reference in
# shared/peers (needs python3-torch and libopenblas0-pthread), alternating for R rounds.
# Usage: bench/gpt_vs_reference.sh [ROUNDS] [STEPS]
R=${1:-3}; STEPS=${2:-20}
HERE="$(cd "$(dirname "$0")/.." && pwd)"
CLI=${CLI:-$HERE/build/app/hybrid158-cli}
PEERS=${PEERS:-$HERE/../shared/peers}
OUT=${OUT:-/tmp/gpt_vs_reference_$(date +%H%M%S).jsonl}
for r in $(seq $R); do
  for p in gpt-s gpt-m; do
    if [ $p = gpt-s ]; then A="--layers 4 --dmodel 128 --heads 4 --ctx 128 --batch 16"; else A="--layers 6 --dmodel 256 --heads 8 --ctx 256 --batch 8"; fi
    for m in fp32 ternary; do
      echo "{\"round\":$r,\"impl\":\"ours\",\"load\":\"$(cut -d' ' -f1 /proc/loadavg)\",\"r\":$($CLI bench gpt --preset $p --mode $m --steps $STEPS)}" >> $OUT
      (cd "$PEERS" && echo "{\"round\":$r,\"impl\":\"ref\",\"preset\":\"$p\",\"load\":\"$(cut -d' ' -f1 /proc/loadavg)\",\"r\":$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_WAIT_POLICY=passive /usr/bin/python3 torch_tinygpt.py $A --mode $m --steps $STEPS --threads 2)}") >> $OUT
    done
  done
done
python3 - $OUT <<'PY'
import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
best={}
for x in rows:
    r=x['r']; p=x.get('preset') or r['preset']; k=(p,r['mode'],x['impl'])
    best.setdefault(k,[]).append(r['tokens_per_s'])
print("preset mode | ours best (all) | ref best (all) | ratio of bests")
for p in ('gpt-s','gpt-m'):
  for m in ('fp32','ternary'):
    o=best.get((p,m,'ours'),[0]); f=best.get((p,m,'ref'),[0])
    print(f"{p} {m} | {max(o):.0f} {[round(v) for v in o]} | {max(f):.0f} {[round(v) for v in f]} | {max(o)/max(f):.2f}")
print(sys.argv[1])
PY
