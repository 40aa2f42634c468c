#!/bin/sh
# test_snakemake.sh -- the Snakemake workflow (pipeline/workflow/) on
# samples/ (issue 10).
#
#   test_snakemake.sh CYTOGATE SRCDIR WORKDIR
#
# 1. `snakemake --cores 2` (working directory under WORKDIR, never the
#    source tree): one run job per sample, then the merge; its tables,
#    samples/*.json and figures equal (cmp) those of one `cytogate run`
#    over the same sheet, and run.json does but for command, start_time,
#    threads and merged_from.  A second snakemake has nothing to do.
# 2. The Slurm profile, with a stand-in `sbatch` on PATH that records its
#    arguments and runs the job script: every job goes through sbatch with
#    the rule's threads, memory and time, and the result is the same.
# Fails (does not skip) when snakemake is missing.
set -u
CG=$1
SRC=$2
WORK=$3
fails=0
pass=0

ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
check() { if eval "$1"; then ok; else bad "$2"; fi; }

if ! command -v snakemake >/dev/null 2>&1; then
    echo "FAIL: snakemake not found on PATH: install the Debian package" \
         "'snakemake' (scripts/install-deps.sh)" >&2
    exit 1
fi
command -v python3 >/dev/null 2>&1 || { echo "FAIL: python3 not found" >&2; exit 1; }
SHEET="$SRC/samples/sheet.csv"
CFG="$SRC/configs/treg_th17.yaml"
SNAKEFILE="$SRC/pipeline/workflow/Snakefile"
[ -s "$SHEET" ] && [ -s "$SNAKEFILE" ] || { echo "FAIL: no $SHEET or $SNAKEFILE" >&2; exit 1; }
NS=$(tail -n +2 "$SHEET" | grep -c .)
rm -rf "$WORK"
mkdir -p "$WORK" || exit 1
cd "$WORK" || exit 1
had_src_snakemake=0
[ -e "$SRC/.snakemake" ] && had_src_snakemake=1

same_run_json() {
    python3 - "$1" "$2" <<'EOF'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
for d in (a, b):
    for k in ("command", "start_time", "threads", "merged_from"):
        d.pop(k, None)
sys.exit(0 if a == b else 1)
EOF
}

report_body() { sed -n '/<h2 id="samples">/,/<h2 id="inputs">/p' "$1"; }

compare() { # DIR_A DIR_B LABEL (check evals in its own scope: no $1 there)
    A=$1 B=$2 L=$3
    for f in summary.tsv stats.tsv qc.tsv longitudinal.tsv; do
        check 'cmp "$A/$f" "$B/$f"' "$L: $f differs from the single run"
    done
    n=0
    for f in $(cd "$A" && find . -type f ! -name run.json ! -name report.html | sort); do
        n=$((n + 1))
        check 'cmp -s "$A/$f" "$B/$f"' "$L: $f differs from the single run"
    done
    check '[ $n -gt 4 ]' "$L: only $n files compared"
    # report.html shows run.json's provenance (command, start time,
    # threads); its samples and figures part must be the same
    check '[ -n "$(report_body "$A/report.html")" ] && [ "$(report_body "$A/report.html")" = "$(report_body "$B/report.html")" ]' \
        "$L: report.html samples and figures differ from the single run"
    check 'same_run_json "$A/run.json" "$B/run.json"' \
        "$L: run.json differs beyond command/start_time/threads/merged_from"
}

# the reference: one run over the whole sheet, from the same directory
mkdir -p wf
(cd wf && "$CG" run -q -c "$CFG" -o single --sheet "$SHEET")
check '[ $? -eq 0 ]' "single run: exit status"

# 1. local, 2 cores
snakemake -s "$SNAKEFILE" -d wf --cores 2 \
    --config sheet="$SHEET" gating="$CFG" cytogate="$CG" outdir=merged \
    > smk.log 2>&1
rc=$?
check '[ $rc -eq 0 ]' "snakemake --cores 2: exit $rc (see $WORK/smk.log)"
[ $rc -eq 0 ] || tail -30 smk.log >&2
check '[ "$(ls wf/per_sample/*/run.json 2>/dev/null | wc -l)" -eq $NS ]' \
    "one run job per sample ($NS)"
check '[ "$(grep -c "^rule run_sample:" smk.log)" -eq $NS ]' \
    "snakemake ran $NS run_sample jobs"
check '[ "$(grep -c "^rule merge:" smk.log)" -eq 1 ]' "snakemake ran one merge"
check '[ -d wf/.snakemake ]' "snakemake state not in the work directory"
check '[ $had_src_snakemake -eq 1 ] || [ ! -e "$SRC/.snakemake" ]' \
    "snakemake wrote .snakemake/ into the source tree"
check '[ ! -e "$SRC/pipeline/workflow/.snakemake" ]' \
    "snakemake wrote .snakemake/ beside the Snakefile"
compare wf/single wf/merged "snakemake --cores 2"
check 'grep -q "\"dir\": \"per_sample/S02_V1\"" wf/merged/run.json' \
    "run.json lists the per-sample directories"
snakemake -s "$SNAKEFILE" -d wf --cores 2 \
    --config sheet="$SHEET" gating="$CFG" cytogate="$CG" outdir=merged \
    > smk2.log 2>&1
check '[ $? -eq 0 ] && grep -q "Nothing to be done" smk2.log' \
    "a second snakemake is not a no-op ($(tail -3 smk2.log))"

# 2. the Slurm profile with a stand-in sbatch
mkdir -p bin
cat > bin/sbatch <<'EOF'
#!/bin/sh
# stand-in sbatch: log the arguments, run the job script, print a job id
echo "$*" >> "$SBATCH_LOG"
for a; do script=$a; done
sh "$script" > /dev/null 2>&1 &
echo $$
EOF
chmod +x bin/sbatch
SBATCH_LOG="$WORK/sbatch.log" PATH="$WORK/bin:$PATH" \
    snakemake -s "$SNAKEFILE" -d slurm \
    --profile "$SRC/pipeline/workflow/profiles/slurm" --jobs 4 \
    --config sheet="$SHEET" gating="$CFG" cytogate="$CG" outdir=merged \
    > slurm.log 2>&1
rc=$?
check '[ $rc -eq 0 ]' "slurm profile: exit $rc (see $WORK/slurm.log)"
[ $rc -eq 0 ] || tail -30 slurm.log >&2
check '[ "$(grep -c -- "--job-name=cytogate-run_sample" sbatch.log)" -eq $NS ]' \
    "slurm profile: $NS run_sample jobs through sbatch"
check 'grep -q -- "--job-name=cytogate-merge .*--mem=4000 --time=60" sbatch.log' \
    "slurm profile: merge job resources ($(grep merge sbatch.log))"
check 'grep -q -- "--cpus-per-task=1 --mem=2000 --time=30" sbatch.log' \
    "slurm profile: sample job resources"
(cd slurm && "$CG" run -q -c "$CFG" -o single --sheet "$SHEET")
compare slurm/single slurm/merged "slurm profile"

echo "$pass passed, $fails failed"
[ $fails -eq 0 ] && [ $pass -gt 0 ]
