#!/bin/sh
# test_merge.sh -- `cytogate merge` end to end on samples/ (issue 10).
#
#   test_merge.sh CYTOGATE SRCDIR WORKDIR MODE
#
# MODE:
#   identical  one `cytogate run` over the sheet (8 samples plus one whose
#              file is missing) against per-sample runs (one or two
#              samples each) merged: every output file byte-identical
#              (tables, samples/*.json, per-sample and batch PNGs), run.json
#              identical but for command/start_time/threads/merged_from,
#              report.html but for the provenance it shows from run.json;
#              with --sheet the sheet order wins over the directory order,
#              without it the directory order is kept; exit 2 like run
#   refuse     results of another config, of another cytogate version,
#              a sample in two directories, a sheet sample without result,
#              a directory that is no run output: exit 1, every culprit
#              named (and only the culprits), nothing written; usage errors
set -u
CG=$1
SRC=$2
WORK=$3
MODE=$4
CFG="$SRC/configs/treg_th17.yaml"
fails=0
pass=0

ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
check() { if eval "$1"; then ok; else bad "$2"; fi; }

[ -s "$SRC/samples/sheet.csv" ] || { echo "no $SRC/samples/sheet.csv" >&2; exit 1; }
rm -rf "$WORK"
mkdir -p "$WORK/data" || exit 1
cd "$WORK" || exit 1
# The sheets live together in data/ so that every run resolves the same
# relative paths as the whole-study sheet does.
for f in "$SRC"/samples/*.fcs; do ln -s "$f" data/; done
cp "$SRC/samples/sheet.csv" data/sheet.csv
printf 'missing.fcs,MISSING,S04,1,control\n' >> data/sheet.csv
head -1 data/sheet.csv > data/head.csv
tail -n +2 data/sheet.csv | while IFS=, read -r file id rest; do
    { cat data/head.csv; echo "$file,$id,$rest"; } > "data/row_$id.csv"
done
IDS=$(tail -n +2 data/sheet.csv | cut -d, -f2)
NP=""
[ "$MODE" = refuse ] && NP=--no-plots

# per-sample runs; S01_V1 and S01_V2 share one run (a few samples a job)
{ cat data/head.csv; grep -e '^S01_V1.fcs' -e '^S01_V2.fcs' data/sheet.csv; } > data/pair.csv
"$CG" run -q $NP -c "$CFG" -o ps/pair --sheet data/pair.csv || bad "pair run"
for id in $IDS; do
    case $id in S01_V1|S01_V2) continue ;; esac
    "$CG" run -q $NP -c "$CFG" -o "ps/$id" --sheet "data/row_$id.csv" 2>/dev/null
    rc=$?
    if [ "$id" = MISSING ]; then
        check '[ $rc -eq 2 ]' "run of a missing file: exit $rc"
    else
        check '[ $rc -eq 0 ]' "run $id: exit $rc"
    fi
done
DIRS_SHEET_ORDER="ps/pair"
for id in $IDS; do
    case $id in S01_V1|S01_V2) ;; *) DIRS_SHEET_ORDER="$DIRS_SHEET_ORDER ps/$id" ;; esac
done
DIRS_REVERSED=$(for d in $DIRS_SHEET_ORDER; do echo "$d"; done | sed -n '1!G;h;$p')

# run.json without what may differ: command, start_time, threads, merged_from
strip_run() {
    python3 - "$1" "$2" <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for d in (a, b):
    for k in ("command", "start_time", "threads", "merged_from"):
        d.pop(k, None)
sys.exit(0 if a == b else 1)
EOF
}

case "$MODE" in
identical)
    "$CG" run -q -c "$CFG" -o single --sheet data/sheet.csv 2>/dev/null
    check '[ $? -eq 2 ]' "single run with a missing file: exit 2"
    check '[ "$(wc -l < single/summary.tsv)" -eq 10 ]' "single run: 9 samples"

    # with --sheet, directories given in reverse: the sheet order wins
    "$CG" merge -c "$CFG" -o merged --sheet data/sheet.csv $DIRS_REVERSED 2>err
    check '[ $? -eq 2 ]' "merge with a failed sample: exit 2 ($(cat err))"
    check 'grep -q "MISSING: failed in its run" err' "merge names the failed sample"
    n=0
    for f in $(cd single && find . -type f ! -name run.json ! -name report.html | sort); do
        n=$((n + 1))
        check 'cmp -s "single/$f" "merged/$f"' "merged $f differs from the single run"
    done
    # report.html shows run.json's provenance; the rest is the same
    body() { sed -n '/<h2 id="samples">/,/<h2 id="inputs">/p' "$1"; }
    check '[ -n "$(body single/report.html)" ] && [ "$(body single/report.html)" = "$(body merged/report.html)" ]' \
        "merged report.html: samples and figures differ from the single run"
    check '[ $n -ge 90 ]' "expected >= 90 files (tables, JSON, PNGs), got $n"
    for f in summary.tsv stats.tsv qc.tsv longitudinal.tsv samples/S02_V3.json \
             plots/batch_frequencies.png plots/longitudinal.png; do
        check '[ -s "merged/$f" ]' "merged/$f missing"
    done
    check '[ "$(cd merged && find . -type f | wc -l)" -eq "$(cd single && find . -type f | wc -l)" ]' \
        "merged OUTDIR has other files than the single run's"
    check 'strip_run single/run.json merged/run.json' \
        "run.json differs beyond command/start_time/threads/merged_from"
    check 'grep -q "\"merged_from\"" merged/run.json && grep -q "\"dir\": \"ps/pair\"" merged/run.json' \
        "run.json records the merged directories"
    check 'grep -q "\"status\": \"error\"" merged/run.json' "run.json input status"

    # without --sheet, directories in sheet order: the same tables
    "$CG" merge -q -c "$CFG" -o m_dirs $DIRS_SHEET_ORDER
    check '[ $? -eq 2 ]' "merge in directory order: exit 2"
    for f in summary.tsv stats.tsv qc.tsv longitudinal.tsv; do
        check 'cmp -s "single/$f" "m_dirs/$f"' "directory-order merge: $f differs"
    done

    # without --sheet, reversed: rows follow the directories (the pair's
    # rows in its own order), longitudinal.tsv is sorted all the same
    "$CG" merge -q --no-plots -c "$CFG" -o m_rev $DIRS_REVERSED
    want="MISSING S03_V2 S03_V1 S02_V3 S02_V2 S02_V1 S01_V3 S01_V1 S01_V2"
    got=$(tail -n +2 m_rev/summary.tsv | cut -f1 | tr '\n' ' ' | sed 's/ $//')
    check '[ "$got" = "$want" ]' "reversed directories: row order '$got'"
    check '[ "$(sort m_rev/stats.tsv | md5sum)" = "$(sort single/stats.tsv | md5sum)" ]' \
        "reversed directories: stats rows"
    check 'cmp -s single/longitudinal.tsv m_rev/longitudinal.tsv' \
        "reversed directories: longitudinal.tsv"
    check '[ ! -e m_rev/plots ]' "--no-plots: figures written"

    # the directories from a list file (one per line, blank lines skipped)
    { printf '%s\n\n' $DIRS_REVERSED | head -n 6; } > dirs.txt
    rest=$(printf '%s\n' $DIRS_REVERSED | tail -n +4)
    "$CG" merge -q --no-plots -c "$CFG" -o m_list --sheet data/sheet.csv \
        --dirs-from dirs.txt $rest 2>/dev/null
    check '[ $? -eq 2 ]' "--dirs-from: exit 2"
    for f in summary.tsv stats.tsv qc.tsv longitudinal.tsv; do
        check 'cmp -s "single/$f" "m_list/$f"' "--dirs-from: $f differs"
    done
    "$CG" merge -q -c "$CFG" -o m_nolist --dirs-from nonexistent.txt 2>err
    check '[ $? -eq 1 ] && grep -q "nonexistent.txt: cannot read" err' \
        "--dirs-from a missing file: exit 1 with its name"

    # all samples ok: exit 0
    "$CG" merge -q -c "$CFG" -o m_ok ps/pair ps/S03_V1
    check '[ $? -eq 0 ]' "merge of good samples: exit 0"
    check '[ "$(tail -n +2 m_ok/summary.tsv | cut -f1 | tr "\n" " ")" = "S01_V1 S01_V2 S03_V1 " ]' \
        "merge of good samples: rows"
    ;;

refuse)
    sed 's/min_events: 10000/min_events: 9000/' "$CFG" > other.yaml
    check '! cmp -s other.yaml "$CFG"' "other.yaml is not another config"
    "$CG" run -q --no-plots -c other.yaml -o other/S02_V1 --sheet data/row_S02_V1.csv
    "$CG" run -q --no-plots -c other.yaml -o other/S03_V2 --sheet data/row_S03_V2.csv

    # another config: refused, both culprits named, the good ones not
    "$CG" merge -c "$CFG" -o m1 ps/pair other/S02_V1 ps/S01_V3 other/S03_V2 2>err
    check '[ $? -eq 1 ]' "other config: exit 1"
    check 'grep -q "^cytogate: other/S02_V1: made with config other.yaml (sha256 [0-9a-f]*...), not .*treg_th17.yaml" err' \
        "other config: culprit other/S02_V1 named ($(cat err))"
    check 'grep -q "^cytogate: other/S03_V2: made with config other.yaml" err' \
        "other config: culprit other/S03_V2 named"
    check '! grep -q -e "ps/pair" -e "ps/S01_V3" err' "other config: good dirs blamed"
    check 'grep -q "nothing merged" err' "other config: says nothing was merged"
    check '[ ! -e m1 ]' "other config: output written"
    # merging the other-config results with their own config works
    "$CG" merge -q --no-plots -c other.yaml -o m1b other/S02_V1 other/S03_V2
    check '[ $? -eq 0 ]' "same-config merge of the other results: exit 0"

    # another cytogate version
    cp -r ps/S02_V2 oldver
    sed 's/"version": "[^"]*"/"version": "0.0.1-old"/' ps/S02_V2/run.json > oldver/run.json
    "$CG" merge -c "$CFG" -o m2 ps/S02_V1 oldver 2>err
    check '[ $? -eq 1 ]' "other version: exit 1"
    check 'grep -q "^cytogate: oldver: made by cytogate 0.0.1-old; this is cytogate" err' \
        "other version: culprit named ($(cat err))"
    check '! grep -q "ps/S02_V1" err' "other version: good dir blamed"
    check '[ ! -e m2 ]' "other version: output written"

    # a sample in two directories
    cp -r ps/S02_V2 copy
    "$CG" merge -c "$CFG" -o m3 ps/pair ps/S02_V1 copy ps/S02_V2 2>err
    check '[ $? -eq 1 ]' "duplicate: exit 1"
    check 'grep -q "^cytogate: ps/S02_V2: sample S02_V2 is also in copy: sample ids must be unique" err' \
        "duplicate: both places named ($(cat err))"
    check '[ "$(wc -l < err)" -eq 2 ]' "duplicate: one problem and the summary"

    # a sheet sample without result; a result outside the sheet
    "$CG" merge -c "$CFG" -o m4 --sheet data/pair.csv ps/S01_V3 ps/pair 2>err
    check '[ $? -eq 1 ]' "outside the sheet: exit 1"
    check 'grep -q "^cytogate: ps/S01_V3: sample S01_V3 is not in data/pair.csv" err' \
        "outside the sheet: named ($(cat err))"
    "$CG" merge -c "$CFG" -o m5 --sheet data/sheet.csv ps/pair ps/S01_V3 2>err
    check '[ $? -eq 1 ]' "no result for a sheet sample: exit 1"
    check 'grep -q "data/sheet.csv: line 5: sample S02_V1 has no result" err' \
        "no result: line and sample named ($(cat err))"
    # the sheet says otherwise about a sample
    sed 's/^S01_V3.fcs,S01_V3,S01,3/S01_V3.fcs,S01_V3,S09,3/' data/sheet.csv > data/changed.csv
    "$CG" merge -c "$CFG" -o m6 --sheet data/changed.csv $DIRS_SHEET_ORDER 2>err
    check '[ $? -eq 1 ]' "changed sheet: exit 1"
    check 'grep -q "ps/S01_V3: sample S01_V3: its subject differs from line 4" err' \
        "changed sheet: named ($(cat err))"

    # not a run output; a damaged table
    mkdir -p empty
    "$CG" merge -c "$CFG" -o m7 empty ps/S01_V3 2>err
    check '[ $? -eq 1 ]' "not a run dir: exit 1"
    check 'grep -q "^cytogate: empty: run.json: cannot read" err' "not a run dir: named"
    cp -r ps/S03_V1 cut
    head -1 ps/S03_V1/summary.tsv > cut/summary.tsv
    "$CG" merge -c "$CFG" -o m8 cut 2>err
    check '[ $? -eq 1 ]' "damaged summary: exit 1"
    check 'grep -q "^cytogate: cut: summary.tsv has 0 rows, run.json lists 1" err' \
        "damaged summary: named ($(cat err))"
    for d in m3 m4 m5 m6 m7 m8; do check '[ ! -e $d ]' "refused merge wrote $d"; done

    # usage
    "$CG" merge ps/S01_V3 2>/dev/null
    check '[ $? -eq 1 ]' "usage: no config"
    "$CG" merge -c "$CFG" 2>/dev/null
    check '[ $? -eq 1 ]' "usage: no directories"
    "$CG" merge -c "$CFG" --bogus ps/S01_V3 2>/dev/null
    check '[ $? -eq 1 ]' "usage: unknown option"
    "$CG" merge -c nonexistent.yaml ps/S01_V3 2>/dev/null
    check '[ $? -eq 1 ]' "usage: missing config"
    "$CG" merge --help | grep -q -- "--sheet"
    check '[ $? -eq 0 ]' "help lists --sheet"
    ;;
*)
    echo "unknown mode $MODE" >&2
    exit 1
    ;;
esac

echo "$pass passed, $fails failed"
[ $fails -eq 0 ] && [ $pass -gt 0 ]
