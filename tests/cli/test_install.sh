#!/bin/sh
# test_install.sh -- libcytogate used from an installed prefix only.
#   test_install.sh BUILD_DIR SOURCE_DIR CYTOGATE OUT_DIR CC plain|san
# 1. `cmake --install BUILD_DIR --prefix OUT_DIR/prefix`; checks the files
#    (lib, SONAME symlinks, include/cytogate/ without *_internal.h, .pc,
#    CMake package).
# 2. examples/read_and_gate.c with `CC $(pkg-config --cflags --libs
#    cytogate)` (PKG_CONFIG_PATH = the prefix): shared, then static
#    (pkg-config --static, libcytogate.a; no libcytogate.so NEEDED).
# 3. A C++ file including every installed header, built with c++ (clang++
#    for clang) and linked via pkg-config.
# 4. A CMake project: find_package(cytogate) with cytogate::cytogate and
#    cytogate::cytogate_static.
# Every program gates samples/S01_V1.fcs (FSC-A in [50000, 150000) and
# SSC-A in [0, 100000)); the count must equal awk's over `cytogate dump`.
# "san": the library has ASan+UBSan, so the programs get the same flags.
set -u
BUILD=$1 SRC=$2 BIN=$3 OUT=$4 CC=$5 MODE=${6:-plain}
case "$CC" in *clang*) CXX=clang++ ;; *) CXX=c++ ;; esac
SAN=
[ "$MODE" = san ] && SAN="-fsanitize=address,undefined -fno-omit-frame-pointer"
P=$OUT/prefix
FCS=$SRC/samples/S01_V1.fcs
fail=0
check() { if [ "$1" = "$2" ]; then :; else echo "FAIL: $3: got '$1' want '$2'"; fail=1; fi; }
die() { echo "FAIL: $*"; exit 1; }

rm -rf "$OUT" && mkdir -p "$OUT" || die "cannot make $OUT"
[ -f "$FCS" ] || die "missing $FCS"

# The reference count, independent of libcytogate's gating code.
want=$("$BIN" dump --scaled --channels FSC-A,SSC-A "$FCS" | awk -F'\t' '
    NR > 1 { t++; if ($1 >= 50000 && $1 < 150000 && $2 >= 0 && $2 < 100000) k++ }
    END { printf "%d\t%d\n", k, t }')
case "$want" in [1-9]*"	10000") ;; *) die "reference count: '$want'" ;; esac
ARGS="$FCS FSC-A 50000 150000 SSC-A 0 100000"

# ---- 1. install ----------------------------------------------------------
cmake --install "$BUILD" --prefix "$P" > "$OUT/install.log" 2>&1 ||
    { cat "$OUT/install.log"; die "cmake --install"; }
pc=$(find "$P" -name cytogate.pc | head -1)
[ -n "$pc" ] || die "no cytogate.pc under $P"
LIB=$(dirname "$(dirname "$pc")")
for f in "$LIB/libcytogate.a" "$LIB/libcytogate.so" "$LIB/libcytogate.so.0" \
         "$LIB/cmake/cytogate/cytogateConfig.cmake" \
         "$LIB/cmake/cytogate/cytogateConfigVersion.cmake" \
         "$P/include/cytogate/fcs.h" "$P/include/cytogate/gate.h"; do
    [ -e "$f" ] || { echo "FAIL: not installed: $f"; fail=1; }
done
check "$(ls "$P/include/cytogate" | grep -c internal)" 0 "internal headers installed"
check "$(readelf -d "$LIB/libcytogate.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')" \
      libcytogate.so.0 "SONAME"
[ -f "$(readlink -f "$LIB/libcytogate.so")" ] &&
    case "$(readlink -f "$LIB/libcytogate.so")" in *.so.0.*.*) ;;
    *) echo "FAIL: libcytogate.so is not a versioned file"; fail=1 ;; esac

