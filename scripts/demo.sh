#!/bin/sh
# demo.sh [BUILD] -- README command 1: the main job on the demo study in
# samples/ (3 subjects x up to 3 visits, simulated with truth sidecars).
#
# Runs, from the source directory,
#   cytogate run -c configs/treg_th17.yaml --sheet samples/sheet.csv -o results
# then prints the headline table and where every output is.
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}
CG="$BUILD/pipeline/cytogate"
if [ ! -x "$CG" ]; then
    echo "demo: $CG not found; build first (make build)" >&2
    exit 1
fi
J=$(nproc 2>/dev/null || echo 2)
status=0
"$CG" run -c configs/treg_th17.yaml --sheet samples/sheet.csv -o results \
    -j "$J" || status=$?
if [ -s results/summary.tsv ]; then
    echo
    echo "Treg and Th17 as % of CD4 T cells (results/summary.tsv):"
    if command -v column >/dev/null 2>&1; then
        cut -f1,3,4,5,6,8,10,12,13 results/summary.tsv | column -t -s "$(printf '\t')"
    else
        cut -f1,3,4,5,6,8,10,12,13 results/summary.tsv
    fi
    echo
    echo "Results in $(pwd)/results/:"
    echo "  summary.tsv        one row per sample (headline numbers, all populations)"
    echo "  stats.tsv          every population: counts, percentages, marker statistics"
    echo "  qc.tsv             QC checks with value, threshold and verdict"
    echo "  longitudinal.tsv   per subject and visit, change from the first visit"
    echo "  samples/<id>.json  channel mapping, compensation, auto-gate thresholds"
    echo "  run.json           provenance: version, config and input sha256, time"
    echo "  plots/             strategy, per-gate and QC figures; batch trends"
    echo "  report.html        the review report: open it in a browser to sign off"
fi
exit $status
