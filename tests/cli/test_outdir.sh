#!/bin/sh
# test_outdir.sh -- the output folder of `cytogate run`/`merge` (issue 18):
# a rerun, a crash, a signal or a full disk never leaves a folder that
# looks complete (run.json) but mixes or misses results.
#
#   test_outdir.sh CYTOGATE FAILWRITE_SO SRCDIR WORKDIR MODE [SANITIZE]
#
# MODE:
#   rerun     a rerun with another sample set (no subjects, no plots)
#             replaces the whole previous set: no stale samples/*.json,
#             plots/<id>/, longitudinal.tsv; no staging or lock left
#   lock      a second run into a busy -o is refused (exit 1, names the
#             holder's PID); SIGTERM of the holder: exit 143, no staging,
#             no *.tmp.*, no lock file, the previous results intact;
#             an -o that cannot be created is exit 1
#   kill9     kill -9 in the middle of a run: the previous complete set
#             and its run.json stay; the next run removes the leftovers
#   faults    LD_PRELOAD shim failing writes: a table (nothing committed,
#             exit 2, the file named, no success line), one sample's
#             JSON and one sample's figures (that sample an error row,
#             the rest committed, exit 2), a disk that fills up midway
#   tmpfs     a real full disk: a 1 MB tmpfs in a private mount namespace
#             (skipped when `unshare -rm` is not allowed)
#   sheet     sample ids: 251 bytes, '/', ':' and a leading '=' refused at
#             sheet read naming the row; nothing created in -o
#   safe_tsv  --safe-tsv prefixes =cmd, +x, -x, @x cells with ' in run and
#             merge TSVs (not -1.5, not the JSON); without it they stay
#   merge     merge into an -o holding another run: replaced whole; a
#             merge into a busy -o is refused
set -u
CG=$1
SHIM=$2
SRC=$3
WORK=$4
MODE=$5
SAN=${6:-OFF}
CFG="$SRC/configs/treg_th17.yaml"
fails=0
pass=0

ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
check() { if eval "$1"; then ok; else bad "$2"; fi; }
finish() {
    echo "$pass passed, $fails failed"
    [ "$fails" -eq 0 ]
    exit $?
}

command -v python3 >/dev/null 2>&1 || { echo "FAIL: python3 not found" >&2; exit 1; }
rm -rf "$WORK"
mkdir -p "$WORK/data" || exit 1
cd "$WORK" || exit 1
D="$WORK/data"

# small samples s1..s4 (subjects and visits) and one bigger file that
# long runs list many times under different ids
sim() { "$CG" simulate -o "$D/$1.fcs" --seed "$2" --events "$3" --no-truth ||
        { echo "FAIL: simulate $1" >&2; exit 1; }; }
sim s1 1 20000
sim s2 2 20000
sim s3 3 20000
sim s4 4 20000
printf 'file,sample_id,subject,visit\ns1.fcs,P1_V1,P1,V1\ns2.fcs,P1_V2,P1,V2\ns3.fcs,P2_V1,P2,V1\n' > "$D/a.csv"
printf 'file,sample_id\ns4.fcs,Q1\ns1.fcs,Q2\n' > "$D/b.csv"
long_sheet() { # N: N rows of big.fcs
    [ -f "$D/big.fcs" ] || sim big 9 200000
    { echo "file,sample_id"; i=1; while [ $i -le "$1" ]; do
        printf 'big.fcs,L%02d\n' $i; i=$((i + 1)); done; } > "$D/long.csv"
}