export PKG_CONFIG_PATH="$LIB/pkgconfig"
export LD_LIBRARY_PATH="$LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
CFLAGS=$(pkg-config --cflags cytogate) || die "pkg-config --cflags"
LIBS=$(pkg-config --libs cytogate) || die "pkg-config --libs"
SLIBS=$(pkg-config --static --libs cytogate | sed 's/-lcytogate\b/-l:libcytogate.a/') ||
    die "pkg-config --static --libs"

# ---- 2. the example, C, shared and static ---------------------------------
cp "$SRC/examples/read_and_gate.c" "$OUT/t.c"
# shellcheck disable=SC2086
$CC $SAN -std=c99 -Wall -Wextra -Werror -o "$OUT/t_shared" "$OUT/t.c" $CFLAGS $LIBS ||
    die "cc (shared) failed"
readelf -d "$OUT/t_shared" | grep -q 'NEEDED.*libcytogate\.so\.0' ||
    { echo "FAIL: t_shared does not need libcytogate.so.0"; fail=1; }
check "$("$OUT/t_shared" $ARGS)" "$want" "C, shared"
# shellcheck disable=SC2086
$CC $SAN -std=c99 -Wall -Wextra -Werror -o "$OUT/t_static" "$OUT/t.c" $CFLAGS $SLIBS ||
    die "cc (static) failed"
readelf -d "$OUT/t_static" | grep -q 'libcytogate' &&
    { echo "FAIL: t_static needs a shared libcytogate"; fail=1; }
check "$("$OUT/t_static" $ARGS)" "$want" "C, static"

# ---- 3. every installed header as C++ ------------------------------------
{
    for h in "$P"/include/cytogate/*.h; do
        echo "#include <cytogate/$(basename "$h")>"
    done
    cat <<'CXX'
#include <cstdio>
int main()
{
    cg_bits *b = cg_bits_new(100);
    if (!b)
        return 1;
    cg_bits_fill(b, 1);
    std::printf("%lld %s\n", (long long)cg_bits_count(b),
                fcs_strerror(FCS_E_OK));
    cg_bits_free(b);
    return 0;
}
CXX
} > "$OUT/t.cpp"
# shellcheck disable=SC2086
$CXX $SAN -Wall -Wextra -Werror -o "$OUT/t_cxx" "$OUT/t.cpp" $CFLAGS $LIBS ||
    die "$CXX failed on the installed headers"
check "$("$OUT/t_cxx")" "100 no error" "C++ program"

# ---- 4. find_package(cytogate) -------------------------------------------
mkdir -p "$OUT/cmake-src"
cp "$SRC/examples/read_and_gate.c" "$OUT/cmake-src/"
cat > "$OUT/cmake-src/CMakeLists.txt" <<'CMK'
cmake_minimum_required(VERSION 3.18)
project(uses_cytogate C)
find_package(cytogate 0.1 REQUIRED)
add_executable(rg_shared read_and_gate.c)
target_link_libraries(rg_shared PRIVATE cytogate::cytogate)
add_executable(rg_static read_and_gate.c)
target_link_libraries(rg_static PRIVATE cytogate::cytogate_static)
CMK
cmake -S "$OUT/cmake-src" -B "$OUT/cmake-build" -DCMAKE_PREFIX_PATH="$P" \
      -DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$SAN" \
      -DCMAKE_EXE_LINKER_FLAGS="$SAN" > "$OUT/cmake.log" 2>&1 &&
    cmake --build "$OUT/cmake-build" >> "$OUT/cmake.log" 2>&1 ||
    { cat "$OUT/cmake.log"; die "find_package(cytogate) project"; }
check "$("$OUT/cmake-build/rg_shared" $ARGS)" "$want" "CMake, shared"
check "$("$OUT/cmake-build/rg_static" $ARGS)" "$want" "CMake, static"

[ $fail = 0 ] && echo "ok: installed libcytogate builds and gates ($want)"
exit $fail
