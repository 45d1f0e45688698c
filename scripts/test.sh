#!/usr/bin/env bash
# Installs what is missing, builds (Release) and runs every test suite with CTest.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/scripts/install-deps.sh"
cmake -S "$here" -B "$here/build" -DCMAKE_BUILD_TYPE=Release
# the suites and the two programs; the benchmarks are compiled by scripts/package-test.sh
cmake --build "$here/build" -j"$(nproc)" --target h158_tests hybrid158 hybrid158-cli
cd "$here/build"
QT_QPA_PLATFORM=offscreen ctest --output-on-failure -j"$(nproc)" "$@"
