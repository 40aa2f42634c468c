#!/bin/sh
# test_report.sh -- the review report, report.html (issue 21).
#
#   test_report.sh CYTOGATE CHECKER SRCDIR WORKDIR MODE
#
# CHECKER is test_report_html (libxml2's HTML parser; see its header).
# MODE:
#   demo      run on samples/ with a sheet that adds a missing file (an
#             error row) and a column whose cells are HTML
#             (<script>alert(1)</script>, a&b "q" 'x'): every sample with
#             its verdict, the HTML cells as text, links resolve, at most
#             25 MB per 96 samples; `cytogate report` rebuilds the same
#             bytes and touches nothing else; thumbnails are the same at
#             -j2; a rebuild after removing the report restores it
#   merge     per-sample runs merged: the merged folder's report lists
#             every sample with its verdict, and equals `cytogate report`
#             of that folder
#   refuse    not a run folder (empty, missing, a file), malformed
#             summary.tsv, usage errors: a clear message and the README's
#             exit code; nothing written, the previous report kept
#   big       96 simulated samples (cytogate simulate): report.html +
#             report_files/ under 25 MB (prints the figure)
#   chromium  headless Chromium screenshot of the demo report, checked to
#             be a rendered page; exit 77 (skipped) without
#             /usr/bin/chromium
set -u
CG=$1
CHK=$2
SRC=$3
WORK=$4
MODE=$5
CFG="$SRC/configs/treg_th17.yaml"
LIMIT96=26214400 # 25 MB for 96 samples
fails=0

bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
check() { if ! eval "$1"; then bad "$2"; fi; }

