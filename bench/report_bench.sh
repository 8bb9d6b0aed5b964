#!/usr/bin/env bash
# Report benchmark (bench/README.md, "## Report"): builds a 10,000 jobs x 500 probes results file
# and its report (phasesweep_bench_report), then times headless Chromium opening the page (load,
# layout, paint, screenshot at 1400x2000) against the same for an empty page, 3 runs each.
#   bench/report_bench.sh [build-dir] [work-dir] [key=value ... for phasesweep_bench_report]
set -euo pipefail
build=${1:-build}
dir=${2:-/tmp/phasesweep_bench_report}
shift $(($# > 2 ? 2 : $#))
"$build/bench/phasesweep_bench_report" dir="$dir" "$@"
echo '<!doctype html><html><body></body></html>' > "$dir/blank.html"
load() {  # wall milliseconds for chromium to open $1 and write a screenshot
  local start end
  rm -rf "$dir/profile"
  start=$(date +%s%N)
  timeout 300 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$dir/profile" --screenshot="$dir/shot.png" --window-size=1400,2000 \
    "file://$1" > /dev/null 2>&1
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}
for page in blank.html report.html; do
  times=()
  for _ in 1 2 3; do times+=("$(load "$dir/$page")"); done
  printf 'chromium, %s (%s bytes): %s ms\n' "$page" "$(stat -c %s "$dir/$page")" "${times[*]}"
done
