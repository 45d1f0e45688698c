#!/usr/bin/env bash
# Learning-curve parity with PyTorch (bench/learning_vs_reference.py): same text, same starting
# weights, same windows, same settings; validation loss side by side every run.eval_every steps.
# Needs python3-torch (Debian). Example, the reference's settings in fp32 on the fortunes text:
#   bench/fortunes_corpus.sh /tmp/fortunes.txt
#   bench/learning_vs_reference.sh --text /tmp/fortunes.txt --set quant.weights=none \
#       --set quant.activations=none --set optim.lr=1.5e-3 --set optim.schedule=constant \
#       --set optim.warmup=0 --set trust.enabled=false --set aux.enabled=false --set cluster.data_k=0
# PyTorch runs with the BLAS environment that was fastest here (shared/peers/README.md).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
exec env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_WAIT_POLICY=passive OPENBLAS_NUM_THREADS=2 \
    /usr/bin/python3 bench/learning_vs_reference.py "$@"
