#!/bin/sh
# test_study.sh -- the study store and batch control (issue 21).
#
#   test_study.sh CYTOGATE SRCDIR WORKDIR MODE
#
# MODE:
#   store    three quarterly batches (cytogate simulate: two subjects and
#            a bridge control each) as three `run --db` calls give the
#            study-wide longitudinal.tsv of one run over all the files,
#            byte for byte, controls left out; rerunning a batch leaves
#            every row count unchanged; another config is a new analysis
#            (kept apart); schema version recorded; concurrent runs on
#            one store all land; a bad role is refused naming the line
#   kill     kill -9 inside the store transaction (test hook) and during
#            the batch: the store's rows are unchanged (sha256 of a
#            sorted dump before and after) and it passes integrity_check
#   control  Levey-Jennings: the first N batches (qc: control_batches 3)
#            say "establishing limits"; a control shifted by > 3 SD in
#            batch 4 fails batch_control (qc.tsv, summary, sample JSON),
#            `cytogate qc --db` exits 3, the chart is written; a rerun
#            control is judged where it stood and passes; study writes
#            the series as batch_control.tsv
#   report   study's report.html (checker test_study_html, 5th argument):
#            parses, every sample row by subject, a sheet subject/visit
#            with markup shown escaped, provenance and control verdicts,
#            figures linked, --no-report, two calls give the same bytes
set -u
CG=$1
SRC=$2
WORK=$3
MODE=$4
CHECKER=${5:-}
CFG="$SRC/configs/treg_th17.yaml"
fails=0
pass=0

ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
check() { if eval "$1"; then ok; else bad "$2"; fi; }
q() { sqlite3 "$1" "$2"; }

command -v sqlite3 >/dev/null 2>&1 || { echo "sqlite3 CLI missing (scripts/install-deps.sh)" >&2; exit 1; }
rm -rf "$WORK"
mkdir -p "$WORK/fcs"
cd "$WORK" || exit 1

# sim FILE SEED TREG [TH17]
sim() {
    "$CG" simulate -o "fcs/$1.fcs" --seed "$2" --events 10000 --treg "$3" \
        --th17 "${4:-1.5}" --no-truth >/dev/null 2>&1 || bad "simulate $1"
}

# batch K: S1 and S2 at visit K, control C_QK (subject BRIDGE)
make_batch() {
    k=$1
    sim "S1_V$k" $((10 + k)) $((4 + k))
    sim "S2_V$k" $((20 + k)) $((9 - k))
    sim "C_Q$k" $((30 + k)) "${2:-6}"
    {
        echo "file,sample_id,subject,visit,role"
        echo "fcs/S1_V$k.fcs,S1_V$k,S1,$k,sample"
        echo "fcs/C_Q$k.fcs,C_Q$k,BRIDGE,Q$k,control"
        echo "fcs/S2_V$k.fcs,S2_V$k,S2,$k,"
    } >"q$k.csv"
}

dump_sha() {
    for t in meta analyses batches samples populations statistics qc; do
        sqlite3 "$1" "SELECT * FROM $t" | LC_ALL=C sort
    done | sha256sum | cut -d' ' -f1
}

counts() {
    for t in analyses batches samples populations statistics qc; do
        printf '%s=%s ' "$t" "$(q "$1" "SELECT count(*) FROM $t")"
    done
}

