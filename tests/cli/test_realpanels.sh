#!/bin/sh
# test_realpanels.sh -- the shipped configs on real T-cell panels from
# other labs (../shared/realdata/tcell, issue 17), and per-sample gate
# overrides from the sample sheet (issue 13).
#   test_realpanels.sh CYTOGATE SRC SHARED OUT_DIR
# Asserts:
#   - the unmixed Cytek Aurora file (no FOXP3, no IL-17A, range 4194304)
#     runs unchanged with configs/treg_th17.yaml and _spectral.yaml;
#     Treg % of CD4 is within 1.5 points of the manual gating (22 of
#     1343 = 1.64 %), CD4 T cells within 15 % of the manual 1343, the
#     headline says CD25hi CD127lo and the surface Th17 phenotype, and
#     the pre-gates land near the manual ones (cells, live, CD3);
#   - the four CyTOF files run unchanged with configs/treg_th17_cytof.yaml
#     (no scatter, no CD127): Treg is CD25+ FOXP3+, and with ~100-150 CD4
#     T cells each the QC says so (precision:treg warn or fail);
#   - a sheet column gate:live overrides the live cut for one sample only,
#     recorded as rule 'override' with the auto cut kept, a QC override
#     row, and bad override columns or values stop the run (exit 1)
#     naming the column or the line.
set -u
BIN=$1
SRC=$2
SH=$3/realdata/tcell
OUT=$4/realpanels
rm -rf "$OUT"
mkdir -p "$OUT"
fail=0
check() { if [ "$1" = "$2" ]; then :; else echo "FAIL: $3: got '$1' want '$2'"; fail=1; fi; }
col() { # col FILE NAME: the value of column NAME in row 2 of a TSV
    awk -F'\t' -v n="$2" 'NR==1{for(i=1;i<=NF;i++) if($i==n) c=i} NR==2{print $c}' "$1"
}
within() { # within VALUE TARGET TOL WHAT
    awk -v v="$1" -v t="$2" -v d="$3" 'BEGIN{exit !(v != "NA" && v - t <= d && t - v <= d)}' ||
        { echo "FAIL: $4: $1 not within $3 of $2"; fail=1; }
}

AUR="$SH/Luciernaga/DTR_2023_ILT_15_Tetramers-INF071-Ctrl_Tetramer_Unmixed.fcs"
for cfg in treg_th17 treg_th17_spectral; do
    "$BIN" run -q -c "$SRC/configs/$cfg.yaml" -o "$OUT/$cfg" "$AUR"
    check "$?" 0 "$cfg: exit"
    S="$OUT/$cfg/summary.tsv"
    check "$(col "$S" status)" ok "$cfg: status"
    within "$(col "$S" treg_pct_cd4)" 1.64 1.5 "$cfg: Treg % of CD4 vs manual"
    within "$(col "$S" cd4_count)" 1343 200 "$cfg: CD4 T cells vs manual"
    check "$(col "$S" treg_definition)" "CD25hi CD127lo" "$cfg: treg_definition"
    check "$(col "$S" th17_definition)" "CCR6+ CXCR3- (CCR4+ when stained)" \
        "$cfg: th17_definition"
done
S="$OUT/treg_th17/summary.tsv"
within "$(col "$S" cells_count)" 4739 600 "cells vs manual 4739"
within "$(col "$S" live_count)" 4222 600 "live vs manual 4222"
within "$(col "$S" cd3_count)" 1941 250 "CD3 vs manual 1941"

"$BIN" run -q -c "$SRC/configs/treg_th17_cytof.yaml" -o "$OUT/cytof" \
    "$SH"/CytoNorm/*.fcs
check "$?" 0 "cytof: exit"
n=$(awk -F'\t' 'NR>1 && $5=="ok"' "$OUT/cytof/summary.tsv" | wc -l)
check "$n" 4 "cytof: samples processed"
n=$(awk -F'\t' 'NR==1{for(i=1;i<=NF;i++) if($i=="treg_definition") c=i}
                NR>1 && $c=="CD25+ FOXP3+"' "$OUT/cytof/summary.tsv" | wc -l)
check "$n" 4 "cytof: Treg defined as CD25+ FOXP3+"
n=$(awk -F'\t' '$2=="precision:treg" && ($5=="warn" || $5=="fail")' \
    "$OUT/cytof/qc.tsv" | wc -l)
check "$n" 4 "cytof: imprecise Treg flagged"

# per-sample overrides
S1="$SRC/samples/S01_V1.fcs"
printf 'file,sample_id,gate:live\n%s,A,\n%s,B,0.3\n' "$S1" "$S1" > "$OUT/ov.csv"
"$BIN" run -q -c "$SRC/configs/treg_th17.yaml" --sheet "$OUT/ov.csv" \
    --no-plots -o "$OUT/ov"
check "$?" 0 "override: exit"
rule() { # rule SAMPLE: rule, threshold, auto_threshold of the live cut
    awk 'BEGIN{RS="\"name\": "} /^"live"/' "$OUT/ov/samples/$1.json" |
        grep -o '"rule": "[^"]*"' | head -1
}
check "$(rule A)" '"rule": "valley"' "override: A keeps the auto cut"
check "$(rule B)" '"rule": "override"' "override: B overridden"
grep -q '"auto_threshold"' "$OUT/ov/samples/B.json" ||
    { echo "FAIL: override: auto_threshold missing"; fail=1; }
check "$(awk -F'\t' '$1=="B" && $2=="override:live.Viability" {print $3, $5}' \
    "$OUT/ov/qc.tsv")" "0.3 pass" "override: QC row"
printf 'file,sample_id,gate:treg\n%s,A,1\n' "$S1" > "$OUT/bad1.csv"
msg=$("$BIN" run -q -c "$SRC/configs/treg_th17.yaml" --sheet "$OUT/bad1.csv" \
    -o "$OUT/bad1" 2>&1)
check "$?" 1 "override: several dims exit"
case "$msg" in *"gate:treg"*"gate:<name>.<marker>"*) ;;
    *) echo "FAIL: override message: $msg"; fail=1 ;; esac
printf 'file,sample_id,gate:live\n%s,A,abc\n' "$S1" > "$OUT/bad2.csv"
msg=$("$BIN" run -q -c "$SRC/configs/treg_th17.yaml" --sheet "$OUT/bad2.csv" \
    -o "$OUT/bad2" 2>&1)
check "$?" 1 "override: not a number exit"
case "$msg" in *"bad2.csv:2"*"not a number"*) ;;
    *) echo "FAIL: override message: $msg"; fail=1 ;; esac

[ $fail -eq 0 ] && echo "realpanels: all checks passed"
exit $fail
