#!/usr/bin/env bash
# The Debian package, built and tried as a user gets it: a portable Release build (plain x86-64,
# -DH158_NATIVE=OFF; the integer kernels still choose AVX-512 VNNI / AVX2 at run time) in
# build-pkg, `cpack -G DEB`, then the .deb unpacked into a scratch root, where the installed
# hybrid158-cli answers --version and trains a short run, and the installed workbench starts
# under Xvfb and saves a screenshot. Prints the package's Depends line and contents.
# With --install (what .ci/run does on its fresh machine) it then installs the .deb with apt, as
# a user would, runs both programs from /usr/bin the same way, and removes the package again.
#   scripts/package-test.sh [--install]          H158_JOBS=n overrides -j"$(nproc)"
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
jobs="${H158_JOBS:-$(nproc)}"
install=0
case "${1:-}" in
    --install) install=1 ;;
    "") ;;
    *) echo "usage: scripts/package-test.sh [--install]" >&2; exit 2 ;;
esac
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
build="$here/build-pkg"
"$here/scripts/install-deps.sh"
command -v dpkg-shlibdeps > /dev/null || {
    echo "package-test: dpkg-shlibdeps missing (package dpkg-dev)" >&2
    exit 1
}
# The benchmarks are built here (portable, not packaged) so CI compiles them once; test.sh does not.
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DH158_NATIVE=OFF \
      -DH158_BUILD_TESTS=OFF -DH158_BUILD_BENCH=ON
cmake --build "$build" -j"$jobs"
rm -f "$build"/hybrid158_*.deb
(cd "$build" && cpack -G DEB > cpack.log) || { cat "$build/cpack.log" >&2; exit 1; }
deb="$(ls "$build"/hybrid158_*_amd64.deb)"
echo "package-test: $(basename "$deb"), $(du -k "$deb" | cut -f1) KiB"
depends="$(dpkg-deb -f "$deb" Depends)"
echo "package-test: Depends: $depends"
for dep in libqt6widgets6 libqcustomplot qt6-qpa-plugins libstdc++6; do
    printf '%s' "$depends" | grep -q "$dep" ||
        { echo "package-test: Depends names no $dep" >&2; exit 1; }
done

root="$(mktemp -d /tmp/h158-pkg.XXXXXX)"
trap 'rm -rf "$root"' EXIT
dpkg -x "$deb" "$root"
for f in usr/bin/hybrid158 usr/bin/hybrid158-cli usr/share/applications/hybrid158.desktop \
         usr/share/icons/hicolor/256x256/apps/hybrid158.png \
         usr/share/icons/hicolor/scalable/apps/hybrid158.svg; do
    [ -e "$root/$f" ] || { echo "package-test: the package has no /$f" >&2; exit 1; }
done
# The installed programs under prefix P: --version, a short run, the kernels a GPT step chooses
# on this CPU, and the workbench under Xvfb with a screenshot.
try_programs() {
    local prefix="$1" scratch="$2" cli="$1/usr/bin/hybrid158-cli" version
    version="$("$cli" --version)"
    echo "package-test: $version"
    [ "$version" = "hybrid158-cli $(sed -n 's/^project(hybrid158 VERSION \([0-9.]*\).*/\1/p' "$here/CMakeLists.txt")" ] ||
        { echo "package-test: unexpected version line '$version'" >&2; exit 1; }
    "$cli" run --preset spirals --steps 60 --out "$scratch/run" > /dev/null
    grep -q '"status": *"completed"' "$scratch/run/summary.json" ||
        { echo "package-test: the installed CLI's run did not complete" >&2; exit 1; }
    echo "package-test: kernels on this CPU: $("$cli" bench gpt --preset gpt-s --mode ternary \
        --steps 3 | python3 -c 'import json, sys; d = json.load(sys.stdin); print(d["kernel"], "/", d["gemm"], "/", d["tokens_per_s"], "tokens/s")')"
    xvfb-run -a -s "-screen 0 1600x1040x24" "$prefix/usr/bin/hybrid158" --preset spirals \
        --steps 100 --run --workspace "$scratch/ws" --screenshot "$scratch/shot.png" \
        2> "$scratch/gui.log" || { cat "$scratch/gui.log" >&2; exit 1; }
    [ -s "$scratch/shot.png" ] ||
        { echo "package-test: the installed workbench saved no screenshot" >&2; exit 1; }
    echo "package-test: the installed workbench ran 100 steps and saved a screenshot"
}
try_programs "$root" "$root"
echo "package-test: unpacked package passed"

if [ "$install" = 1 ]; then
    if dpkg -s hybrid158 > /dev/null 2>&1; then
        echo "package-test: hybrid158 is already installed here; not replacing it" >&2
        exit 1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$deb" > "$root/apt.log" ||
        { cat "$root/apt.log" >&2; exit 1; }
    trap 'as_root apt-get remove -y -q hybrid158 > /dev/null 2>&1 || true; rm -rf "$root"' EXIT
    echo "package-test: apt installed $(dpkg-query -W -f '${Package} ${Version}, ${Installed-Size} KiB' hybrid158)"
    [ "$(command -v hybrid158-cli)" = /usr/bin/hybrid158-cli ] ||
        { echo "package-test: hybrid158-cli is not on PATH after installing" >&2; exit 1; }
    mkdir -p "$root/installed"
    try_programs "" "$root/installed"
    as_root apt-get remove -y -q hybrid158 > /dev/null
    trap 'rm -rf "$root"' EXIT
    [ ! -e /usr/bin/hybrid158-cli ] ||
        { echo "package-test: removing the package left /usr/bin/hybrid158-cli" >&2; exit 1; }
    echo "package-test: installed with apt, both programs ran from /usr/bin, removed"
fi
echo "package-test: passed"
