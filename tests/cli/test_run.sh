#!/bin/sh
# test_run.sh -- `cytogate run` end to end on data from run_gen.
#
#   test_run.sh CYTOGATE RUN_GEN SRCDIR WORKDIR MODE
#
# MODE:
#   errors     bad config line (exit 1, nothing read), missing marker, an
#              unreadable file in the middle of a batch, a sheet naming a
#              missing file (exit 2, others still written), usage errors
#   threads    -j1 and -j2 give identical bytes for every output (run.json
#              aside from start_time/threads/command, report.html aside
#              from the provenance it shows), --stdout, --json,
#              --sample (one row of a sheet equals the whole run's row)
#   accuracy   Treg/Th17 % of CD4 against the generator's truth
#              (+-0.5 / +-0.3 points), 4 samples
#   golden     summary.tsv, stats.tsv, longitudinal.tsv, qc.tsv and
#              samples/S01.json equal tests/golden/run/ (CG_UPDATE_GOLDEN=1
#              rewrites them)
#   slow       accuracy on 24 samples: Treg 2-15 %, Th17 0.3-5 % of CD4,
#              two channel namings, both byte orders
set -u
CG=$1
GEN=$2
SRC=$3
WORK=$4
MODE=$5
CFG="$SRC/configs/treg_th17.yaml"
fails=0
pass=0

ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
check() { if eval "$1"; then ok; else bad "$2"; fi; }

rm -rf "$WORK"
mkdir -p "$WORK/data" || exit 1
NS=4
[ "$MODE" = slow ] && NS=24
"$GEN" "$WORK/data" $NS || { echo "run_gen failed" >&2; exit 1; }
D="$WORK/data"

# column value: col FILE SAMPLE_ID COLUMN_NAME
col() {
    awk -F'\t' -v id="$2" -v c="$3" 'NR==1{for(i=1;i<=NF;i++) if($i==c) k=i; next}
        $1==id{print $k}' "$1"
}

accuracy() { # OUTDIR
    out=$1
    tail -n +2 "$D/truth.tsv" | while IFS='	' read -r id cd4 treg th17 tp hp; do
        got_t=$(col "$out/summary.tsv" "$id" treg_pct_cd4)
        got_h=$(col "$out/summary.tsv" "$id" th17_pct_cd4)
        echo "$id $tp $got_t $hp $got_h"
    done | awk '{dt=$3-$2; dh=$5-$4; if (dt<0) dt=-dt; if (dh<0) dh=-dh;
        printf "%s treg truth %.3f got %s (|d| %.3f)  th17 truth %.3f got %s (|d| %.3f)\n",
               $1, $2, $3, dt, $4, $5, dh;
        if ($3=="NA" || $5=="NA" || dt>0.5 || dh>0.3) bad++}
        END{exit bad>0}'
}

case "$MODE" in
errors)
    # a bad config line: refused before any sample is read
    cat > "$WORK/bad.yaml" <<EOF
config_version: 1
panel:
  CD3: {}
gates:
  - name: cd3
    type: threshold
    marker: CD3
    method: vally
    keep: above
