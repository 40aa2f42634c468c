#!/bin/sh
# test_wsp.sh -- `cytogate wsp` on FlowKit's public FlowJo workspaces.
#   test_wsp.sh CYTOGATE SHARED_DIR OUT_DIR
# 1. FlowKit_simple_line over data_set_simple_line_100.fcs: the ellipse
#    holds exactly the 51 events FlowJo stored (--check exits 0); the
#    polygon of the v2 workspace 50 (FlowJo stored 0 = never computed:
#    reported not_stored, not a failure), the rectangles 0.
# 2. A copy with a wrong stored count: --check exits 4, the row says DIFF
#    and stderr names the population and the workspace line.
# 3. --to-config: the written config loads, and `cytogate run` with it
#    gives every population the count `wsp` gave (ellipse, polygon,
#    rectangle, and a not-gate from eventsInside="0").
# 4. FlowKit_8color (FCS files not shipped): every workspace parses and
#    every gate builds; each sample is reported "FCS file not found" with
#    its line, rows keep FlowJo's counts with ours NA, exit 2; gate paths,
#    boolean nodes and stored counts are as in the workspace.
# 5. --json, --sample/--group selection, malformed XML and an unsupported
#    gate (exit 1/2 naming file and line).
# 6. `cytogate merge` copies each input run's gatingml/ export.
# Exits 77 (skipped) when the shared real-data folder is absent.
set -u
BIN=$1
SHARED=$2
OUT=$3/wsp
FJ=$SHARED/realdata/flowjo
FCSDIR=$SHARED/fcs-corpus/FlowKit
if [ ! -d "$FJ" ] || [ ! -f "$FCSDIR/data_set_simple_line_100.fcs" ]; then
    echo "SKIP: $FJ or $FCSDIR/data_set_simple_line_100.fcs not found"
    exit 77
fi
rm -rf "$OUT"
mkdir -p "$OUT"
fail=0
say() { echo "FAIL: $*"; fail=1; }
# field SAMPLE_PATH COL FILE: column COL of the row whose gate_path is PATH
field() { awk -F'\t' -v p="$1" -v c="$2" '$2 == p { print $c }' "$3"; }

# 1. exact counts
SL=$FJ/FlowKit_simple_line
"$BIN" wsp "$SL/single_ellipse_51_events.wsp" --fcs "$FCSDIR" --check \
    >"$OUT/ell.tsv" 2>"$OUT/ell.err"
rc=$?
[ $rc -eq 0 ] || say "ellipse --check exit $rc: $(cat "$OUT/ell.err")"
[ "$(head -1 "$OUT/ell.tsv")" = "$(printf 'sample\tgate_path\tcount\tpct_parent\tflowjo_count\tdiff\tstatus')" ] ||
    say "header: $(head -1 "$OUT/ell.tsv")"
[ "$(field ellipse1 3 "$OUT/ell.tsv")" = 51 ] || say "ellipse1 count $(field ellipse1 3 "$OUT/ell.tsv"), FlowJo 51"
[ "$(field ellipse1 4 "$OUT/ell.tsv")" = 51.0000 ] || say "ellipse1 pct_parent"
[ "$(field ellipse1 7 "$OUT/ell.tsv")" = match ] || say "ellipse1 status"
grep -q '1 populations match FlowJo, 0 differ' "$OUT/ell.err" || say "summary line: $(cat "$OUT/ell.err")"

"$BIN" wsp "$SL/simple_poly_and_rect_v2_poly50.wsp" --fcs "$FCSDIR" --check \
    >"$OUT/v2.tsv" 2>"$OUT/v2.err" || say "v2 --check exit $?: $(cat "$OUT/v2.err")"