# consistent DIR: "complete ID..." when run.json is there and everything
# beside it belongs to its run; "incomplete" without run.json; an
# assertion error (non-zero exit) for a mixed folder
consistent() {
    python3 - "$1" <<'EOF'
import json, os, sys
d = sys.argv[1]
rj = os.path.join(d, "run.json")
if not os.path.exists(rj):
    print("incomplete")
    sys.exit(0)
r = json.load(open(rj))
ids = [x["sample_id"] for x in r["inputs"]]
rows = [l.split("\t")[0] for l in
        open(os.path.join(d, "summary.tsv")).read().splitlines()[1:]]
assert rows == ids, ("summary.tsv rows", rows, ids)
js = sorted(f[:-5] for f in os.listdir(os.path.join(d, "samples")))
assert js == sorted(ids), ("samples/", js, ids)
st = {l.split("\t")[0] for l in
      open(os.path.join(d, "stats.tsv")).read().splitlines()[1:]}
assert st <= set(ids), ("stats.tsv", st, ids)
pd = os.path.join(d, "plots")
if r.get("plots") and os.path.isdir(pd):
    sub = {x for x in os.listdir(pd) if os.path.isdir(os.path.join(pd, x))}
    assert sub <= set(ids), ("plots/", sub, ids)
else:
    assert not os.path.exists(pd), "plots/ of an earlier run"
lg = os.path.exists(os.path.join(d, "longitudinal.tsv"))
subj = any(x.get("subject") for x in
           (json.load(open(os.path.join(d, "samples", i + ".json")))
            for i in ids))
assert lg == subj, ("longitudinal.tsv", lg, subj)
print("complete " + " ".join(ids))
EOF
}
# leftovers DIR: staging folders, temporaries and the lock file
leftovers() {
    find "$1" \( -name '.cytogate-staging.*' -o -name '*.tmp.*' \
        -o -name .cytogate.lock \) -print 2>/dev/null
}
# wait_for GLOB SECONDS: until a path matches (1) or time is up (0)
wait_for() {
    n=0
    while [ $n -lt $(($2 * 10)) ]; do
        for p in $1; do [ -e "$p" ] && return 0; done
        sleep 0.1
        n=$((n + 1))
    done
    return 1
}

case "$MODE" in
rerun)
    "$CG" run -q -c "$CFG" --sheet "$D/a.csv" -o out
    check '[ $? -eq 0 ]' "first run: exit 0"
    check '[ "$(consistent out)" = "complete P1_V1 P1_V2 P2_V1" ]' \
          "first run complete: $(consistent out 2>&1)"
    check '[ -f out/longitudinal.tsv ] && [ -d out/plots/P1_V1 ] && [ -f out/plots/longitudinal.png ]' \
          "first run wrote longitudinal.tsv and figures"
    echo "keep me" > out/notes.txt
    t0=$(date +%s.%N)
    "$CG" run -q -c "$CFG" --no-plots --sheet "$D/b.csv" -o out 2>err.txt
    rc=$?
    t1=$(date +%s.%N)
    echo "rerun of 2 samples into a folder of 3: $(echo "$t1 - $t0" | bc 2>/dev/null || echo "?") s"
    check '[ $rc -eq 0 ]' "rerun: exit $rc: $(cat err.txt)"
    check '[ "$(consistent out)" = "complete Q1 Q2" ]' \
          "rerun replaced the set: $(consistent out 2>&1)"
    check '[ ! -e out/longitudinal.tsv ] && [ ! -e out/plots ] && [ ! -e out/samples/P1_V1.json ]' \
          "stale longitudinal.tsv / plots / samples json left"
    check '[ "$(cat out/notes.txt)" = "keep me" ]' "a file that is not an output was touched"
    check '[ -z "$(leftovers out)" ]' "leftovers: $(leftovers out)"
    # and back, with figures: the plots come back whole
    "$CG" run -q -c "$CFG" --sheet "$D/a.csv" -o out
    check '[ $? -eq 0 ] && [ "$(consistent out)" = "complete P1_V1 P1_V2 P2_V1" ]' \
          "third run: $(consistent out 2>&1)"
    check '[ -z "$(leftovers out)" ]' "leftovers: $(leftovers out)"
    ;;
