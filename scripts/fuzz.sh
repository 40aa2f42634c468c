#!/bin/sh
# fuzz.sh BUILD_DIR SECONDS -- bounded libFuzzer runs, built with
# -DCYTOGATE_FUZZ=ON under clang with ASan+UBSan: the FCS reader
# (tests/fuzz/fuzz_fcs_read.c, two thirds of SECONDS; seeds
# tests/fuzz/corpus/fcs plus the shared corpus) and the config parser
# (tests/fuzz/fuzz_config.c, one third; seeds tests/fuzz/corpus/config plus
# configs/*.yaml).  New interesting inputs go to BUILD_DIR/fuzz-corpus (not
# the source tree); a crash leaves crash-* in BUILD_DIR/fuzz-artifacts and
# makes this script exit non-zero.  Minimise a crash with
#   BUILD_DIR/tests/fuzz_fcs_read -minimize_crash=1 -runs=10000 crash-...
# and keep it in tests/fuzz/corpus/fcs/ as a regression seed.
set -eu
build=${1:?usage: fuzz.sh BUILD_DIR SECONDS}
secs=${2:-120}
here=$(cd "$(dirname "$0")/.." && pwd)
shared=${CG_SHARED_DIR:-$here/../shared}
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
art="$build/fuzz-artifacts"
# A fixed seed by default, so CI explores the same inputs on every run and
# a red fuzz stage is reproducible; FUZZ_SEED=0 lets libFuzzer pick one
# (exploratory runs: FUZZ_SEED=0 sh scripts/fuzz.sh build-fuzz 3600).
seed=${FUZZ_SEED:-1}
mkdir -p "$art"

# fuzz NAME SECONDS MAX_LEN SEEDDIR
fuzz() {
    bin="$build/tests/$1"
    if [ ! -x "$bin" ]; then
        echo "fuzz.sh: $bin not built (configure with CC=clang -DCYTOGATE_FUZZ=ON)" >&2
        exit 1
    fi
    work="$build/fuzz-corpus-$1"
    mkdir -p "$work"
    echo "fuzz.sh: fuzzing $1 for $2 s ($(ls "$4" | wc -l) seeds)"
    status=0
    "$bin" -seed="$seed" -max_total_time="$2" -max_len="$3" -rss_limit_mb=2048 \
        -timeout=10 -print_final_stats=1 -artifact_prefix="$art/$1-" \
        "$work" "$4" || status=$?
    if ls "$art/$1"-* >/dev/null 2>&1; then
        echo "fuzz.sh: $1: failures found in $art" >&2
        exit 1
    fi
    [ "$status" -eq 0 ] || exit "$status"
}

seeds="$build/fuzz-seeds-fcs"
rm -rf "$seeds"
mkdir -p "$seeds"
cp "$here"/tests/fuzz/corpus/fcs/* "$seeds"/
if [ -d "$shared/fcs-corpus" ]; then
    # copy (names have blanks and @ + ( ) on purpose); skip files > 256 KB (speed)
    find "$shared/fcs-corpus" -type f ! -path '*/reference/*' ! -path '*/expected/*' \
        -size -256k | {
        i=0
        while IFS= read -r f; do
            i=$((i + 1))
            cp "$f" "$seeds/shared_$i"
        done
    }
else
    echo "fuzz.sh: warning: $shared/fcs-corpus not found; fuzzing from the kept seeds only" >&2
fi
fuzz fuzz_fcs_read $((secs * 2 / 3)) 262144 "$seeds"

seeds="$build/fuzz-seeds-config"
rm -rf "$seeds"
mkdir -p "$seeds"
cp "$here"/tests/fuzz/corpus/config/* "$here"/configs/*.yaml "$seeds"/
fuzz fuzz_config $((secs - secs * 2 / 3)) 65536 "$seeds"