EOF
    "$CG" run -c "$WORK/bad.yaml" -o "$WORK/o_bad" "$D/S01.fcs" 2>"$WORK/err"
    check '[ $? -eq 1 ]' "bad config: exit status"
    check 'grep -q "bad.yaml:8: gates\[0\] (cd3).method: unknown method .vally." "$WORK/err"' \
        "bad config: message with file, line and key ($(cat "$WORK/err"))"
    check '[ ! -e "$WORK/o_bad" ]' "bad config: output directory created"

    # missing required marker: per-sample error, the other sample is fine
    "$CG" run -q -c "$CFG" --no-plots -o "$WORK/o_nocd25" --sheet "$D/sheet_nocd25.csv"
    check '[ $? -eq 2 ]' "missing marker: exit status"
    S="$WORK/o_nocd25/summary.tsv"
    check '[ "$(col "$S" NOCD25 status)" = error ]' "missing marker: status"
    check 'col "$S" NOCD25 message | grep -q "required marker CD25 not found"' \
        "missing marker: message names the marker"
    check 'col "$S" NOCD25 message | grep -q "V450-A (CD3)"' \
        "missing marker: message lists the channels"
    check '[ "$(col "$S" S01 status)" = ok ]' "missing marker: other sample"
    check '[ -s "$WORK/o_nocd25/samples/NOCD25.json" ]' "missing marker: json"

    # an unreadable file in the middle of a batch, with 2 threads
    "$CG" run -q -j 2 -c "$CFG" --no-plots -o "$WORK/o_broken" --sheet "$D/sheet_broken.csv"
    check '[ $? -eq 2 ]' "broken file: exit status"
    S="$WORK/o_broken/summary.tsv"
    check '[ "$(cut -f1 "$S" | tr "\n" " ")" = "sample_id S01 BROKEN S02 " ]' \
        "broken file: row order"
    check '[ "$(col "$S" BROKEN status)" = error ]' "broken file: status"
    check '[ "$(col "$S" BROKEN qc)" = fail ]' "broken file: qc column"
    check '[ -n "$(col "$S" BROKEN message)" ]' "broken file: message"
    check '[ "$(col "$S" S01 status)" = ok ] && [ "$(col "$S" S02 status)" = ok ]' \
        "broken file: neighbours processed"
    check '[ "$(col "$S" S02 treg_count)" -gt 0 ]' "broken file: S02 counted"
    check 'grep -q "\"status\": \"error\"" "$WORK/o_broken/run.json"' \
        "broken file: run.json input status"

    # a sheet naming a file that does not exist
    "$CG" run -q -c "$CFG" --no-plots -o "$WORK/o_miss" --sheet "$D/sheet_missing.csv"
    check '[ $? -eq 2 ]' "missing file: exit status"
    S="$WORK/o_miss/summary.tsv"
    check 'col "$S" MISSING message | grep -q "cannot read .*no_such_file.fcs: No such file"' \
        "missing file: message"
    check '[ "$(col "$S" S01 status)" = ok ]' "missing file: other sample"

    # usage errors
    "$CG" run "$D/S01.fcs" 2>/dev/null
    check '[ $? -eq 1 ]' "usage: no config"
    "$CG" run -c "$CFG" 2>/dev/null
    check '[ $? -eq 1 ]' "usage: no input"
    "$CG" run -c "$CFG" -j 0 "$D/S01.fcs" 2>/dev/null
    check '[ $? -eq 1 ]' "usage: -j 0"
    "$CG" run -c "$CFG" --sheet "$D/truth.tsv" 2>"$WORK/err"
    check '[ $? -eq 1 ]' "usage: a sheet without a file column"
    check 'grep -q "truth.tsv:1: the header has no .file. column" "$WORK/err"' \
        "usage: sheet error names the line"
    "$CG" run -c "$SRC/configs/nonexistent.yaml" "$D/S01.fcs" 2>/dev/null
    check '[ $? -eq 1 ]' "usage: missing config"
    "$CG" run --help | grep -q "summary.tsv"
    check '[ $? -eq 0 ]' "help lists the outputs"
    ;;

