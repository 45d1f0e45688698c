#!/usr/bin/env bash
# Real English text from a Debian package: eight files of the package `fortunes` (quotations,
# humour, poems, sayings; 897,405 bytes, plain ASCII), concatenated in this order. The last 10%
# (validation with data.val_fraction=0.1) is the end of `work`.
#   apt-get install fortunes && bench/fortunes_corpus.sh OUT.txt
set -euo pipefail
out="${1:?usage: fortunes_corpus.sh OUT.txt}"
dir=/usr/share/games/fortunes
files=(humorists literature people politics science songs-poems wisdom work)
for f in "${files[@]}"; do
  [ -r "$dir/$f" ] || { echo "fortunes_corpus.sh: $dir/$f is missing (apt-get install fortunes)" >&2; exit 1; }
done
(cd "$dir" && cat "${files[@]}") > "$out"
echo "$out: $(wc -c < "$out") bytes from ${files[*]}"
