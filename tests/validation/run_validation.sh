#!/bin/sh
# run_validation.sh -- cytogate's auto-gating against the independent vgen
# corpus (issue #13): generate, run, compare.
#
#   run_validation.sh CYTOGATE VGEN OUTDIR [--subset golden|full|big]
#                     [--md FILE] [--expect FILE] [--write-expect FILE]
#                     [--vcompare PATH] [-j N]
#
# OUTDIR/data gets the corpus (FCS, truth JSON, MANIFEST.tsv), OUTDIR/run
# the cytogate results.  Prints one line per file and `N passed, M
# failed`.  --md writes the markdown table (docs/validation.md).
# --expect FILE: pass when every file's outcome (pass/fail) equals the
# one in FILE, so a file that starts passing or failing both fail the
# test; --write-expect rewrites such a file from this run.  vcompare is
# found beside VGEN unless --vcompare says where.
set -u
if [ $# -lt 3 ]; then
    sed -n '2,16p' "$0" >&2
    exit 2
fi
CG=$1
VGEN=$2
OUT=$3
shift 3
SUBSET=full
MD=
EXPECT=
WEXPECT=
JOBS=2
VCMP=$(dirname "$VGEN")/vcompare
while [ $# -gt 0 ]; do
    case $1 in
    --subset) SUBSET=$2; shift 2 ;;
    --md) MD=$2; shift 2 ;;
    --expect) EXPECT=$2; shift 2 ;;
    --write-expect) WEXPECT=$2; shift 2 ;;
    --vcompare) VCMP=$2; shift 2 ;;
    -j) JOBS=$2; shift 2 ;;
    *) echo "run_validation.sh: unknown option '$1'" >&2; exit 2 ;;
    esac
done
SRC=$(cd "$(dirname "$0")/../.." && pwd)
CFG="$SRC/configs/treg_th17.yaml"

rm -rf "$OUT/data" "$OUT/run"
mkdir -p "$OUT/data" || exit 2
"$VGEN" --subset "$SUBSET" "$OUT/data" || { echo "vgen failed" >&2; exit 2; }

# cytogate exits 2 when a sample errors (e.g. a required marker missing);
# that is scored per file, not a harness failure.
"$CG" run -c "$CFG" --no-plots -j "$JOBS" -o "$OUT/run" "$OUT/data"/*.fcs \
    >"$OUT/run.log" 2>&1
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 2 ] || [ ! -f "$OUT/run/summary.tsv" ]; then
    echo "cytogate run failed (exit $rc):" >&2
    tail -5 "$OUT/run.log" >&2
    exit 2
fi

set -- "$OUT/data/MANIFEST.tsv" "$OUT/run"
[ -n "$MD" ] && set -- "$@" --md "$MD" --cmd \
    "sh tests/validation/run_validation.sh BUILD/pipeline/cytogate BUILD/tests/vgen OUT --subset $SUBSET --md $MD"
[ -n "$EXPECT" ] && set -- "$@" --expect "$EXPECT"
[ -n "$WEXPECT" ] && set -- "$@" --write-expect "$WEXPECT"
"$VCMP" "$@"
rc=$?
# The real-data section (hand-maintained: real files have no truth
# labels, only experts' gatings) follows the generated table.
if [ -n "$MD" ] && [ -f "$(dirname "$0")/realdata.md" ]; then
    { echo; cat "$(dirname "$0")/realdata.md"; } >> "$MD"
fi
exit $rc