lock)
    "$CG" run -q -c "$CFG" --sheet "$D/a.csv" -o out || bad "first run"
    cp out/run.json before.json
    long_sheet 12
    "$CG" run -q -c "$CFG" --sheet "$D/long.csv" -o out 2>holder.err &
    pid=$!
    wait_for "out/.cytogate-staging.$pid/plots/L01/*.png" 60 ||
        bad "the long run made no figure in 60 s"
    check '[ "$(cat out/.cytogate.lock 2>/dev/null)" = "$pid" ]' \
          "lock file holds the PID $pid: $(cat out/.cytogate.lock 2>&1)"
    "$CG" run -q -c "$CFG" --sheet "$D/b.csv" -o out 2>second.err
    rc=$?
    check '[ $rc -eq 1 ]' "second run into a busy -o: exit $rc (want 1)"
    check 'grep -q "in use by another cytogate run or merge (pid $pid)" second.err' \
          "refusal names the PID: $(cat second.err)"
    kill -TERM $pid
    wait $pid
    rc=$?
    check '[ $rc -eq 143 ]' "SIGTERM: exit $rc (want 143)"
    check 'grep -q "interrupted by signal 15: nothing committed" holder.err' \
          "SIGTERM message: $(cat holder.err)"
    check '[ -z "$(leftovers out)" ]' "SIGTERM left: $(leftovers out)"
    check 'cmp -s before.json out/run.json' "the previous run.json changed"
    check '[ "$(consistent out)" = "complete P1_V1 P1_V2 P2_V1" ]' \
          "previous results intact: $(consistent out 2>&1)"
    check '[ ! -e out/plots/L01 ] && [ ! -e out/samples/L01.json ]' \
          "the interrupted run's outputs leaked"
    # an -o that cannot be created: usage-level
    echo x > afile
    "$CG" run -q -c "$CFG" --sheet "$D/a.csv" -o afile/sub 2>mk.err
    rc=$?
    check '[ $rc -eq 1 ]' "-o under a file: exit $rc (want 1)"
    check 'grep -q "cannot create the output folder" mk.err' "message: $(cat mk.err)"
    ;;
kill9)
    "$CG" run -q -c "$CFG" --sheet "$D/a.csv" -o out || bad "first run"
    cp out/run.json before.json
    long_sheet 12
    "$CG" run -q -c "$CFG" --sheet "$D/long.csv" -o out 2>/dev/null &
    pid=$!
    wait_for "out/.cytogate-staging.$pid/plots/L02/*.png" 60 ||
        bad "the long run made no figure in 60 s"
    kill -KILL $pid
    wait $pid 2>/dev/null
    check '[ -d out/.cytogate-staging.$pid ]' "kill -9 left no staging folder (test too slow?)"
    check 'cmp -s before.json out/run.json' "run.json changed after kill -9"
    check '[ "$(consistent out)" = "complete P1_V1 P1_V2 P2_V1" ]' \
          "after kill -9: $(consistent out 2>&1)"
    # the next run: no lock held by the dead PID, leftovers removed
    "$CG" run -q -c "$CFG" --sheet "$D/b.csv" -o out 2>next.err
    rc=$?
    check '[ $rc -eq 0 ]' "run after kill -9: exit $rc: $(cat next.err)"
    check '[ "$(consistent out)" = "complete Q1 Q2" ]' \
          "after the next run: $(consistent out 2>&1)"
    check '[ -z "$(leftovers out)" ]' "not cleaned: $(leftovers out)"
    # a dead run's temporary beside the outputs goes too, a live one stays
    echo x > out/qc.tsv.tmp.999999999
    echo x > "out/qc.tsv.tmp.$$"
    "$CG" run -q -c "$CFG" --sheet "$D/b.csv" -o out || bad "third run"
    check '[ ! -e out/qc.tsv.tmp.999999999 ] && [ -e "out/qc.tsv.tmp.$$" ]' \
          "temporaries: dead PID's removed, live PID's kept"
    rm -f "out/qc.tsv.tmp.$$"
    ;;