case "$MODE" in
store)
    for k in 1 2 3; do make_batch $k; done
    { cat q1.csv; tail -n +2 q2.csv; tail -n +2 q3.csv; } >all.csv
    for k in 1 2 3; do
        "$CG" run -q -c "$CFG" --sheet "q$k.csv" -o "out_q$k" --db study.sqlite \
            --no-plots || bad "run q$k --db exit $?"
    done
    "$CG" run -q -c "$CFG" --sheet all.csv -o out_all --no-plots ||
        bad "run all exit $?"
    "$CG" study -q --db study.sqlite -o study_out || bad "study exit $?"
    check "cmp -s study_out/longitudinal.tsv out_all/longitudinal.tsv" \
        "study-wide longitudinal.tsv differs from one run over all files"
    check "[ \$(wc -l <study_out/longitudinal.tsv) -eq 7 ]" \
        "longitudinal.tsv: header + 6 patient rows expected"
    check "! grep -q BRIDGE out_all/longitudinal.tsv" \
        "a control in the run's longitudinal table"
    check "! grep -q BRIDGE study_out/longitudinal.tsv" \
        "a control in the study's longitudinal table"
    check "[ -s study_out/plots/longitudinal.png ]" "study longitudinal.png"
    check "[ -s study_out/plots/levey_jennings_BRIDGE.png ]" "study LJ chart"
    check "[ \$(wc -l <study_out/batches.tsv) -eq 4 ]" "batches.tsv rows"
    check "grep -q establishing out_q3/qc.tsv" \
        "3 of 5 batches: establishing limits"
    check "[ \$(q study.sqlite 'PRAGMA user_version') = 1 ]" "user_version"
    check "[ \$(q study.sqlite \"SELECT value FROM meta WHERE key='schema_version'\") = 1 ]" \
        "meta schema_version"
    check "[ \$(q study.sqlite 'PRAGMA journal_mode') = wal ]" "WAL mode"
    check "[ \$(q study.sqlite \"SELECT count(*) FROM samples WHERE role='control'\") = 3 ]" \
        "three controls stored"
    check "[ \$(q study.sqlite 'SELECT count(DISTINCT sha256) FROM samples') = 9 ]" \
        "each input's sha256 stored"
    # the stored ratio is the run's double: the table matches to the digit
    r=$(q study.sqlite "SELECT printf('%.6g', th17_treg_ratio) FROM samples WHERE sample_id='S1_V2'")
    r2=$(awk -F'\t' '$1=="S1_V2"{print $13}' out_q2/summary.tsv)
    check "[ '$r' = '$r2' ]" "stored ratio $r vs summary $r2"
    # rerun a batch: row counts unchanged, no duplicates
    before=$(counts study.sqlite)
    "$CG" run -q -c "$CFG" --sheet q2.csv -o out_q2b --db study.sqlite \
        --no-plots || bad "rerun q2 exit $?"
    after=$(counts study.sqlite)
    check "[ '$before' = '$after' ]" "rerun changed row counts: $before -> $after"
    check "[ \$(q study.sqlite 'SELECT count(*) FROM samples GROUP BY analysis_id, sha256 HAVING count(*) > 1' | wc -l) -eq 0 ]" \
        "duplicated inputs after a rerun"
    "$CG" study -q --db study.sqlite -o study_out2 --no-plots || bad "study 2"
    check "cmp -s study_out2/longitudinal.tsv out_all/longitudinal.tsv" \
        "longitudinal.tsv changed after a rerun"
    # another config: a new analysis, the first one untouched
    sed 's/^name: treg_th17/name: treg_th17_v2/' "$CFG" >v2.yaml
    "$CG" run -q -c v2.yaml --sheet q1.csv -o out_v2 --db study.sqlite \
        --no-plots || bad "run v2 exit $?"
    check "[ \$(q study.sqlite 'SELECT count(*) FROM analyses') = 2 ]" \
        "a changed config is a second analysis"
    check "[ \$(q study.sqlite 'SELECT count(*) FROM samples WHERE analysis_id = 1') = 9 ]" \
        "the first analysis keeps its 9 samples"
    check "[ \$(q study.sqlite 'SELECT count(*) FROM samples WHERE analysis_id = 2') = 3 ]" \
        "the second analysis has its 3"
    "$CG" study --db study.sqlite --list >list.tsv || bad "study --list"
    check "[ \$(wc -l <list.tsv) -eq 3 ] && grep -q treg_th17_v2 list.tsv" \
        "study --list lists both analyses"
    "$CG" study -q --db study.sqlite -o study_v1 --analysis 1 --no-plots ||
        bad "study --analysis 1"
    check "cmp -s study_v1/longitudinal.tsv out_all/longitudinal.tsv" \
        "analysis 1 after a v2 batch"
    "$CG" study -q --db study.sqlite -o study_v2 --no-plots || bad "study v2"
    check "[ \$(wc -l <study_v2/longitudinal.tsv) -eq 3 ]" \
        "latest analysis (v2): 2 patient rows"
    # concurrent runs on one store: all three batches land (busy timeout)
    for k in 1 2 3; do
        "$CG" run -q -c "$CFG" --sheet "q$k.csv" -o "par_q$k" --db par.sqlite \
            --no-plots &
    done
    wait
    check "[ \$(q par.sqlite 'SELECT count(*) FROM samples') = 9 ]" \
        "concurrent runs: 9 samples"
    check "[ \$(q par.sqlite 'PRAGMA integrity_check') = ok ]" \
        "concurrent runs: integrity_check"
    # merge --db: per-sample runs of batch 1, merged without a sheet
    for id in S1_V1 C_Q1 S2_V1; do
        "$CG" run -q -c "$CFG" --sheet q1.csv --sample $id -o "ps_$id" \
            --no-plots || bad "run --sample $id"
    done
    "$CG" merge -q -c "$CFG" -o merged --db merged.sqlite ps_S1_V1 ps_C_Q1 \
        ps_S2_V1 || bad "merge --db exit $?"
    check "cmp -s merged/longitudinal.tsv out_q1/longitudinal.tsv" \
        "merge: longitudinal.tsv (controls left out) differs from the run"
    check "[ \$(q merged.sqlite \"SELECT role FROM samples WHERE sample_id='C_Q1'\") = control ]" \
        "merge --db: the control's role"
    sel="SELECT s.sample_id, s.sha256, s.role, s.qc, s.treg_count, s.th17_treg_ratio, p.population, p.count, p.parent_count, (SELECT count(*) FROM statistics t WHERE t.sample_pk = s.sample_pk), (SELECT count(*) FROM qc c WHERE c.sample_pk = s.sample_pk) FROM samples s JOIN populations p USING (sample_pk) WHERE s.sample_id IN ('S1_V1', 'C_Q1', 'S2_V1') AND s.analysis_id = 1 ORDER BY 1, 7"
    q merged.sqlite "$sel" >m_rows.txt
    q study.sqlite "$sel" >r_rows.txt
    check "[ -s m_rows.txt ] && cmp -s m_rows.txt r_rows.txt" \
        "merge --db stores what run --db stores"
    # a bad role names the line; a non-store database is refused
    printf 'file,role\nfcs/S1_V1.fcs,sample\nfcs/S2_V1.fcs,bridge\n' >badrole.csv
    "$CG" run -q -c "$CFG" --sheet badrole.csv -o out_bad 2>err.txt
    rc=$?
    check "[ $rc -eq 1 ] && grep -q 'badrole.csv.*3' err.txt && grep -q bridge err.txt" \
        "bad role: exit $rc, $(cat err.txt)"
    sqlite3 other.sqlite "CREATE TABLE t (x)"
    "$CG" run -q -c "$CFG" --sheet q1.csv -o out_other --db other.sqlite \
        --no-plots 2>err.txt
    rc=$?
    check "[ $rc -eq 1 ] && grep -q 'not a cytogate study store' err.txt" \
        "foreign database: exit $rc, $(cat err.txt)"
    "$CG" run -q -c "$CFG" --sheet q1.csv --stdout --db x.sqlite >/dev/null 2>&1
    check "[ $? -eq 1 ]" "--db without an output folder is a usage error"
    ;;