threads)
    "$CG" run -q -j 1 -c "$CFG" -o "$WORK/o1" --sheet "$D/sheet.csv"
    check '[ $? -eq 0 ]' "-j1 exit status"
    "$CG" run -q -j 2 -c "$CFG" -o "$WORK/o2" --sheet "$D/sheet.csv"
    check '[ $? -eq 0 ]' "-j2 exit status"
    n=0
    for f in $(cd "$WORK/o1" && find . -type f ! -name run.json ! -name report.html | sort); do
        n=$((n + 1))
        check 'cmp -s "$WORK/o1/$f" "$WORK/o2/$f"' "-j1/-j2 differ: $f"
    done
    # report.html shows run.json's provenance; the rest is the same
    body() { sed -n '/<h2 id="samples">/,/<h2 id="inputs">/p' "$1"; }
    check '[ -n "$(body "$WORK/o1/report.html")" ] && [ "$(body "$WORK/o1/report.html")" = "$(body "$WORK/o2/report.html")" ]' \
        "-j1/-j2 differ: report.html beyond its provenance"
    check '[ $n -ge 20 ]' "expected >= 20 output files, got $n"
    check '[ -s "$WORK/o1/plots/S01/strategy.png" ] && [ -s "$WORK/o1/plots/S01/qc.png" ] && [ -s "$WORK/o1/plots/batch_frequencies.png" ]' \
        "figures written"
    strip() { grep -v -e '"start_time"' -e '"threads"' "$1" | awk '/"command"/{skip=1} skip&&/\]/{skip=0; next} !skip'; }
    check '[ "$(strip "$WORK/o1/run.json")" = "$(strip "$WORK/o2/run.json")" ]' \
        "run.json differs beyond time/threads/command"
    check 'grep -q "\"threads\": 2" "$WORK/o2/run.json"' "run.json thread count"
    check 'grep -q "\"sha256\": \"$(sha256sum "$CFG" | cut -c1-64)\"" "$WORK/o1/run.json"' \
        "run.json config sha256"
    check 'grep -q "\"sha256\": \"$(sha256sum "$D/S03.fcs" | cut -c1-64)\"" "$WORK/o1/run.json"' \
        "run.json input sha256"
    check 'grep -q "\"start_time\": \"20[0-9-]*T[0-9:]*Z\"" "$WORK/o1/run.json"' \
        "run.json start time"
    # scripted single-sample use
    "$CG" run -c "$CFG" --stdout "$D/S02.fcs" > "$WORK/stdout.tsv" 2>/dev/null
    check '[ $? -eq 0 ]' "--stdout exit status"
    check '[ "$(wc -l < "$WORK/stdout.tsv")" -eq 2 ]' "--stdout rows"
    check '[ "$(col "$WORK/stdout.tsv" S02 treg_count)" = "$(col "$WORK/o1/summary.tsv" S02 treg_count)" ]' \
        "--stdout equals summary.tsv"
    "$CG" run -c "$CFG" --json "$D/S02.fcs" > "$WORK/stdout.json" 2>/dev/null
    check 'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[0][\"sample_id\"]==\"S02\" and d[0][\"headline\"][\"treg_count\"]>0" "$WORK/stdout.json"' \
        "--json is valid JSON with the headline"
    # one sample of a sheet (cluster jobs): its row equals the whole run's
    "$CG" run -q -c "$CFG" -o "$WORK/one" --sheet "$D/sheet.csv" --sample S03
    check '[ $? -eq 0 ]' "--sample exit status"
    check '[ "$(tail -n +2 "$WORK/one/summary.tsv")" = "$(grep "^S03	" "$WORK/o1/summary.tsv")" ]' \
        "--sample row equals the full run's row"
    check 'cmp -s "$WORK/one/samples/S03.json" "$WORK/o1/samples/S03.json"' \
        "--sample JSON equals the full run's"
    "$CG" run -q -c "$CFG" -o "$WORK/none" --sheet "$D/sheet.csv" --sample NOPE 2> "$WORK/none.err"
    check '[ $? -eq 1 ] && grep -q "no sample .NOPE." "$WORK/none.err" && [ ! -e "$WORK/none/summary.tsv" ]' \
        "--sample of an unknown id: exit 1, named, nothing written"
    # longitudinal: deltas from the first visit
    L="$WORK/o1/longitudinal.tsv"
    check '[ "$(awk -F"\t" "NR==2{print \$1,\$2,\$9}" "$L")" = "P1 V1 0" ]' \
        "longitudinal baseline row"
    ;;

accuracy|slow)
    "$CG" run -q -j 2 -c "$CFG" --no-plots -o "$WORK/o" --sheet "$D/sheet.csv"
    check '[ $? -eq 0 ]' "exit status"
    accuracy "$WORK/o"
    check '[ $? -eq 0 ]' "accuracy within tolerance"
    ;;

golden)
    "$CG" run -q -c "$CFG" --no-plots -o "$WORK/o" --sheet "$D/sheet.csv"
    check '[ $? -eq 0 ]' "exit status"
    G="$SRC/tests/golden/run"
    for f in summary.tsv stats.tsv longitudinal.tsv qc.tsv samples/S01.json; do
        # paths in the JSON/TSV are relative to the sheet, so no work dir
        if [ "${CG_UPDATE_GOLDEN:-0}" = 1 ]; then
            mkdir -p "$G/samples"
            cp "$WORK/o/$f" "$G/$f"
        fi
        check 'cmp -s "$WORK/o/$f" "$G/$f"' "golden $f differs: diff $WORK/o/$f $G/$f"
    done
    ;;
*)
    echo "unknown mode $MODE" >&2
    exit 1
    ;;
esac

echo "$pass passed, $fails failed"
[ $fails -eq 0 ] && [ $pass -gt 0 ]