[ -s "$SRC/samples/sheet.csv" ] || { echo "no $SRC/samples/sheet.csv" >&2; exit 1; }
rm -rf "$WORK"
mkdir -p "$WORK/data" || exit 1
cd "$WORK" || exit 1
for f in "$SRC"/samples/*.fcs; do ln -s "$f" data/; done

# The demo sheet with a note column of HTML and a row whose file is missing.
demo_sheet() {
    awk -F, 'NR == 1 { print $0 ",note"; next }
             $2 == "S01_V1" { print $0 ",<script>alert(1)</script>"; next }
             $2 == "S02_V2" { print $0 ",\"a&b \"\"q\"\" '"'"'x'"'"'\""; next }
             { print $0 ",plain" }' "$SRC/samples/sheet.csv" > data/sheet.csv
    printf 'missing.fcs,MISSING,S04,1,control,<b>bold</b>\n' >> data/sheet.csv
}
# 25 MB scaled to n samples
limit_for() { echo $((LIMIT96 * $1 / 96)); }

case $MODE in
demo)
    demo_sheet
    "$CG" run -q -c "$CFG" --sheet data/sheet.csv -o out 2>err.txt
    check '[ $? -eq 2 ]' "run with a missing file: exit 2"
    check '[ -s out/report.html ] && [ -s out/run.json ]' "report.html written"
    check '! ls -a out | grep -q staging' "no staging folder left"
    "$CHK" html out "$(limit_for 9)" '<script>alert(1)</script>' \
        "a&b \"q\" 'x'" '<b>bold</b>' || bad "report.html checks"
    check 'grep -q "&lt;script&gt;alert(1)&lt;/script&gt;" out/report.html' \
        "the script cell escaped in the bytes"
    check '[ "$(grep -c "<script" out/report.html)" -eq 1 ]' \
        "one <script> tag (the inline sort script)"
    check 'grep -q "<pre id=\"command\">cytogate run -q -c " out/report.html' \
        "the command that reproduces the run"
    check 'grep -q "$(sha256sum out/run.json | cut -c1-64)" out/report.html' \
        "run.json sha256 in the report"
    check 'grep -q "$(sha256sum "$CFG" | cut -c1-64)" out/report.html' \
        "config sha256 in the report"
    for id in S01_V1 S03_V2; do
        check '[ -s out/report_files/$id/strategy.png ] && [ -s out/report_files/$id/qc.png ]' \
            "$id thumbnails"
    done
    check 'file out/report_files/S01_V1/strategy.png | grep -q "400 x"' \
        "thumbnail 400 pixels wide"
    check '[ ! -e out/report_files/MISSING ]' "no thumbnails for the error row"
    # rebuild: same bytes, nothing else touched
    cp out/report.html first.html
    cp -r out/report_files first_files
    ls -l --time-style=+%s.%N out/summary.tsv out/run.json > before.txt
    "$CG" report out 2>err.txt
    check '[ $? -eq 0 ]' "cytogate report: exit 0"
    check 'grep -q "out/report.html" err.txt' "success line names the file"
    check 'cmp -s first.html out/report.html' "rebuild gives the same bytes"
    check 'diff -r first_files out/report_files >/dev/null' "same thumbnails"
    ls -l --time-style=+%s.%N out/summary.tsv out/run.json > after.txt
    check 'cmp -s before.txt after.txt' "report leaves run.json and tables alone"
    rm -rf out/report.html out/report_files
    "$CG" report -q out
    check 'cmp -s first.html out/report.html' "rebuild after removal"
    # -j2: same thumbnails and the same sample table
    "$CG" run -q -j 2 -c "$CFG" --sheet data/sheet.csv -o out2 2>/dev/null
    check 'diff -r out/report_files out2/report_files >/dev/null' \
        "thumbnails do not depend on -j"
    sed -n '/id="sample-table"/,/<\/table>/p' out/report.html > t1.txt
    sed -n '/id="sample-table"/,/<\/table>/p' out2/report.html > t2.txt
    check '[ -s t1.txt ] && cmp -s t1.txt t2.txt' "sample table same at -j2"
    # the command shown reproduces the run (tables and records)
    cp -r out/samples first_samples
    cp out/summary.tsv out/qc.tsv .
    cmd=$(sed -n 's|^<pre id="command">cytogate \(.*\)</pre>$|\1|p' \
          out/report.html | sed "s/&#39;/'/g; s/&quot;/\"/g; s/&lt;/</g;
                                 s/&gt;/>/g; s/&amp;/\\&/g")
    check '[ -n "$cmd" ]' "command found in the report"
    eval "\"\$CG\" $cmd" 2>/dev/null
    check 'cmp -s summary.tsv out/summary.tsv && cmp -s qc.tsv out/qc.tsv &&
           diff -r first_samples out/samples >/dev/null' \
        "the report's command reproduces the run ($cmd)"
    check 'diff -r first_files out/report_files >/dev/null' \
        "... and its thumbnails"
    # a rerun replaces the report with its own
    "$CG" run -q -c "$CFG" --sheet "$SRC/samples/sheet.csv" -o out 2>/dev/null
    check '! grep -q MISSING out/report.html' "rerun: the new run's report"
    check '[ ! -e out/report_files/MISSING ] && [ -s out/report_files/S01_V1/qc.png ]' \
        "rerun: the new run's thumbnails"
    ;;
merge)
    cp "$SRC/samples/sheet.csv" data/sheet.csv
    "$CG" run -q -c "$CFG" --sheet data/sheet.csv --sample S01_V1 \
        --sample S02_V1 -o p1 || bad "run p1"
    "$CG" run -q -c "$CFG" --sheet data/sheet.csv --sample S01_V2 \
        --sample S01_V3 --sample S02_V2 --sample S02_V3 --sample S03_V1 \
        --sample S03_V2 -o p2 || bad "run p2"
    "$CG" merge -q -c "$CFG" --sheet data/sheet.csv -o merged p1 p2
    check '[ $? -eq 0 ]' "merge: exit 0"
    "$CHK" html merged "$(limit_for 8)" || bad "merged report.html checks"
    check 'grep -q "<h3>Merged from</h3>" merged/report.html' \
        "merged report lists the merged folders"
    check '[ "$(grep -c "<section class=\"sample\"" merged/report.html)" -eq 8 ]' \
        "8 sample sections"
    cp merged/report.html m.html
    "$CG" report -q merged || bad "report of the merged folder"
    check 'cmp -s m.html merged/report.html' "merge report == cytogate report"
    ;;
refuse)
    mkdir empty
    "$CG" report empty 2>err.txt
    check '[ $? -eq 2 ]' "empty folder: exit 2"
    check 'grep -q "cytogate: empty: not a cytogate run folder (no run.json" err.txt' \
        "empty folder: clear message ($(cat err.txt))"
    check '[ -z "$(ls -A empty)" ]' "empty folder left empty"
    "$CG" report nowhere 2>err.txt
    check '[ $? -eq 2 ] && grep -q "nowhere: no such folder" err.txt' \
        "missing folder: exit 2, named"
    check '[ ! -e nowhere ]' "missing folder not created"
    "$CG" report "$SRC/samples/sheet.csv" 2>err.txt
    check '[ $? -eq 2 ]' "a file: exit 2"
    "$CG" report 2>err.txt
    check '[ $? -eq 1 ] && grep -q "Usage: cytogate report" err.txt' \
        "no folder: usage error, exit 1"
    "$CG" report a b 2>err.txt
    check '[ $? -eq 1 ]' "two folders: exit 1"
    "$CG" report --bogus x 2>err.txt
    check '[ $? -eq 1 ]' "unknown option: exit 1"
    "$CG" report --help > help.txt
    check '[ $? -eq 0 ] && grep -q "report_files/" help.txt' "--help"
    # a run.json not written by cytogate
    mkdir fake && echo '{"program": "other"}' > fake/run.json
    "$CG" report fake 2>err.txt
    check '[ $? -eq 2 ] && grep -q "not written by cytogate" err.txt' \
        "foreign run.json refused"
    # malformed summary.tsv: named with its line, the old report kept
    "$CG" run -q -c "$CFG" "$SRC/samples/S01_V1.fcs" "$SRC/samples/S02_V1.fcs" \
        -o out || bad "run"
    cp out/report.html keep.html
    awk 'NR == 3 { print $0 "\textra"; next } { print }' out/summary.tsv \
        > s.tmp && mv s.tmp out/summary.tsv
    "$CG" report out 2>err.txt
    check '[ $? -eq 2 ]' "malformed summary.tsv: exit 2"
    check 'grep -q "summary.tsv: line 3:" err.txt' \
        "malformed summary.tsv: file and line named ($(cat err.txt))"
    check 'cmp -s keep.html out/report.html' "previous report kept"
    check '! ls -a out | grep -q staging' "no staging folder left"
    ;;
big)
    : > data/sheet.csv
    printf 'file,sample_id,subject,visit,group\n' > data/sheet.csv
    i=1
    while [ $i -le 96 ]; do
        id=$(printf 'P%02d_V%d' $(( (i + 3) / 4 )) $(( (i - 1) % 4 + 1 )))
        "$CG" simulate -o "data/$id.fcs" --no-truth --seed $((1000 + i)) \
            --events 10000 --treg $((3 + i % 8)) --th17 1.$((i % 9)) \
            --sample-id "$id" || { bad "simulate $id"; break; }
        printf '%s.fcs,%s,P%02d,%d,g%d\n' "$id" "$id" $(( (i + 3) / 4 )) \
            $(( (i - 1) % 4 + 1 )) $((i % 3)) >> data/sheet.csv
        i=$((i + 1))
    done
    "$CG" run -q -j 2 -c "$CFG" --sheet data/sheet.csv -o out || bad "run 96"
    "$CHK" html out "$LIMIT96" || bad "96-sample report checks"
    echo "report.html: $(wc -c < out/report.html) bytes;" \
         "report_files/: $(du -sb out/report_files | cut -f1) bytes;" \
         "plots/: $(du -sb out/plots | cut -f1) bytes"
    ;;
chromium)
    [ -x /usr/bin/chromium ] || { echo "no /usr/bin/chromium: skipped"; exit 77; }
    demo_sheet
    "$CG" run -q -c "$CFG" --sheet data/sheet.csv -o out 2>/dev/null
    [ -s out/report.html ] || { bad "no report.html"; exit 1; }
    timeout 120 /usr/bin/chromium --headless --no-sandbox --disable-gpu \
        --hide-scrollbars --window-size=1280,2400 \
        --screenshot="$WORK/shot.png" "file://$WORK/out/report.html" \
        >chromium.log 2>&1 || bad "chromium exit $? ($(tail -3 chromium.log))"
    "$CHK" png "$WORK/shot.png" 1280 2400 || bad "screenshot"
    ;;
*)
    echo "unknown mode $MODE" >&2
    exit 2
    ;;
esac
[ $fails -eq 0 ] || exit 1
echo "ok ($MODE)"