kill)
    for k in 1 2; do make_batch $k; done
    "$CG" run -q -c "$CFG" --sheet q1.csv -o out_q1 --db study.sqlite \
        --no-plots || bad "run q1"
    before=$(dump_sha study.sqlite)
    # killed inside the transaction, half the batch inserted
    CYTOGATE_STORE_TEST_PAUSE_MS=60000 "$CG" run -q -c "$CFG" --sheet q2.csv \
        -o out_q2 --db study.sqlite --no-plots 2>pause.txt &
    pid=$!
    n=0
    while ! grep -q 'store: paused' pause.txt 2>/dev/null && [ $n -lt 600 ]; do
        sleep 0.1
        n=$((n + 1))
    done
    check "grep -q 'store: paused' pause.txt" "never reached the transaction"
    kill -9 $pid
    wait $pid 2>/dev/null
    after=$(dump_sha study.sqlite)
    check "[ '$before' = '$after' ]" "store changed by a run killed mid-transaction"
    check "[ \$(q study.sqlite 'PRAGMA integrity_check') = ok ]" "integrity"
    check "[ \$(q study.sqlite 'SELECT count(*) FROM samples') = 3 ]" \
        "killed batch: still 3 samples"
    # killed during the batch (before any store write)
    "$CG" run -q -c "$CFG" --sheet q2.csv -o out_q2 --db study.sqlite \
        -j 1 2>/dev/null &
    pid=$!
    sleep 0.3
    kill -9 $pid
    wait $pid 2>/dev/null
    after=$(dump_sha study.sqlite)
    check "[ '$before' = '$after' ]" "store changed by a run killed during the batch"
    # and the store still takes the batch afterwards
    "$CG" run -q -c "$CFG" --sheet q2.csv -o out_q2 --db study.sqlite \
        --no-plots || bad "run q2 after the kills"
    check "[ \$(q study.sqlite 'SELECT count(*) FROM samples') = 6 ]" \
        "q2 stored after the kills"
    ;;
