#!/usr/bin/env bash
# Installs what is missing, builds (Release) and opens the workbench on the spirals experiment,
# already running. Extra arguments go to the workbench (e.g. --preset gpt-s).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/scripts/install-deps.sh"
cmake -S "$here" -B "$here/build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$here/build" -j"$(nproc)" --target hybrid158 hybrid158-cli
if [ $# -eq 0 ]; then set -- --preset spirals --run; fi
exec "$here/build/app/hybrid158" "$@"
