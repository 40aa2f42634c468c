#!/bin/sh
# test_hostile_batch.sh -- a plate folder with one good sample among files
# that used to cost the whole batch (issue #18): a FIFO named x.fcs (hung
# `run` in open()), an empty file, a truncated file, and a file that is
# truncated and rewritten in a loop while `run` reads it (SIGBUS through
# the old mapping).  The run must finish, exit 2, write an error row for
# each bad file and the good sample's results.
#
#   test_hostile_batch.sh CYTOGATE SRCDIR WORKDIR
set -u
CG=$1
SRC=$2
WORK=$3
CFG="$SRC/configs/treg_th17.yaml"
fails=0
pass=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
check() { if eval "$1"; then ok; else bad "$2"; fi; }
col() {
    awk -F'\t' -v id="$2" -v c="$3" 'NR==1{for(i=1;i<=NF;i++) if($i==c) k=i; next}
        $1==id{print $k}' "$1"
}

rm -rf "$WORK"
P="$WORK/plate"
mkdir -p "$P" || exit 1
cp "$SRC/samples/S01_V1.fcs" "$P/good.fcs" || exit 1
mkfifo "$P/x.fcs" || exit 1
: > "$P/empty.fcs"
head -c 20000 "$SRC/samples/S01_V1.fcs" > "$P/trunc.fcs"
cp "$SRC/samples/S01_V1.fcs" "$P/shrink.fcs"

# shrink.fcs: emptied and written back, over and over
( while :; do
      : > "$P/shrink.fcs"
      cat "$SRC/samples/S01_V1.fcs" > "$P/shrink.fcs"
  done ) &
LOOP=$!

# a hang in open() would stop here: give up after 60 s
timeout 60 "$CG" run -q -j 2 -c "$CFG" --no-plots -o "$WORK/out" "$P" \
    2> "$WORK/err"
rc=$?
kill "$LOOP" 2>/dev/null
wait "$LOOP" 2>/dev/null

S="$WORK/out/summary.tsv"
check '[ $rc -eq 2 ]' "exit status $rc, expected 2 ($(cat "$WORK/err"))"
check '[ -s "$S" ]' "summary.tsv written"
check '[ "$(col "$S" good status)" = ok ]' "good sample ok"
check '[ "$(col "$S" good treg_count)" -gt 0 ]' "good sample counted"
check '[ -s "$WORK/out/samples/good.json" ]' "good sample json"
check '[ "$(col "$S" x status)" = error ]' "FIFO: error row"
check 'col "$S" x message | grep -q "not a regular file (FIFO)"' \
    "FIFO: message ($(col "$S" x message))"
check '[ "$(col "$S" empty status)" = error ]' "empty file: error row"
check 'col "$S" empty message | grep -q "shorter than an FCS HEADER"' \
    "empty file: message ($(col "$S" empty message))"
check '[ "$(col "$S" trunc status)" = error ]' "truncated file: error row"
check 'col "$S" trunc message | grep -q "file is 20000 bytes"' \
    "truncated file: message ($(col "$S" trunc message))"
# shrink.fcs is read whole at some moment: a consistent file (ok) or a
# refusal (error); what matters is that it has its row
st=$(col "$S" shrink status)
check '[ "$st" = ok ] || [ "$st" = error ]' "shrinking file: a row ($st)"
echo "shrinking file: $st $(col "$S" shrink message)"
check '[ -s "$WORK/out/run.json" ]' "run.json written"

echo "$pass passed, $fails failed"
[ $fails -eq 0 ]