control)
    # control_batches 3: limits from the control's first three batches
    sed 's/^qc:$/qc:\n  control_batches: 3/' "$CFG" >ctl.yaml
    grep -q 'control_batches: 3' ctl.yaml || bad "ctl.yaml"
    for k in 1 2 3; do make_batch $k 6; done
    make_batch 4 16 # Treg 16 % of CD4 instead of 6: far beyond 3 SD
    for k in 1 2 3; do
        "$CG" run -q -c ctl.yaml --sheet "q$k.csv" -o "out_q$k" \
            --db study.sqlite --no-plots || bad "run q$k"
    done
    check "grep -q 'C_Q2	batch_control:treg_pct_cd4	NA	NA	skip	establishing limits' out_q2/qc.tsv" \
        "batch 2 of 3: establishing limits"
    check "[ \$(grep -c 'C_Q3	batch_control:.*	pass	' out_q3/qc.tsv) -eq 3 ]" \
        "batch 3 (sets the limits) judged: pass"
    check "[ \$(grep -c 'C_Q3	batch_control:' out_q3/qc.tsv) -eq 3 ]" \
        "three batch_control rows (treg, th17, ratio)"
    check "! grep -q '^S1_V3	batch_control' out_q3/qc.tsv" \
        "batch_control rows only on controls"
    "$CG" qc -c ctl.yaml --sheet q4.csv --db study.sqlite -o qc4 >qc4.txt 2>&1
    rc=$?
    check "[ $rc -eq 3 ]" "qc --db with a shifted control: exit $rc (want 3)"
    check "grep -q 'C_Q4	batch_control:treg_pct_cd4	.*fail.*1-3s' qc4/qc.tsv" \
        "qc.tsv: batch_control:treg_pct_cd4 fails (1-3s)"
    "$CG" run -q -c ctl.yaml --sheet q4.csv -o out_q4 --db study.sqlite
    check "grep -q 'C_Q4	batch_control:treg_pct_cd4	.*fail' out_q4/qc.tsv" \
        "run: batch_control fails in qc.tsv"
    check "awk -F'\t' 'NR==1{for(i=1;i<=NF;i++)if(\$i==\"qc\")c=i} \$1==\"C_Q4\"{v=\$c} END{exit v!=\"fail\"}' out_q4/summary.tsv" \
        "summary.tsv: the control's verdict is fail"
    check "grep -q '\"qc\": \"fail\"' out_q4/samples/C_Q4.json && grep -q '\"role\": \"control\"' out_q4/samples/C_Q4.json" \
        "sample JSON: control, verdict fail"
    check "[ -s out_q4/plots/levey_jennings_BRIDGE.png ]" \
        "Levey-Jennings chart in plots/"
    # a rerun of batch 3 is judged where it stood: in limits, exit 0
    "$CG" qc -c ctl.yaml --sheet q3.csv --db study.sqlite -o qc3 >/dev/null 2>&1
    rc=$?
    check "[ $rc -eq 0 ] && grep -q 'C_Q3	batch_control:treg_pct_cd4	.*	pass	.*batch 3 vs' qc3/qc.tsv" \
        "rerun control in limits: exit $rc, pass at batch 3"
    # study: the series as a table, judged with the config's N (3)
    "$CG" study -q --db study.sqlite -o st --no-plots || bad "study exit $?"
    check "[ \"\$(cut -f1,2,4,11 st/batch_control.tsv | tr '\t\n' ' ')\" = 'series batch sample_id batch_control BRIDGE 1 C_Q1 pass BRIDGE 2 C_Q2 pass BRIDGE 3 C_Q3 pass BRIDGE 4 C_Q4 fail ' ]" \
        "batch_control.tsv: $(cut -f1,2,4,11 st/batch_control.tsv | tr '\t\n' ' ')"
    # without a store only this batch: one control, establishing limits
    "$CG" qc -c ctl.yaml --sheet q4.csv -o qc4c >/dev/null 2>&1
    check "grep -q 'C_Q4	batch_control:treg_pct_cd4	NA	NA	skip	establishing' qc4c/qc.tsv" \
        "no store: establishing limits"
    ;;
