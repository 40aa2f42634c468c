#!/bin/sh
# test_opencyto.sh -- openCyto CSV gating templates (`run -c template.csv`).
#   test_opencyto.sh CYTOGATE SOURCE_DIR SHARED_DIR OUT_DIR
# 1. configs/treg_th17_opencyto.csv gives every population of every sample
#    in samples/ exactly the count configs/treg_th17.yaml gives (same
#    population names, same NA populations).
# 2. The panel author's template (realdata/tcell/Luciernaga/
#    GatesUnmixed.csv) parses and gates its FCS file, with all six
#    populations counted.
# 3. Unsupported rows are refused (exit 1) with the CSV line and the alias;
#    an error of the translated config points at the template's line.
# 4. The export of a template run round-trips through `cytogate gate`.
set -u
BIN=$1
SRC=$2
SHARED=$3
OUT=$4/opencyto
rm -rf "$OUT"
mkdir -p "$OUT"
fail=0
say() { echo "FAIL: $*"; fail=1; }

# 1. same counts as the YAML
"$BIN" run -c "$SRC/configs/treg_th17.yaml" --sheet "$SRC/samples/sheet.csv" \
    -o "$OUT/yaml" --no-plots -j 2 >/dev/null 2>"$OUT/yaml.err" ||
    say "yaml run: $(cat "$OUT/yaml.err")"
"$BIN" run -c "$SRC/configs/treg_th17_opencyto.csv" --sheet "$SRC/samples/sheet.csv" \
    -o "$OUT/csv" --no-plots --export-gatingml -j 2 >/dev/null 2>"$OUT/csv.err" ||
    say "template run: $(cat "$OUT/csv.err")"
python3 - "$OUT/yaml/samples" "$OUT/csv/samples" <<'EOF' || fail=1
import json, os, sys
a_dir, b_dir = sys.argv[1], sys.argv[2]
bad = 0
n = 0
for f in sorted(os.listdir(a_dir)):
    a = json.load(open(os.path.join(a_dir, f)))
    try:
        b = json.load(open(os.path.join(b_dir, f)))
    except OSError:
        print("FAIL: %s: no result from the template" % f)
        bad = 1
        continue
    pa = [(p["name"], p["count"]) for p in a["populations"]]
    pb = [(p["name"], p["count"]) for p in b["populations"]]
    if pa != pb:
        print("FAIL: %s: yaml %s\n      csv  %s" % (f, pa, pb))
        bad = 1
    n += len(pa)
print("template vs yaml: %d population counts compared" % n)
sys.exit(bad)
EOF
# the template's export reproduces its counts too
for js in "$OUT"/csv/samples/*.json; do
    id=$(basename "$js" .json)
    "$BIN" gate --gatingml "$OUT/csv/gatingml/$id.xml" "$SRC/samples/$id.fcs" \
        >"$OUT/$id.gate.tsv" 2>&1 || { say "$id: gate on the export failed"; continue; }
    python3 - "$js" "$OUT/$id.gate.tsv" <<'EOF' || say "$id: export counts differ"
import json, sys
j = json.load(open(sys.argv[1]))
got = {}
for line in open(sys.argv[2]).read().splitlines()[1:]:
    f = line.split("\t")
    got[f[0]] = int(f[2])
bad = [(p["name"], p["count"], got.get(p["name"])) for p in j["populations"]
       if p["count"] is not None and got.get(p["name"]) != p["count"]]
if bad:
    print(bad)
sys.exit(1 if bad else 0)
EOF
done

# 2. the panel author's template
L=$SHARED/realdata/tcell/Luciernaga
if [ -f "$L/GatesUnmixed.csv" ]; then
    "$BIN" run -c "$L/GatesUnmixed.csv" "$L"/*.fcs --stdout --no-plots \
        >"$OUT/luc.tsv" 2>"$OUT/luc.err"
    rc=$?
    if [ $rc -ne 0 ]; then
        # a refusal must name the row
        grep -q 'GatesUnmixed.csv:[0-9]*: row ' "$OUT/luc.err" ||
            say "GatesUnmixed.csv: exit $rc without naming a row: $(cat "$OUT/luc.err")"
        echo "GatesUnmixed.csv refused: $(cat "$OUT/luc.err")"
    else
        for pop in singletsFSC singletsSSC singletsSSCB nonDebris lymphocytes live; do
            col=$(head -1 "$OUT/luc.tsv" | tr '\t' '\n' | grep -n "^${pop}_count\$" | cut -d: -f1)
            [ -n "$col" ] || { say "GatesUnmixed: no ${pop}_count column"; continue; }
            v=$(sed -n 2p "$OUT/luc.tsv" | cut -f"$col")
            case $v in ''|NA|*[!0-9]*) say "GatesUnmixed: $pop count '$v'" ;; esac
        done
        echo "GatesUnmixed.csv: parsed and gated"
    fi
else
    say "shared template missing at $L/GatesUnmixed.csv"
fi

# 3. refusals name the CSV line and the row
S1=$SRC/samples/S01_V1.fcs
H=alias,pop,parent,dims,gating_method,gating_args,collapseDataForGating,groupBy,preprocessing_method,preprocessing_args
refuse() { # NAME WANT-REGEX CSV-TEXT
    printf '%s\n%s' "$H" "$3" >"$OUT/$1.csv"
    "$BIN" run -c "$OUT/$1.csv" "$S1" --stdout >/dev/null 2>"$OUT/$1.err"
    rc=$?
    [ $rc -eq 1 ] || say "$1: exit $rc, want 1"
    grep -Eq "$2" "$OUT/$1.err" || say "$1: message '$(cat "$OUT/$1.err")' lacks /$2/"
}
refuse refgate '\.csv:3: row cd4: gating_method .refGate. is not supported' \
'cd3,+,root,CD3,gate_mindensity,,FALSE,NA,NA,NA
cd4,+,cd3,CD4,refGate,cd3,FALSE,NA,NA,NA
'
refuse badarg "\.csv:2: row cd3: gating_args 'foo' is not supported" \
'cd3,+,root,CD3,gate_mindensity,foo=1,FALSE,NA,NA,NA
'
refuse pooled '\.csv:2: row cd3: pooled gating' \
'cd3,+,root,CD3,gate_mindensity,,TRUE,NA,NA,NA
'
refuse parent "\.csv:2: row cd4: parent 'cd3' is not an alias" \
'cd4,+,cd3,CD4,gate_mindensity,,FALSE,NA,NA,NA
'
refuse pm '\.csv:2: row cd4: pop .\+/-.' \
'cd4,+/-,root,CD4,gate_mindensity,,FALSE,NA,NA,NA
'
refuse boolmix '\.csv:4: row b: boolGate' \
'a,+,root,CD3,gate_mindensity,,FALSE,NA,NA,NA
c,+,root,CD4,gate_mindensity,,FALSE,NA,NA,NA
b,+,root,,boolGate,a&!c,FALSE,NA,NA,NA
'
refuse flowclust '\.csv:2: row x: flowClust is supported on scatter only' \
'x,+,root,"CD4,CD8",flowClust,,FALSE,NA,NA,NA
'
# a config-level error (adjust out of range) is reported on the CSV line
refuse range '\.csv:3: gates\[1\] \(cd4\)\.dims\[0\]\.adjust' \
'cd3,+,root,CD3,gate_mindensity,,FALSE,NA,NA,NA
cd4,+,cd3,CD4,gate_mindensity,adjust=-1,FALSE,NA,NA,NA
'
[ $fail -eq 0 ] && echo "openCyto templates: OK"
exit $fail
