#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (clang-14, ASan + UBSan, core and fuzz targets only) in
# build-fuzz and runs each on a copy of its seed corpus (fuzz/corpus/<target>), as many targets
# at a time as there are cores (H158_JOBS=n overrides that), each with the whole limit below.
#   scripts/fuzz.sh               the smoke run: 30 s per target (CI)
#   scripts/fuzz.sh --long N      N seconds per target (the long run, e.g. --long 3600)
#   scripts/fuzz.sh --runs N      N executions per target (README's figures: --runs 1000000)
#   scripts/fuzz.sh [--long N | --runs N] TARGET...   only these (h158 csv config run_dir safetensors lesson)
# Runs every target, then fails if any found a crash, a sanitizer report, a contract violation
# (fuzz/fuzz_contract.h), a hang (over 10 s on one input) or an allocation over 1 GB; the input
# that did it is left in build-fuzz/findings/<target>/ and `build-fuzz/fuzz/fuzz_<target> FILE`
# replays it. New inputs a run found stay in build-fuzz/corpus/<target>/ (the committed seeds are
# never changed); copy the ones worth keeping, such as a fixed crash, to fuzz/corpus/<target>/.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="$here/build-fuzz"

limit=(-max_total_time=30)
if [ "${1:-}" = "--long" ] || [ "${1:-}" = "--runs" ]; then
  [[ "${2:-}" =~ ^[0-9]+$ ]] || { echo "usage: $0 [--long SECONDS | --runs N] [TARGET...]" >&2; exit 2; }
  if [ "$1" = "--long" ]; then limit=(-max_total_time="$2"); else limit=(-runs="$2"); fi
  shift 2
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(h158 csv config run_dir safetensors lesson)
for t in "${targets[@]}"; do
  [ -d "$here/fuzz/corpus/$t" ] || { echo "$0: no target '$t' (no fuzz/corpus/$t)" >&2; exit 2; }
done

"$here/scripts/install-deps.sh"
cmake -S "$here" -B "$build" -DH158_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build" -j"$(nproc)" --target "${targets[@]/#/fuzz_}"

export UBSAN_OPTIONS=print_stacktrace=1
# The targets that read paths write every input to a scratch file: on tmpfs that is ~5x faster.
if [ -z "${TMPDIR:-}" ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi
# Each target is one single-threaded process, so the targets run side by side, one per core
# (H158_JOBS=n overrides nproc): each still gets its whole time limit, on a core of its own.
fuzz_one() {
  local t="$1" work="$build/corpus/$1" findings="$build/findings/$1" log="$build/fuzz-$1.log"
  local dict=() status=0
  case $t in config | run_dir | safetensors | lesson) dict=(-dict="$here/fuzz/json.dict") ;; esac
  "$build/fuzz/fuzz_$t" "$work" "${dict[@]}" "${limit[@]}" -timeout=10 \
    -rss_limit_mb=2048 -malloc_limit_mb=1024 -artifact_prefix="$findings/" -print_final_stats=1 \
    >"$log" 2>&1 || status=$?
  echo "$status" >"$build/fuzz-$t.status"
}
jobs="${H158_JOBS:-$(nproc)}"
for t in "${targets[@]}"; do
  work="$build/corpus/$t" findings="$build/findings/$t"
  rm -rf "$work" "$findings" "$build/fuzz-$t.status"
  mkdir -p "$work" "$findings"
  cp "$here/fuzz/corpus/$t"/* "$work/"
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  echo "== fuzz_$t: ${limit[*]} on $(ls "$work" | wc -l) seeds"
  fuzz_one "$t" &
done
wait
failed=()
for t in "${targets[@]}"; do
  work="$build/corpus/$t" findings="$build/findings/$t" log="$build/fuzz-$t.log"
  status=$(cat "$build/fuzz-$t.status" 2>/dev/null || echo "?")
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  echo "== fuzz_$t: ${runs:-?} executions, corpus $(ls "$work" | wc -l) inputs, exit $status"
  if [ "$status" != 0 ]; then
    grep -a -E -A30 'contract violation|runtime error|^==[0-9]+==|ALARM|out-of-memory' "$log" |
      head -60 >&2 || tail -40 "$log" >&2
    echo "   fuzz_$t FAILED: the input is in $findings/, the log in $log" >&2
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran (${limit[*]}) without a finding"