faults)
    # Under ASan the shim runs inside the sanitized process; it only
    # wraps fopen, which ASan's interceptor forwards to it.
    export ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}verify_asan_link_order=0"
    "$CG" run -q -c "$CFG" --sheet "$D/a.csv" -o out || bad "first run"
    cp out/run.json before.json
    shim() { env LD_PRELOAD="$SHIM" CG_FAIL_PATTERN="$1" CG_FAIL_AFTER="$2" \
                 CG_FAIL_ERRNO="$3" CG_FAIL_COUNT="${COUNT:-999999}" \
                 "$CG" run -c "$CFG" --sheet "$D/$4" -o out; }
    # 1. a table: nothing committed
    shim "/stats.tsv" 0 ENOSPC b.csv 2>t1.err
    rc=$?
    check '[ $rc -eq 2 ]' "stats.tsv failing: exit $rc (want 2)"
    check 'grep -q "out/stats.tsv: cannot write: No space left on device" t1.err' \
          "stats.tsv named: $(cat t1.err)"
    check '! grep -q "results in" t1.err' "a success line after a failed write: $(cat t1.err)"
    check 'grep -q "nothing was committed: out/ keeps the previous run" t1.err' \
          "closing line: $(tail -1 t1.err)"
    check 'cmp -s before.json out/run.json && [ "$(consistent out)" = "complete P1_V1 P1_V2 P2_V1" ]' \
          "previous results not intact: $(consistent out 2>&1)"
    check '[ -z "$(leftovers out)" ]' "leftovers: $(leftovers out)"
    # 2. one sample's JSON, for good: its record cannot exist, so the
    # set is not complete and nothing is committed
    shim "/samples/Q2.json" 0 EIO b.csv 2>t2.err
    rc=$?
    check '[ $rc -eq 2 ]' "Q2.json failing: exit $rc (want 2)"
    check 'grep -q "out/samples/Q2.json: cannot write: Input/output error" t2.err' \
          "Q2.json named: $(cat t2.err)"
    check 'cmp -s before.json out/run.json' "committed without samples/Q2.json"
    # 3. one sample's JSON, once (EIO): that sample is an error row
    COUNT=1 shim "/samples/Q2.json" 0 EIO b.csv 2>t2.err
    rc=$?
    check '[ $rc -eq 2 ]' "Q2.json failing: exit $rc (want 2)"
    check '[ "$(consistent out)" = "complete Q1 Q2" ]' "committed: $(consistent out 2>&1)"
    check 'grep -q "^Q2	.*	error	.*output not written: samples/Q2.json: Input/output error" out/summary.tsv' \
          "Q2 row: $(grep ^Q2 out/summary.tsv | cut -f5,6 ; grep ^Q2 out/summary.tsv | awk -F'\t' '{print $NF}')"
    check 'grep -q "^Q1	.*	ok	" out/summary.tsv' "Q1 should stay ok"
    check 'grep -q "\"status\": \"error\"" out/samples/Q2.json' "Q2.json rewritten as an error"
    check 'grep -q "1 failed" t2.err && ! grep -q "(0 failed)" t2.err' "closing line: $(tail -1 t2.err)"
    # 4. one sample's figures: an error row, not a note in an ok row
    shim "/plots/Q1/" 0 ENOSPC b.csv 2>t3.err
    rc=$?
    check '[ $rc -eq 2 ]' "Q1 figures failing: exit $rc (want 2)"
    check 'grep -q "^Q1	.*	error	.*output not written: figures: .*No space left on device" out/summary.tsv' \
          "Q1 row: $(grep ^Q1 out/summary.tsv | awk -F'\t' '{print $5, $NF}')"
    check '! grep -q "staging" out/summary.tsv out/samples/Q1.json' "staging path in the outputs"
    check '[ ! -e out/plots/Q1 ] && [ -d out/plots/Q2 ]' "partial figures of Q1 kept"
    check '[ "$(consistent out)" = "complete Q1 Q2" ]' "committed: $(consistent out 2>&1)"
    cp out/run.json before.json
    # 5. the disk fills up after 300 kB of output
    shim ".cytogate-staging." 300000 ENOSPC a.csv 2>t4.err
    rc=$?
    check '[ $rc -eq 2 ]' "disk full: exit $rc (want 2)"
    check '! grep -q "results in" t4.err && ! grep -q "(0 failed)" t4.err' \
          "success claimed on a full disk: $(cat t4.err)"
    check 'grep -q "No space left on device" t4.err' "ENOSPC not reported: $(cat t4.err)"
    check 'cmp -s before.json out/run.json && [ "$(consistent out)" = "complete Q1 Q2" ]' \
          "previous results after a full disk: $(consistent out 2>&1)"
    check '[ -z "$(leftovers out)" ]' "leftovers: $(leftovers out)"
    # 6. stdout: a write error is exit 2 (main checks fclose(stdout))
    if [ -w /dev/full ]; then
        "$CG" run -q -c "$CFG" --sheet "$D/b.csv" --stdout >/dev/full 2>t5.err
        rc=$?
        check '[ $rc -eq 2 ]' "--stdout to a full device: exit $rc (want 2)"
    fi
    ;;
