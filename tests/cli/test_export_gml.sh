#!/bin/sh
# test_export_gml.sh -- `cytogate run --export-gatingml` round trip.
#   test_export_gml.sh CYTOGATE SOURCE_DIR SHARED_DIR OUT_DIR
# Runs the default config on samples/, on one simulated file and on three
# samples with a CSV matrix / none / the file's spillover (sheet column)
# with --export-gatingml, then for every sample: the export validates against
# the ISAC Gating-ML 2.0 XSD (xmllint --schema, when xmllint is installed)
# and `cytogate gate --gatingml` on it gives every population exactly the
# count of samples/<id>.json (NA populations must be absent).  Also: a
# rerun without the flag removes gatingml/ (it is a run output).
set -u
BIN=$1
SRC=$2
XSD=$3/conformance/gatingml2/schema/Gating-ML.v2.0.xsd
OUT=$4/export_gml
rm -rf "$OUT"
mkdir -p "$OUT"
fail=0
say() { echo "FAIL: $*"; fail=1; }

[ -f "$XSD" ] || { echo "FAIL: Gating-ML XSD missing at $XSD"; exit 1; }

"$BIN" simulate --seed 7 --events 20000 --naming cytek --no-truth -o "$OUT/sim.fcs" >/dev/null 2>"$OUT/sim.err" ||
    say "simulate: $(cat "$OUT/sim.err")"

# check_dir RESULTS FCS_DIR: every sample's export against its JSON
check_dir() {
    res=$1
    fdir=$2
    n=0
    for js in "$res"/samples/*.json; do
        id=$(basename "$js" .json)
        xml=$res/gatingml/$id.xml
        fcs=$fdir/$id.fcs
        [ -f "$xml" ] || { say "$id: no gatingml/$id.xml"; continue; }
        if command -v xmllint >/dev/null 2>&1; then
            xmllint --noout --schema "$XSD" "$xml" >"$OUT/$id.xsd.log" 2>&1 ||
                say "$id: export does not validate: $(tail -3 "$OUT/$id.xsd.log")"
        fi
        "$BIN" gate --gatingml "$xml" "$fcs" >"$OUT/$id.gate.tsv" 2>"$OUT/$id.gate.err" ||
            { say "$id: gate failed: $(cat "$OUT/$id.gate.err")"; continue; }
        # population -> count from the run's JSON (NA as NA)
        python3 - "$js" >"$OUT/$id.run.tsv" <<'EOF' || say "$id: cannot read JSON"
import json, sys
j = json.load(open(sys.argv[1]))
for p in j["populations"]:
    c = p["count"]
    print("%s\t%s" % (p["name"], "NA" if c is None else c))
EOF
        while IFS="$(printf '\t')" read -r pop want; do
            got=$(awk -F'\t' -v p="$pop" '$1==p{print $3}' "$OUT/$id.gate.tsv")
            if [ "$want" = NA ]; then
                [ -z "$got" ] || say "$id $pop: NA in the run but exported ($got)"
            elif [ "$got" != "$want" ]; then
                say "$id $pop: gate gives '$got', run gave $want"
            fi
            n=$((n + 1))
        done <"$OUT/$id.run.tsv"
    done
    echo "$res: $n population counts compared"
}

"$BIN" run -c "$SRC/configs/treg_th17.yaml" --sheet "$SRC/samples/sheet.csv" \
    -o "$OUT/samples_out" --no-plots --export-gatingml -j 2 >/dev/null 2>"$OUT/run1.err"
[ $? -eq 0 ] || say "run on samples/: $(cat "$OUT/run1.err")"
[ "$(ls "$OUT/samples_out/gatingml" | wc -l)" -eq "$(ls "$OUT/samples_out/samples" | wc -l)" ] ||
    say "one export per sample"
check_dir "$OUT/samples_out" "$SRC/samples"

mkdir -p "$OUT/simdir"
cp "$OUT/sim.fcs" "$OUT/simdir/sim.fcs"
"$BIN" run -c "$SRC/configs/treg_th17.yaml" "$OUT/simdir" -o "$OUT/sim_out" \
    --no-plots --export-gatingml >/dev/null 2>"$OUT/run2.err"
[ $? -eq 0 ] || say "run on the simulated file: $(cat "$OUT/run2.err")"
check_dir "$OUT/sim_out" "$OUT/simdir"

# the three compensation modes: a CSV matrix (a spectrumMatrix in the
# export), none, and the file's spillover
C=BV421-A,BV510-A,BV605-A,BV711-A,FITC-A,PerCP-Cy5-5-A,PE-A,PE-Cy7-A,APC-A,APC-R700-A
awk -v h="$C" 'BEGIN { print h; for (i = 0; i < 10; i++) { r = "";
    for (j = 0; j < 10; j++) r = r (j ? "," : "") (i == j ? 1 : (i + 2 * j) % 7 / 100);
    print r } }' >"$OUT/comp.csv"
printf 'file,compensation\n%s,%s\n%s,none\n%s,\n' "$SRC/samples/S01_V1.fcs" \
    "$OUT/comp.csv" "$SRC/samples/S02_V1.fcs" "$SRC/samples/S03_V1.fcs" >"$OUT/comp_sheet.csv"
"$BIN" run -c "$SRC/configs/treg_th17.yaml" --sheet "$OUT/comp_sheet.csv" \
    -o "$OUT/comp_out" --no-plots --export-gatingml >/dev/null 2>"$OUT/run3.err"
[ $? -eq 0 ] || say "run with per-sample compensation: $(cat "$OUT/run3.err")"
grep -q 'spectrumMatrix' "$OUT/comp_out/gatingml/S01_V1.xml" ||
    say "CSV compensation not exported as a spectrumMatrix"
grep -q 'compensation-ref="uncompensated"' "$OUT/comp_out/gatingml/S02_V1.xml" ||
    say "compensation none not exported as uncompensated"
check_dir "$OUT/comp_out" "$SRC/samples"

# a rerun without the flag replaces the result set: no stale exports
"$BIN" run -c "$SRC/configs/treg_th17.yaml" "$OUT/simdir" -o "$OUT/sim_out" \
    --no-plots >/dev/null 2>&1
[ -e "$OUT/sim_out/gatingml" ] && say "gatingml/ of the previous run survived a rerun"

# without an output folder there is nowhere to write: a usage error
"$BIN" run -c "$SRC/configs/treg_th17.yaml" --stdout --export-gatingml \
    "$OUT/simdir" >/dev/null 2>"$OUT/noout.err"
[ $? -eq 1 ] || say "--export-gatingml with --stdout and no -o: want exit 1"
grep -q 'export-gatingml writes into an output folder' "$OUT/noout.err" ||
    say "--export-gatingml without -o: message '$(head -1 "$OUT/noout.err")'"

[ $fail -eq 0 ] && echo "export round trip: OK"
exit $fail
