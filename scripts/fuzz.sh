#!/bin/sh
# fuzz.sh BUILD_DIR SECONDS -- bounded libFuzzer run of the FCS reader
# (tests/fuzz/fuzz_fcs_read.c, built with -DCYTOGATE_FUZZ=ON under clang,
# ASan+UBSan).  Seeds: tests/fuzz/corpus/fcs plus every FCS file of the
# shared corpus.  New interesting inputs go to BUILD_DIR/fuzz-corpus (not
# the source tree); a crash leaves crash-* in BUILD_DIR/fuzz-artifacts and
# makes this script exit non-zero.  Minimise a crash with
#   BUILD_DIR/tests/fuzz_fcs_read -minimize_crash=1 -runs=10000 crash-...
# and keep it in tests/fuzz/corpus/fcs/ as a regression seed.
set -eu
build=${1:?usage: fuzz.sh BUILD_DIR SECONDS}
secs=${2:-120}
here=$(cd "$(dirname "$0")/.." && pwd)
bin="$build/tests/fuzz_fcs_read"
if [ ! -x "$bin" ]; then
    echo "fuzz.sh: $bin not built (configure with CC=clang -DCYTOGATE_FUZZ=ON)" >&2
    exit 1
fi
shared=${CG_SHARED_DIR:-$here/../shared}
seeds="$build/fuzz-seeds"
work="$build/fuzz-corpus"
art="$build/fuzz-artifacts"
rm -rf "$seeds"
mkdir -p "$seeds" "$work" "$art"
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
echo "fuzz.sh: fuzzing fcs reader for $secs s ($(ls "$seeds" | wc -l) seeds)"
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
status=0
"$bin" -max_total_time="$secs" -max_len=262144 -rss_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 -artifact_prefix="$art/" \
    "$work" "$seeds" || status=$?
if ls "$art"/crash-* "$art"/leak-* "$art"/timeout-* "$art"/oom-* >/dev/null 2>&1; then
    echo "fuzz.sh: failures found in $art" >&2
    exit 1
fi
exit $status