tmpfs)
    if ! unshare -rm true 2>/dev/null; then
        echo "SKIP: unshare -rm not allowed here (the faults mode covers ENOSPC with a shim)"
        exit 0
    fi
    long_sheet 3
    cat > full.sh <<EOF
mkdir -p mnt && mount -t tmpfs -o size=1m tmpfs mnt || exit 99
"$CG" run -c "$CFG" --sheet "$D/long.csv" -o mnt/out 2>full.err
echo \$? > full.rc
python3 - mnt/out > full.state <<'PY' 2>&1
import os, sys
d = sys.argv[1]
print("run.json" if os.path.exists(os.path.join(d, "run.json")) else "no-run.json")
print("staging" if any(x.startswith(".cytogate-staging.") or ".tmp." in x
                       for _, ds, fs in os.walk(d) for x in ds + fs)
      else "clean")
PY
. ./consistent.sh
consistent mnt/out >> full.state 2>&1
EOF
    # the consistency check, for the script run in the namespace
    sed -n '/^consistent() {$/,/^}$/p' "$0" > consistent.sh
    unshare -rm sh full.sh
    [ "$(cat full.rc 2>/dev/null)" = "" ] && { echo "SKIP: tmpfs mount failed"; exit 0; }
    rc=$(cat full.rc)
    check '[ "$rc" -eq 2 ]' "full tmpfs: exit $rc (want 2): $(cat full.err)"
    check 'grep -q "No space left on device" full.err' "ENOSPC not named: $(cat full.err)"
    check '! grep -q "(0 failed)" full.err' \
          "success claimed on a full disk: $(cat full.err)"
    # either the samples whose figures did not fit are error rows in a
    # committed set, or (tables did not fit) nothing is committed
    check 'grep -q "^clean" full.state && ! grep -q Error full.state' \
          "full tmpfs folder: $(cat full.state)"
    ;;
sheet)
    long=$(printf 'x%.0s' $(seq 1 251))
    printf 'file,sample_id\ns1.fcs,ok1\ns2.fcs,%s\n' "$long" > "$D/long_id.csv"
    "$CG" run -q -c "$CFG" --sheet "$D/long_id.csv" -o idout 2>e1.err
    rc=$?
    check '[ $rc -eq 1 ]' "251-byte id: exit $rc (want 1)"
    check 'grep -q "long_id.csv:3: sample_id .xxxxxxxx.*(251 bytes) is longer than 128 bytes" e1.err' \
          "message names row 3: $(cat e1.err)"
    check '[ $(wc -c < e1.err) -lt 400 ]' "message not cut: $(wc -c < e1.err) bytes"
    check '[ ! -e idout ]' "-o created for a refused sheet"
    for bad_id in 'a/b' 'a:b' '=cmd' '.hidden'; do
        printf 'file,sample_id\ns1.fcs,ok1\ns2.fcs,%s\n' "$bad_id" > "$D/bad_id.csv"
        "$CG" run -q -c "$CFG" --sheet "$D/bad_id.csv" -o idout 2>e2.err
        rc=$?
        check '[ $rc -eq 1 ] && grep -q "bad_id.csv:3: sample_id" e2.err' \
              "id '$bad_id': exit $rc: $(cat e2.err)"
    done
    id128=$(printf 'y%.0s' $(seq 1 128))
    printf 'file,sample_id\ns1.fcs,%s\n' "$id128" > "$D/id128.csv"
    "$CG" run -q -c "$CFG" --sheet "$D/id128.csv" -o idout 2>e3.err
    rc=$?
    check '[ $rc -eq 0 ] && [ -f "idout/samples/$id128.json" ] && [ -d "idout/plots/$id128" ]' \
          "a 128-byte id: exit $rc: $(cat e3.err)"
    ;;
