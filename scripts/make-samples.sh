#!/bin/sh
# make-samples.sh [CYTOGATE [OUTDIR]] -- regenerate the demo study in
# samples/ byte-identically with `cytogate simulate` and fixed seeds.
#
# Three subjects followed over visits (S03 dropped out after visit 2), a
# different instrument naming / byte order per subject, 10000 events per
# sample (the default config's QC minimum), < 5 MB in all:
#   S01  healthy control, stable   BD naming, little-endian
#   S02  RA, Th17 falls and Treg rises on therapy   Cytek naming
#   S03  SLE flare: Th17 and Treg rise              BD naming, big-endian
# Writes OUTDIR/<sample>.fcs, OUTDIR/<sample>.truth.json, OUTDIR/sheet.csv.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
CG=${1:-$here/build/pipeline/cytogate}
OUT=${2:-$here/samples}
mkdir -p "$OUT"

EVENTS=10000
# sample    subject visit group    seed treg th17 naming extra
SAMPLES='
S01_V1 S01 1 control 101 6.5 1.0 bd -
S01_V2 S01 2 control 102 6.2 1.1 bd -
S01_V3 S01 3 control 103 6.8 0.9 bd -
S02_V1 S02 1 RA      201 3.0 2.6 cytek -
S02_V2 S02 2 RA      202 3.7 1.7 cytek -
S02_V3 S02 3 RA      203 4.3 0.8 cytek -
S03_V1 S03 1 SLE     301 9.0 3.4 bd --big-endian
S03_V2 S03 2 SLE     302 11.5 4.6 bd --big-endian
'

tmp="$OUT/sheet.csv.tmp.$$"
printf 'file,sample_id,subject,visit,group\n' > "$tmp"
echo "$SAMPLES" | while read -r id subj visit group seed treg th17 naming extra; do
    [ -n "$id" ] || continue
    [ "$extra" = "-" ] && extra=""
    # shellcheck disable=SC2086
    "$CG" simulate -o "$OUT/$id.fcs" --seed "$seed" --events "$EVENTS" \
        --treg "$treg" --th17 "$th17" --naming "$naming" $extra \
        --sample-id "$id" --subject "$subj" --visit "$visit"
    printf '%s.fcs,%s,%s,%s,%s\n' "$id" "$id" "$subj" "$visit" "$group" >> "$tmp"
done
mv "$tmp" "$OUT/sheet.csv"
