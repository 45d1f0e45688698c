#!/usr/bin/env bash
# The Debian package, built and tried as a user gets it: a portable Release build (plain x86-64,
# -DH158_NATIVE=OFF; the integer kernels still choose AVX-512 VNNI / AVX2 at run time) in
# build-pkg, `cpack -G DEB`, then the .deb unpacked into a scratch root, where the installed
# hybrid158-cli answers --version and trains a short run, and the installed workbench starts
# under Xvfb and saves a screenshot. Prints the package's Depends line and contents.
#   scripts/package-test.sh          H158_JOBS=n overrides -j"$(nproc)"
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
jobs="${H158_JOBS:-$(nproc)}"
build="$here/build-pkg"
"$here/scripts/install-deps.sh"
command -v dpkg-shlibdeps > /dev/null || {
    echo "package-test: dpkg-shlibdeps missing (package dpkg-dev)" >&2
    exit 1
}
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DH158_NATIVE=OFF \
      -DH158_BUILD_TESTS=OFF -DH158_BUILD_BENCH=OFF
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
cli="$root/usr/bin/hybrid158-cli"
version="$("$cli" --version)"
echo "package-test: $version"
[ "$version" = "hybrid158-cli $(sed -n 's/^project(hybrid158 VERSION \([0-9.]*\).*/\1/p' "$here/CMakeLists.txt")" ] ||
    { echo "package-test: unexpected version line '$version'" >&2; exit 1; }
"$cli" run --preset spirals --steps 60 --out "$root/run" > /dev/null
grep -q '"status": *"completed"' "$root/run/summary.json" ||
    { echo "package-test: the installed CLI's run did not complete" >&2; exit 1; }
xvfb-run -a -s "-screen 0 1600x1040x24" "$root/usr/bin/hybrid158" --preset spirals --steps 100 \
    --run --workspace "$root/ws" --screenshot "$root/shot.png" 2> "$root/gui.log" ||
    { cat "$root/gui.log" >&2; exit 1; }
[ -s "$root/shot.png" ] || { echo "package-test: the installed workbench saved no screenshot" >&2; exit 1; }
echo "package-test: the installed workbench ran 100 steps and saved a screenshot"
echo "package-test: passed"
