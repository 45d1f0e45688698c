#!/usr/bin/env bash
# The Slurm backend of sweeps, end to end on a real (single-node, local) Slurm: starts one with
# scripts/slurm-local.sh, submits a 2 x 2 sweep with `hybrid158-cli sweep --backend slurm`, waits
# for it with `sweep status`, checks every run directory, checks that submitting again skips the
# completed runs, and stops the daemons it started. Needs root (slurmd), and a built CLI:
#   scripts/slurm-test.sh [BUILD_DIR]      (default: build)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="$(cd "${1:-$here/build}" && pwd)"
cli="$build/app/hybrid158-cli"
[ -x "$cli" ] || { echo "slurm-test: no $cli (build first)" >&2; exit 2; }

scratch="$(mktemp -d /tmp/h158-slurm.XXXXXX)"
chmod 755 "$scratch"
cluster="$scratch/cluster"
cleanup() {
    local status=$?
    bash "$here/scripts/slurm-local.sh" stop "$cluster" || status=1
    if [ "$status" -ne 0 ]; then
        echo "==== slurm-test failed; logs:" >&2
        tail -n 30 "$cluster"/log/*.log "$scratch"/sweep/slurm/*.out 2> /dev/null >&2 || true
    fi
    rm -rf "$scratch"
    exit "$status"
}
trap cleanup EXIT

start=$SECONDS
eval "$(bash "$here/scripts/slurm-local.sh" start "$cluster")"  # exports SLURM_CONF
echo "slurm-test: cluster up in $((SECONDS - start)) s ($(sinfo -h -o '%P %D nodes %t'))"

cd "$scratch"
"$cli" sweep --backend slurm --preset seed-linear --steps 120 --grid optim.lr=0.01,0.003 \
    --grid trust.enabled=true,false --out sweep
echo "slurm-test: submitted; squeue:"
squeue -h -r -o "%i %t" || true

# Wait for every task (sweep status prints one line per run and a JSON line of counts).
deadline=$((SECONDS + 300))
while :; do
    status="$("$cli" sweep status sweep)"
    counts="$(printf '%s\n' "$status" | tail -n 1)"
    if ! printf '%s' "$counts" | grep -Eq '"(pending|running)":[1-9]'; then break; fi
    if [ "$SECONDS" -gt "$deadline" ]; then
        echo "slurm-test: the sweep did not finish in 300 s" >&2
        printf '%s\n' "$status" >&2
        exit 1
    fi
    sleep 1
done
printf '%s\n' "$status"
printf '%s' "$counts" | grep -q '"completed":4' ||
    { echo "slurm-test: not every run completed: $counts" >&2; exit 1; }

# Every run directory is a complete run, written by its own array task.
n=0
for run in sweep/[0-9][0-9][0-9]-*/; do
    n=$((n + 1))
    for f in config.json metrics.csv summary.json; do
        [ -s "$run/$f" ] || { echo "slurm-test: $run has no $f" >&2; exit 1; }
    done
    grep -q '"status": *"completed"' "$run/summary.json" ||
        { echo "slurm-test: $run did not complete" >&2; exit 1; }
    rows=$(($(wc -l < "$run/metrics.csv") - 1))
    [ "$rows" -eq 120 ] || { echo "slurm-test: $run has $rows rows, not 120" >&2; exit 1; }
done
[ "$n" -eq 4 ] || { echo "slurm-test: $n run directories, not 4" >&2; exit 1; }
grep -q "completed" sweep/summary.csv || { echo "slurm-test: no summary.csv rows" >&2; exit 1; }

# Submitting again skips the completed runs: nothing to submit, no new job.
jobs_before="$(wc -l < sweep/slurm/jobs.txt)"
again="$("$cli" sweep --backend slurm --out sweep 2>&1)"
printf '%s\n' "$again"
printf '%s' "$again" | grep -q "nothing to submit" ||
    { echo "slurm-test: a second submission did not skip the completed runs" >&2; exit 1; }
[ "$(wc -l < sweep/slurm/jobs.txt)" -eq "$jobs_before" ] ||
    { echo "slurm-test: a second submission submitted a job" >&2; exit 1; }

echo "slurm-test: 4 runs completed on Slurm in $((SECONDS - start)) s"
