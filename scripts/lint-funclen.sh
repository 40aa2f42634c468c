#!/bin/sh
# lint-funclen.sh -- fail when a C function in fcs/, gating/ or pipeline/
# is longer than a limit (default 150 lines), and list the offenders.
#
# A function's length is counted from the line holding its name to its
# closing brace, inclusive, as universal-ctags reports them (--fields=+ne:
# the "line:" and "end:" fields).  Test programs (tests/) are not checked.
# Exuberant ctags has no end field, so universal-ctags is required (Debian
# package universal-ctags, installed by scripts/install-deps.sh).
#
# Usage: scripts/lint-funclen.sh [SRCDIR] [MAX]
# Exit: 0 all within the limit, 1 offenders listed, 2 cannot check.
set -eu

src="${1:-$(dirname "$0")/..}"
max="${2:-150}"

ctags=""
for c in ctags-universal universal-ctags ctags; do
    if command -v "$c" >/dev/null 2>&1 &&
       "$c" --version 2>/dev/null | grep -q "Universal Ctags"; then
        ctags="$c"
        break
    fi
done
if [ -z "$ctags" ]; then
    echo "lint-funclen: universal-ctags not found (apt-get install" \
         "universal-ctags, or run scripts/install-deps.sh)" >&2
    exit 2
fi

cd "$src"
for d in fcs gating pipeline; do
    if [ ! -d "$d" ]; then
        echo "lint-funclen: $src/$d: no such folder" >&2
        exit 2
    fi
done

out=$("$ctags" -f - --languages=C --langmap=C:.c.h --kinds-C=f \
      --fields=+ne -R fcs gating pipeline) || {
    echo "lint-funclen: $ctags failed" >&2
    exit 2
}
nfun=$(printf '%s\n' "$out" | grep -c . || true)
if [ "$nfun" -lt 100 ]; then
    echo "lint-funclen: only $nfun functions found in $src: ctags output" \
         "looks wrong" >&2
    exit 2
fi

# name<TAB>file<TAB>pattern;"<TAB>kind<TAB>line:N ... end:M
bad=$(printf '%s\n' "$out" | awk -F'\t' -v max="$max" '
    {
        l = 0; e = 0
        for (i = 4; i <= NF; i++) {
            if ($i ~ /^line:/) l = substr($i, 6) + 0
            if ($i ~ /^end:/)  e = substr($i, 5) + 0
        }
        if (l == 0 || e == 0) {
            printf "%s:%s: no line/end from ctags\n", $2, $1
            next
        }
        n = e - l + 1
        if (n > max) printf "%s:%d: %s() is %d lines (limit %d)\n", $2, l, $1, n, max
    }' | sort)

if [ -n "$bad" ]; then
    printf '%s\n' "$bad"
    echo "lint-funclen: $(printf '%s\n' "$bad" | wc -l) function(s) over" \
         "$max lines; split them into named static helpers" >&2
    exit 1
fi
echo "lint-funclen: $nfun functions, none over $max lines"