[ "$(field poly1 3 "$OUT/v2.tsv")" = 50 ] || say "v2 poly1 count $(field poly1 3 "$OUT/v2.tsv") (50 expected)"
[ "$(field poly1 7 "$OUT/v2.tsv")" = not_stored ] || say "v2 poly1 (FlowJo 0) should be not_stored"
[ "$(field rect1 3 "$OUT/v2.tsv")" = 0 ] || say "v2 rect1 count"
[ "$(field rect1 7 "$OUT/v2.tsv")" = match ] || say "v2 rect1 (0 = 0) should match"
"$BIN" wsp "$SL/simple_poly_and_rect.wsp" --fcs "$FCSDIR" >"$OUT/v1.tsv" 2>/dev/null ||
    say "v1 exit $?"
# every event has channel_B = 131072, above the v1 polygon's top edge
[ "$(field poly1 3 "$OUT/v1.tsv")" = 0 ] || say "v1 poly1 count"
[ "$(field poly1 5 "$OUT/v1.tsv")" = NA ] || say "v1 poly1 count=-1 should be NA"

# the FCS file found through the workspace's own folder
mkdir -p "$OUT/beside"
cp "$SL/single_ellipse_51_events.wsp" "$FCSDIR/data_set_simple_line_100.fcs" "$OUT/beside/"
"$BIN" wsp "$OUT/beside/single_ellipse_51_events.wsp" --check >/dev/null 2>&1 ||
    say "FCS beside the workspace not found"

# a workspace that counted another number of events: warned
sed 's/sortPriority="10"  count="100"  sampleID="1"/sortPriority="10"  count="120"  sampleID="1"/' \
    "$SL/single_ellipse_51_events.wsp" >"$OUT/tot.wsp"
"$BIN" wsp "$OUT/tot.wsp" --fcs "$FCSDIR" >/dev/null 2>"$OUT/tot.err" || say "events warning: exit $?"
grep -q "warning: sample 'data_set_simple_line_100.fcs': .* has 100 events, FlowJo counted 120" "$OUT/tot.err" ||
    say "no warning for a different event count: $(cat "$OUT/tot.err")"

# 2. a wrong stored count
sed 's/count="51"/count="60"/' "$SL/single_ellipse_51_events.wsp" >"$OUT/wrong.wsp"
"$BIN" wsp "$OUT/wrong.wsp" --fcs "$FCSDIR" --check >"$OUT/wrong.tsv" 2>"$OUT/wrong.err"
rc=$?
[ $rc -eq 4 ] || say "wrong count: --check exit $rc (4 expected)"
[ "$(field ellipse1 7 "$OUT/wrong.tsv")" = DIFF ] || say "wrong count: status"
[ "$(field ellipse1 6 "$OUT/wrong.tsv")" = -9 ] || say "wrong count: diff $(field ellipse1 6 "$OUT/wrong.tsv")"
grep -q "wrong.wsp:[0-9]*: sample 'data_set_simple_line_100.fcs': 'ellipse1' has 51 events, FlowJo stored 60" "$OUT/wrong.err" ||
    say "wrong count message: $(cat "$OUT/wrong.err")"
"$BIN" wsp "$OUT/wrong.wsp" --fcs "$FCSDIR" >/dev/null 2>&1 ||
    say "without --check a difference is not an error"
# within max(1, 0.1 %): 52 vs 51 passes
sed 's/count="51"/count="52"/' "$SL/single_ellipse_51_events.wsp" >"$OUT/near.wsp"
"$BIN" wsp "$OUT/near.wsp" --fcs "$FCSDIR" --check >/dev/null 2>&1 ||
    say "a 1-event difference should pass --check"

# 3. --to-config round trip (plus an outside-the-polygon gate)
sed 's/<gating:PolygonGate eventsInside="1"/<gating:PolygonGate eventsInside="0"/' \
    "$SL/simple_poly_and_rect_v2_poly50.wsp" >"$OUT/v2out.wsp"