safe_tsv)
    printf 'file,sample_id,subject,visit,note\ns1.fcs,S1,=cmd,+v1,@at\ns2.fcs,S2,-x,-1.5,plain\n' > "$D/f.csv"
    "$CG" run -q -c "$CFG" --no-plots --safe-tsv --sheet "$D/f.csv" -o safe 2>s1.err
    rc=$?
    check '[ $rc -eq 0 ]' "--safe-tsv run: exit $rc: $(cat s1.err)"
    check 'grep -q "^S1	[^	]*	'"'"'=cmd	'"'"'+v1	" safe/summary.tsv' \
          "=cmd/+v1 not prefixed: $(grep ^S1 safe/summary.tsv | cut -f1-4)"
    check 'grep -q "	'"'"'@at	" safe/summary.tsv' "@at not prefixed"
    check 'grep -q "^S2	[^	]*	'"'"'-x	-1.5	" safe/summary.tsv' \
          "-x prefixed, -1.5 kept: $(grep ^S2 safe/summary.tsv | cut -f1-4)"
    check 'grep -q "^'"'"'=cmd	" safe/longitudinal.tsv' "longitudinal.tsv not prefixed"
    check 'grep -q "\"subject\": \"=cmd\"" safe/samples/S1.json' "the JSON must keep =cmd"
    check '! grep -q "'"'"'" safe/stats.tsv' "stats.tsv numbers prefixed"
    "$CG" run -q -c "$CFG" --no-plots --sheet "$D/f.csv" -o plain 2>/dev/null
    check 'grep -q "^S1	[^	]*	=cmd	+v1	" plain/summary.tsv' "without --safe-tsv cells change"
    "$CG" run -q -c "$CFG" --no-plots --safe-tsv --sheet "$D/f.csv" --stdout > stdout.tsv 2>/dev/null
    check 'cmp -s stdout.tsv safe/summary.tsv' "--stdout --safe-tsv differs from summary.tsv"
    "$CG" merge -q -c "$CFG" --no-plots --safe-tsv -o merged plain 2>m.err
    rc=$?
    check '[ $rc -eq 0 ] && cmp -s merged/summary.tsv safe/summary.tsv && cmp -s merged/longitudinal.tsv safe/longitudinal.tsv' \
          "merge --safe-tsv: exit $rc $(cat m.err); differs from run --safe-tsv"
    ;;
merge)
    "$CG" run -q -c "$CFG" --sheet "$D/a.csv" -o r_a || bad "run a"
    "$CG" run -q -c "$CFG" --sheet "$D/b.csv" -o r_b || bad "run b"
    "$CG" run -q -c "$CFG" --sheet "$D/a.csv" -o out || bad "run into out"
    "$CG" merge -q -c "$CFG" -o out r_b 2>m1.err
    rc=$?
    check '[ $rc -eq 0 ]' "merge: exit $rc: $(cat m1.err)"
    check '[ "$(consistent out)" = "complete Q1 Q2" ]' "merge replaced the set: $(consistent out 2>&1)"
    check '[ ! -e out/longitudinal.tsv ] && [ ! -e out/plots/P1_V1 ] && [ -d out/plots/Q1 ]' \
          "stale outputs after merge"
    check '[ -z "$(leftovers out)" ]' "leftovers: $(leftovers out)"
    long_sheet 12
    "$CG" run -q -c "$CFG" --sheet "$D/long.csv" -o out 2>/dev/null &
    pid=$!
    wait_for "out/.cytogate-staging.$pid" 60 || bad "no staging folder in 60 s"
    "$CG" merge -q -c "$CFG" -o out r_a 2>m2.err
    rc=$?
    check '[ $rc -eq 1 ] && grep -q "(pid $pid)" m2.err' "merge into a busy -o: exit $rc: $(cat m2.err)"
    kill -TERM $pid
    wait $pid
    check '[ "$(consistent out)" = "complete Q1 Q2" ] && [ -z "$(leftovers out)" ]' \
          "after SIGTERM: $(consistent out 2>&1) $(leftovers out)"
    ;;
*)
    echo "unknown mode $MODE" >&2
    exit 1
    ;;
esac
finish
