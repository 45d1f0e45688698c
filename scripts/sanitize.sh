#!/usr/bin/env bash
# Sanitizer builds for CI. build-asan: AddressSanitizer + UndefinedBehaviorSanitizer (with
# LeakSanitizer) over the core, the CLI and every suite that is not a workbench one: the parsers
# (configs, CSV, safetensors, .h158, checkpoints, run directories, events, lessons, sweeps, Slurm),
# the kernels, the models and the trainer. The workbench suites run in the Release build and,
# where they run our threads, under ThreadSanitizer; test_learning (a learning regression: minutes
# of gpt-s training, no code path the trainer and model suites do not already run under ASan) runs
# in Release only. Leaving the workbench out of the ASan build saves compiling it instrumented,
# which kept .ci/run over its time budget. build-tsan: ThreadSanitizer over the suites that run
# our own threads (TSAN_TESTS below).
# Both are Release (-O3) builds. build-asan uses clang-14 (it compiles with these sanitizers about
# 3x faster than GCC 12) and, as no build contracts a*b + c into an FMA (-ffp-contract=off),
# test_golden_metrics sees the same bits as the GCC Release build. build-tsan uses GCC: clang-14's
# ThreadSanitizer aborts a child that Qt's QProcess starts (a CHECK in its clone interceptor),
# GCC 12's does not. Debian's Qt is not instrumented: tests/tsan.supp says what that means.
# Every report is also written to a log file; the script fails if a test fails or any log
# exists, so a report from a child process (the CLI that a test spawns) cannot go unnoticed
# even when the test expected that process to fail.
#   scripts/sanitize.sh [asan|tsan]...   (default: both)   H158_JOBS=n overrides -j"$(nproc)"
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
jobs="${H158_JOBS:-$(nproc)}"

# The suites whose code runs on more than one thread of our own: the thread pool behind
# parallelFor (k-means, the GPT, the bit kernels, TernGrad), the trainer end to end (which also
# builds trainers with different thread counts), and the workbench, whose window hands commands to
# its run worker's thread and takes rows back through a mutex-guarded mailbox (ui/run_mailbox.h):
# stepping in stages, the speed throttle and weight maps (test_gui_stages), and a lesson's
# run-until, which the worker checks on every row (test_gui_lessons).
TSAN_TESTS=(test_trainer test_kmeans test_gpt_model test_bit_kernels test_terngrad
            test_gui_controller test_gui_main_window test_gui_config_panel test_gui_random
            test_gui_history_bounds test_gui_sweep test_gui_runs_table test_gui_stages
            test_gui_lessons test_gui_intervene)

"$here/scripts/install-deps.sh"

# Runs ctest in build dir $1 with the sanitizer environment; remaining arguments go to ctest.
# Fails when a test fails or a sanitizer wrote a report.
run_ctest() {
    local build="$1"; shift
    local logs="$build/sanitizer-logs"
    rm -rf "$logs" && mkdir -p "$logs"
    local status=0
    (
        cd "$build"
        export QT_QPA_PLATFORM=offscreen
        export ASAN_OPTIONS="log_path=$logs/asan:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:detect_leaks=1"
        export UBSAN_OPTIONS="log_path=$logs/ubsan:print_stacktrace=1:halt_on_error=1"
        export LSAN_OPTIONS="print_suppressions=0"
        # die_after_fork=0: QProcess starts a child with vfork-like clone(CLONE_VM), and GCC 12's
        # TSan then takes the parent for a forked child and kills it when it next starts a thread
        # (a suite that starts a CLI and then a run worker). The child calls exec at once.
        export TSAN_OPTIONS="log_path=$logs/tsan:suppressions=$here/tests/tsan.supp:second_deadlock_stack=1:history_size=4:die_after_fork=0"
        ctest --output-on-failure -j"$jobs" "$@"
    ) || status=$?
    if compgen -G "$logs/*" > /dev/null; then
        for f in "$logs"/*; do
            echo "==== sanitizer report: $f"
            cat "$f"
        done
        echo "sanitizer reports in $logs" >&2
        status=1
    fi
    return "$status"
}

# (The steps are chained with && because set -e does not apply inside a function called from ||.)
asan() {
    cmake -S "$here" -B "$here/build-asan" -DCMAKE_BUILD_TYPE=Release \
          -DCMAKE_CXX_COMPILER=clang++-14 -DH158_SANITIZE=address,undefined \
          -DH158_BUILD_BENCH=OFF -DH158_BUILD_GUI=OFF &&
        cmake --build "$here/build-asan" -j"$jobs" &&
        run_ctest "$here/build-asan" -E '^test_learning$'
}

tsan() {
    local regex
    regex="^($(IFS='|'; echo "${TSAN_TESTS[*]}"))\$"
    cmake -S "$here" -B "$here/build-tsan" -DCMAKE_BUILD_TYPE=Release -DH158_SANITIZE=thread &&
        cmake --build "$here/build-tsan" -j"$jobs" --target "${TSAN_TESTS[@]}" &&
        run_ctest "$here/build-tsan" -R "$regex"
}

steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(asan tsan)
failed=()
for s in "${steps[@]}"; do
    case "$s" in
        asan|tsan) "$s" || failed+=("$s") ;;
        *) echo "unknown step '$s' (asan or tsan)" >&2; exit 2 ;;
    esac
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "sanitizer builds failed: ${failed[*]}" >&2
    exit 1
fi
echo "sanitizer builds clean: ${steps[*]}"
