#!/bin/bash
# Side-by-side training throughput: hybrid158-cli bench gpt (both paths: the real training step
# of the preset, every hybrid part on, and the bare step that does the reference's work) against
# the PyTorch reference in shared/peers (needs python3-torch and libopenblas0-pthread), alternating
# for R rounds. STEPS timed steps each (at least 100 covers one cluster refresh of the presets).
# Usage: bench/gpt_vs_reference.sh [ROUNDS] [STEPS]
R=${1:-2}; STEPS=${2:-100}
HERE="$(cd "$(dirname "$0")/.." && pwd)"
CLI=${CLI:-$HERE/build/app/hybrid158-cli}
PEERS=${PEERS:-$HERE/../shared/peers}
OUT=${OUT:-/tmp/gpt_vs_reference_$(date +%H%M%S).jsonl}
for r in $(seq $R); do
  for p in gpt-s gpt-m; do
    if [ $p = gpt-s ]; then A="--layers 4 --dmodel 128 --heads 4 --ctx 128 --batch 16"; else A="--layers 6 --dmodel 256 --heads 8 --ctx 256 --batch 8"; fi
    for m in fp32 ternary; do
      for path in trainer kernel; do
        echo "{\"round\":$r,\"impl\":\"$path\",\"load\":\"$(cut -d' ' -f1 /proc/loadavg)\",\"r\":$($CLI bench gpt --preset $p --mode $m --steps $STEPS --path $path)}" >> $OUT
      done
      (cd "$PEERS" && echo "{\"round\":$r,\"impl\":\"ref\",\"preset\":\"$p\",\"load\":\"$(cut -d' ' -f1 /proc/loadavg)\",\"r\":$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_WAIT_POLICY=passive /usr/bin/python3 torch_tinygpt.py $A --mode $m --steps $STEPS --threads 2)}") >> $OUT
    done
  done
done
/usr/bin/python3 - $OUT <<'PY'
import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
best={}
for x in rows:
    r=x['r']; p=x.get('preset') or r['preset']; k=(p,r['mode'],x['impl'])
    best.setdefault(k,[]).append(r['tokens_per_s'])
ref = [x['r'] for x in rows if x['impl'] == 'ref'][0]
print(f"PyTorch {ref['torch']}, BLAS {ref['blas_libs']}, env {ref['openblas_env']}")
print("preset mode | trainer path tok/s | kernel path tok/s | reference tok/s | trainer/ref | kernel/ref | trainer/kernel")
for p in ('gpt-s','gpt-m'):
  for m in ('fp32','ternary'):
    t=max(best.get((p,m,'trainer'),[0])); k=max(best.get((p,m,'kernel'),[0])); f=max(best.get((p,m,'ref'),[0]))
    print(f"{p} {m} | {t:.0f} | {k:.0f} | {f:.0f} | {t/f:.2f} | {k/f:.2f} | {t/k:.2f}")
print(sys.argv[1])
PY