for w in "$SL/single_ellipse_51_events.wsp" "$SL/simple_poly_and_rect_v2_poly50.wsp" "$OUT/v2out.wsp"; do
    b=$(basename "$w" .wsp)
    "$BIN" wsp "$w" --fcs "$FCSDIR" --to-config "$OUT/$b.yaml" >"$OUT/$b.tsv" 2>"$OUT/$b.err" ||
        { say "$b: --to-config exit $?: $(cat "$OUT/$b.err")"; continue; }
    [ -f "$OUT/$b.yaml" ] || { say "$b: no config written"; continue; }
    ls "$OUT" | grep -q "$b.yaml.tmp" && say "$b: temporary file left"
    "$BIN" run -c "$OUT/$b.yaml" "$FCSDIR/data_set_simple_line_100.fcs" -o "$OUT/run_$b" \
        --no-plots >/dev/null 2>"$OUT/run_$b.err" || { say "$b: run with the config: $(cat "$OUT/run_$b.err")"; continue; }
    # counts in order: wsp rows vs the run's count rows (same order;
    # the run also lists hidden *_inside gates, which are dropped)
    tail -n +2 "$OUT/$b.tsv" | cut -f3 >"$OUT/$b.want"
    awk -F'\t' '$3 == "count" && $2 !~ /_inside$/ { print $5 }' "$OUT/run_$b/stats.tsv" >"$OUT/$b.got"
    [ -s "$OUT/$b.want" ] || say "$b: no rows"
    cmp -s "$OUT/$b.want" "$OUT/$b.got" ||
        say "$b: config run counts $(tr '\n' ' ' <"$OUT/$b.got") != wsp $(tr '\n' ' ' <"$OUT/$b.want")"
done
[ "$(field poly1 3 "$OUT/v2out.tsv")" = 50 ] || say "eventsInside=0: poly1 should hold the other 50 events"
grep -q 'op: not' "$OUT/v2out.yaml" || say "eventsInside=0 not written as a not gate"
# a config that cannot be expressed: polygon on a biex axis
"$BIN" wsp "$FJ/FlowKit_8color/reused_quad_gate_with_child.wsp" --to-config "$OUT/quad.yaml" \
    >/dev/null 2>"$OUT/quad.err"
# reused_quad_gate_with_child has only rectangles on biex axes: writable
[ -f "$OUT/quad.yaml" ] || say "rectangles on biex axes should be writable: $(cat "$OUT/quad.err")"
grep -q 'units: raw' "$OUT/quad.yaml" || say "biex rectangles not in raw units"