report)
    for k in 1 2 3; do make_batch $k; done
    sim X_V1 41 7
    echo 'fcs/X_V1.fcs,X_V1,<script>alert(1)</script>,<b>1</b>&,sample' >>q3.csv
    for k in 1 2 3; do
        "$CG" run -q -c "$CFG" --sheet "q$k.csv" -o "out_q$k" --db study.sqlite \
            --no-plots || bad "run q$k --db exit $?"
    done
    "$CG" study -q --db study.sqlite -o r1 || bad "study r1 exit $?"
    "$CG" study -q --db study.sqlite -o r2 || bad "study r2 exit $?"
    check "[ -s r1/report.html ]" "study wrote no report.html"
    check "cmp -s r1/report.html r2/report.html" \
        "two study calls on one store gave different report.html bytes"
    check "[ \"\$(ls -A r1 | tr '\n' ' ')\" = 'batch_control.tsv batches.tsv longitudinal.tsv plots report.html ' ]" \
        "r1 holds: $(ls -A r1 | tr '\n' ' ')"
    # parses; 7 sample rows (2 subjects x 3 visits + X_V1, controls out);
    # every subject, the markup subject/visit as text, the control series
    "$CHECKER" r1 7 S1 S2 '<script>alert(1)</script>' '<b>1</b>&' \
        S1_V1 S2_V3 X_V1 BRIDGE C_Q3 establishing >check.txt 2>&1 ||
        bad "test_study_html: $(cat check.txt)"
    check "! grep -qF '<script>alert' r1/report.html" \
        "the sheet's <script> reached the page unescaped"
    check "grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;' r1/report.html" \
        "the sheet's <script> not shown escaped"
    check "grep -qF '&lt;b&gt;1&lt;/b&gt;&amp;' r1/report.html" \
        "the sheet's visit not shown escaped"
    sha=$(q study.sqlite "SELECT config_sha256 FROM analyses WHERE analysis_id = 1")
    check "[ -n '$sha' ] && grep -qF '$sha' r1/report.html" \
        "config sha256 $sha not in the provenance"
    check "grep -qF '<code>study.sqlite</code>' r1/report.html" \
        "store path not in the provenance"
    check "[ \$(grep -c '<td>out_q[123]</td><td>out_q[123]</td>' r1/report.html) -eq 3 ]" \
        "each batch's label and outdir"
    check "grep -q 'src=\"plots/longitudinal.png\"' r1/report.html && grep -q 'src=\"plots/levey_jennings_BRIDGE.png\"' r1/report.html" \
        "figures not linked relatively"
    check "grep -Eq 'class=\"v v-(pass|warn|fail)\">(pass|warn|fail)<' r1/report.html" \
        "no coloured QC verdict"
    # without plots: no figure links; --no-report: no page
    "$CG" study -q --db study.sqlite -o r3 --no-plots || bad "study r3 exit $?"
    check "! grep -q '<img' r3/report.html" "--no-plots page links figures"
    "$CG" study -q --db study.sqlite -o r4 --no-report || bad "study r4 exit $?"
    check "[ -s r4/longitudinal.tsv ] && [ ! -e r4/report.html ]" \
        "--no-report wrote report.html"
    ;;
*)
    echo "unknown mode $MODE" >&2
    exit 2
    ;;
esac

echo "study $MODE: $pass checks passed, $fails failed"
[ "$fails" -eq 0 ]
