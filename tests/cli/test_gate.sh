#!/bin/sh
# test_gate.sh -- `cytogate gate` end to end on the suite's set_1.
#   test_gate.sh CYTOGATE SHARED_DIR OUT_DIR
# Asserts the TSV header and rows (Range1 = 440 events of 13367, quadrant
# ids as rows with their parent column empty), --membership columns equal
# the suite's expected files, --export-gatingml re-imports to the same
# counts, and error exits (missing file: 2, bad XML: 1 naming the line).
set -u
BIN=$1
GML=$2/conformance/gatingml2
OUT=$3/cli_gate
mkdir -p "$OUT"
fail=0
check() { if [ "$1" = "$2" ]; then :; else echo "FAIL: $3: got '$1' want '$2'"; fail=1; fi; }

[ -f "$GML/FCSFiles/data1.fcs" ] || { echo "FAIL: shared data missing at $GML"; exit 1; }

"$BIN" gate --gatingml "$GML/Gating-MLFiles/gates1.xml" \
    --membership "$OUT/m.tsv" --export-gatingml "$OUT/x.xml" \
    "$GML/FCSFiles/data1.fcs" > "$OUT/counts.tsv"
check "$?" 0 "exit status"
check "$(head -1 "$OUT/counts.tsv")" "$(printf 'gate_id\tparent\tcount\tpct_parent\tpct_total')" "header"
check "$(awk -F'\t' '$1=="Range1"{print $2 "|" $3 "|" $5}' "$OUT/counts.tsv")" "|440|3.2917" "Range1 row"
check "$(awk -F'\t' '$1=="FL2P-FL4P"{print $3}' "$OUT/counts.tsv")" \
      "$(grep -c '^1' "$GML/ExpectedResults/set_1/Results_FL2P-FL4P.txt")" "quadrant row"
check "$(awk -F'\t' '$1=="ParAnd2"{print $2}' "$OUT/counts.tsv")" "Polygon1" "parent column"
check "$(grep -c . "$OUT/counts.tsv")" 62 "header + one row per population (54 gates, 2 quadrant gates with 9 quadrants)"
# membership: ParAnd3 column equals the expected file (parents included)
col=$(head -1 "$OUT/m.tsv" | tr '\t' '\n' | grep -n '^ParAnd3$' | cut -d: -f1)
tail -n +2 "$OUT/m.tsv" | cut -f"$col" > "$OUT/ParAnd3.txt"
cmp -s "$OUT/ParAnd3.txt" "$GML/ExpectedResults/set_1/Results_ParAnd3.txt" || { echo "FAIL: ParAnd3 membership"; fail=1; }
check "$(tail -n +2 "$OUT/m.tsv" | wc -l | tr -d ' ')" 13367 "membership rows"
# export re-imports to identical counts
"$BIN" gate --gatingml "$OUT/x.xml" "$GML/FCSFiles/data1.fcs" > "$OUT/counts2.tsv"
check "$?" 0 "re-import exit"
cmp -s "$OUT/counts.tsv" "$OUT/counts2.tsv" || { echo "FAIL: exported gates give other counts"; fail=1; }
# errors
"$BIN" gate --gatingml "$GML/Gating-MLFiles/gates1.xml" /nonexistent.fcs > /dev/null 2>&1
check "$?" 2 "missing FCS exit"
printf '<?xml version="1.0"?>\n<gating:Gating-ML xmlns:gating="http://www.isac-net.org/std/Gating-ML/v2.0/gating">\n<gating:Blob/>\n</gating:Gating-ML>\n' > "$OUT/bad.xml"
msg=$("$BIN" gate --gatingml "$OUT/bad.xml" "$GML/FCSFiles/data1.fcs" 2>&1 >/dev/null)
check "$?" 1 "bad XML exit"
case "$msg" in *bad.xml:3:*gating:Blob*) ;; *) echo "FAIL: bad XML message: $msg"; fail=1;; esac
"$BIN" gate "$GML/FCSFiles/data1.fcs" > /dev/null 2>&1
check "$?" 1 "missing --gatingml"
"$BIN" gate --help | grep -q "gate_id  parent  count" || { echo "FAIL: --help"; fail=1; }
[ $fail = 0 ] && echo "cli gate: all checks passed"
exit $fail