# 4. the 8-colour workspaces, FCS files absent
for w in "$FJ"/FlowKit_8color/*.wsp; do
    b=$(basename "$w" .wsp)
    "$BIN" wsp "$w" --check >"$OUT/$b.tsv" 2>"$OUT/$b.err"
    rc=$?
    [ $rc -eq 2 ] || say "$b: exit $rc (2 expected: FCS files missing)"
    n=$(grep -c "FCS file not found" "$OUT/$b.err")
    ns=$(grep -c '<Sample>' "$w")
    [ "$n" -eq "$ns" ] || say "$b: $n 'FCS file not found' lines for $ns samples"
    grep -q "$b.wsp:[0-9][0-9]*: sample '" "$OUT/$b.err" || say "$b: messages name no line"
    grep -v 'not found\|populations match' "$OUT/$b.err" | grep -q . &&
        say "$b: gates do not build: $(grep -v 'not found\|populations match' "$OUT/$b.err" | head -3)"
    awk -F'\t' 'NR > 1 && ($3 != "NA" || $7 != "no_fcs") { bad = 1 } END { exit bad }' "$OUT/$b.tsv" ||
        say "$b: rows without an FCS file must be count NA, status no_fcs"
done
T=$OUT/8_color_ICS.tsv
[ "$(awk -F'\t' 'NR > 1' "$T" | wc -l)" -eq 42 ] || say "8_color_ICS: $(awk 'NR > 1' "$T" | wc -l) rows (42 = 3 samples x 14)"
[ "$(awk -F'\t' '$1 == "101_DEN084Y5_15_E03_009_clean.fcs" && $2 == "Time/Singlets/aAmine-/CD3+/CD4+" { print $5 }' "$T")" = 81990 ] ||
    say "8_color_ICS: CD4+ stored count"
B=$OUT/8_color_ICS_boolean_gate_testing.tsv
[ "$(awk -F'\t' '$1 == "101_DEN084Y5_15_E03_009_clean.fcs" && $2 == "Time/Singlets/aAmine-/CD3+/CD4+/CD107a+ or IFNg+" { print $5 }' "$B")" = 663 ] ||
    say "boolean: the OrNode's stored count"
[ "$(awk -F'\t' '$1 == "101_DEN084Y5_15_E03_009_clean.fcs" && $2 == "Time/Singlets/aAmine-/CD3+/CD4+/IL2+-" { print $5 }' "$B")" = 81918 ] ||
    say "boolean: the NotNode's stored count"
Q=$OUT/reused_quad_gate_with_child.tsv
[ "$(field 'good cells/cd8+/Q2: CD107a+, IL2+/some_child_gate' 5 "$Q")" = 299 ] || say "quadrant child stored count"

# 5. JSON, selection, errors
"$BIN" wsp "$SL/single_ellipse_51_events.wsp" --fcs "$FCSDIR" --json >"$OUT/ell.json" 2>/dev/null ||
    say "--json exit $?"
python3 - "$OUT/ell.json" <<'EOF' || fail=1
import json, sys
d = json.load(open(sys.argv[1]))
s = d["samples"][0]
p = s["populations"][0]
ok = (s["status"] == "ok" and s["events"] == 100 and s["flowjo_events"] == 100
      and p["gate_path"] == "ellipse1" and p["type"] == "ellipse"
      and p["count"] == 51 and p["flowjo_count"] == 51 and p["diff"] == 0
      and p["status"] == "match" and d["summary"]["match"] == 1)
if not ok:
    print("FAIL: --json content", json.dumps(d)[:400])
    sys.exit(1)
EOF
"$BIN" wsp "$FJ/FlowKit_8color/8_color_ICS.wsp" --sample 2 >"$OUT/sel.tsv" 2>/dev/null
[ "$(awk 'NR > 1' "$OUT/sel.tsv" | cut -f1 | sort -u)" = 101_DEN084Y5_15_E05_010_clean.fcs ] ||
    say "--sample 2: $(cut -f1 "$OUT/sel.tsv" | sort -u | tr '\n' ' ')"
"$BIN" wsp "$FJ/FlowKit_8color/8_color_ICS.wsp" --group nosuchgroup >/dev/null 2>"$OUT/grp.err"
[ $? -eq 1 ] || say "--group with no sample should exit 1"
"$BIN" wsp "$FJ/FlowKit_8color/8_color_ICS.wsp" --group DEN >"$OUT/grp.tsv" 2>/dev/null
[ "$(awk 'NR > 1' "$OUT/grp.tsv" | cut -f1 | sort -u | wc -l)" -eq 3 ] || say "--group DEN: 3 samples expected"

head -c 3000 "$SL/single_ellipse_51_events.wsp" >"$OUT/trunc.wsp"
"$BIN" wsp "$OUT/trunc.wsp" >/dev/null 2>"$OUT/trunc.err"
[ $? -eq 1 ] || say "truncated XML: exit 1 expected"
grep -q 'trunc.wsp:[0-9][0-9]*: malformed XML' "$OUT/trunc.err" || say "truncated XML message: $(cat "$OUT/trunc.err")"
sed 's/gating:EllipsoidGate/gating:CurlyGate/g' "$SL/single_ellipse_51_events.wsp" >"$OUT/curly.wsp"
"$BIN" wsp "$OUT/curly.wsp" --fcs "$FCSDIR" >"$OUT/curly.tsv" 2>"$OUT/curly.err"
[ $? -eq 2 ] || say "unsupported gate: exit 2 expected"
grep -q "curly.wsp:[0-9][0-9]*: population 'ellipse1': gate type gating:CurlyGate is not supported" "$OUT/curly.err" ||
    say "unsupported gate message: $(cat "$OUT/curly.err")"
[ "$(tail -n +2 "$OUT/curly.tsv")" = "$(printf 'data_set_simple_line_100.fcs\t\tNA\tNA\tNA\tNA\terror')" ] ||
    say "unreadable sample row: $(cat "$OUT/curly.tsv")"
# one bad sample does not stop the others: sample 1 of 8_color_ICS with an
# unsupported gate, samples 2 and 3 still reported
python3 - "$FJ/FlowKit_8color/8_color_ICS.wsp" "$OUT/onebad.wsp" <<'EOF'
import sys
d = open(sys.argv[1]).read()
i = d.index("<SampleList>")
j = d.index("<gating:PolygonGate", i)
k = d.index("</gating:PolygonGate>", j)
d = (d[:j] + "<gating:CurlyGate" + d[j + len("<gating:PolygonGate"):k]
     + "</gating:CurlyGate>" + d[k + len("</gating:PolygonGate>"):])
open(sys.argv[2], "w").write(d)
EOF
"$BIN" wsp "$OUT/onebad.wsp" >"$OUT/onebad.tsv" 2>"$OUT/onebad.err"
[ $? -eq 2 ] || say "one bad sample: exit 2 expected"
[ "$(grep -c 'CurlyGate is not supported' "$OUT/onebad.err")" -eq 1 ] ||
    say "one bad sample: one error expected: $(cat "$OUT/onebad.err")"
[ "$(grep -c 'FCS file not found' "$OUT/onebad.err")" -eq 2 ] ||
    say "one bad sample: the other two samples should go on"
[ "$(awk -F'\t' 'NR > 1 && $1 == "101_DEN084Y5_15_E05_010_clean.fcs"' "$OUT/onebad.tsv" | wc -l)" -eq 14 ] ||
    say "one bad sample: sample 2's rows missing"
"$BIN" wsp "$OUT/nosuch.wsp" >/dev/null 2>&1
[ $? -eq 1 ] || say "missing workspace: exit 1 expected"

# 6. merge keeps each run's gatingml/ export (issue 16): two runs of the
#    written config with --export-gatingml, merged
M=$OUT/merge
mkdir -p "$M"
cp "$FCSDIR/data_set_simple_line_100.fcs" "$M/a.fcs"
cp "$FCSDIR/data_set_simple_line_100.fcs" "$M/b.fcs"
CFG=$OUT/single_ellipse_51_events.yaml
for id in a b; do
    "$BIN" run -c "$CFG" "$M/$id.fcs" -o "$M/r$id" --no-plots --export-gatingml \
        >/dev/null 2>"$M/r$id.err" || say "merge input run $id: $(cat "$M/r$id.err")"
done
"$BIN" merge -c "$CFG" -o "$M/out" "$M/ra" "$M/rb" >/dev/null 2>"$M/merge.err" ||
    say "merge: $(cat "$M/merge.err")"
for id in a b; do
    cmp -s "$M/r$id/gatingml/$id.xml" "$M/out/gatingml/$id.xml" ||
        say "merge: gatingml/$id.xml not copied from the input run"
done
"$BIN" gate --gatingml "$M/out/gatingml/a.xml" "$M/a.fcs" >"$M/gate.tsv" 2>/dev/null ||
    say "gate on the merged export"
[ "$(awk -F'\t' '$1 == "ellipse1" { print $3 }' "$M/gate.tsv")" = 51 ] ||
    say "merged export does not count 51: $(cat "$M/gate.tsv")"

[ $fail -eq 0 ] && echo "wsp: all checks passed"
exit $fail
