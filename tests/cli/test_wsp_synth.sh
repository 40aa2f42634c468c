#!/bin/sh
# test_wsp_synth.sh -- `cytogate wsp` on workspaces written here, over a
# simulated sample with real spillover, exercising what the public
# workspaces with FCS files do not: compensation ("Comp-" channels),
# logicle, biex, fasinh and log axes, an ellipse on logicle axes, And/Or/
# Not nodes and an eventsInside="0" polygon.
#   test_wsp_synth.sh CYTOGATE OUT_DIR
# 1. The same gates with the "Acquisition-defined" matrix (the file's
#    $SPILLOVER is used) and with a named workspace matrix holding the same
#    values give every population the same count; every population is
#    non-empty and smaller than its parent (the gates cut).
# 2. Independent check (Python, no cytogate code): a root rectangle on a
#    compensated channel (observed x S^-1 solved here) and an
#    uncompensated scatter rectangle count the same events.
# 3. --to-config of both, run with `cytogate run`: every population has
#    the count `wsp` gave (the run engine's own compensation, transforms
#    and gates), the named matrix written as OUT.comp.csv.
# 4. Stored counts: the workspace is rewritten with our counts as
#    FlowJo's and --check passes; one count off by 2 % fails with exit 4.
set -u
BIN=$1
OUT=$2/wsp_synth
rm -rf "$OUT"
mkdir -p "$OUT"
fail=0
say() { echo "FAIL: $*"; fail=1; }

"$BIN" simulate --seed 3 --events 20000 --no-truth -o "$OUT/synth.fcs" >/dev/null 2>&1 ||
    { echo "FAIL: simulate"; exit 1; }
"$BIN" info --json "$OUT/synth.fcs" >"$OUT/info.json" || { echo "FAIL: info"; exit 1; }
"$BIN" dump "$OUT/synth.fcs" >"$OUT/events.tsv" || { echo "FAIL: dump"; exit 1; }

# 1. the workspaces
python3 - "$OUT" <<'EOF' || { echo "FAIL: writing the workspaces"; exit 1; }
import json, sys
out = sys.argv[1]
info = json.load(open(out + "/info.json"))
sp = info["datasets"][0]["spillover"]
ch, mat = sp["channels"], sp["matrix"]
G = 'xmlns:gating="http://www.isac-net.org/std/Gating-ML/v2.0/gating" ' \
    'xmlns:transforms="http://www.isac-net.org/std/Gating-ML/v2.0/transformations" ' \
    'xmlns:data-type="http://www.isac-net.org/std/Gating-ML/v2.0/datatypes"'

def dim(n, lo=None, hi=None):
    a = ""
    if lo is not None: a += ' gating:min="%r"' % lo
    if hi is not None: a += ' gating:max="%r"' % hi
    return ('<gating:dimension%s><data-type:fcs-dimension data-type:name="%s"/>'
            '</gating:dimension>' % (a, n))

def vx(pts):
    return "".join('<gating:vertex><gating:coordinate data-type:value="%r"/>'
                   '<gating:coordinate data-type:value="%r"/></gating:vertex>'
                   % p for p in pts)

def rect(dims, inside=1):
    return ('<Gate><gating:RectangleGate eventsInside="%d">%s</gating:RectangleGate></Gate>'
            % (inside, "".join(dim(*d) for d in dims)))

def poly(x, y, pts, inside=1):
    return ('<Gate><gating:PolygonGate eventsInside="%d">%s%s%s</gating:PolygonGate></Gate>'
            % (inside, dim(x), dim(y), vx(pts)))

def ell(x, y, foci, edge):
    return ('<Gate><gating:EllipsoidGate eventsInside="1">%s%s<gating:foci>%s</gating:foci>'
            '<gating:edge>%s</gating:edge></gating:EllipsoidGate></Gate>'
            % (dim(x), dim(y), vx(foci), vx(edge)))

def pop(name, gate, kids="", count=-1):
    sub = "<Subpopulations>%s</Subpopulations>" % kids if kids else ""
    return '<Population name="%s" count="%d">%s%s</Population>' % (name, count, gate, sub)

def boolnode(kind, name, deps, count=-1):
    return ('<%s name="%s" count="%d"><Dependents>%s</Dependents></%s>'
            % (kind, name, count, "".join('<Dependent name="%s"/>' % d for d in deps), kind))

C = "cells/live/CD3+/CD4+"
# ellipse on the logicle CD3 x CD4 plot (display units 0..256)
foci = [(0.60 * 256, 0.64 * 256), (0.66 * 256, 0.70 * 256)]
edge = [(0.57 * 256, 0.61 * 256), (0.69 * 256, 0.73 * 256),
        (0.60 * 256, 0.70 * 256), (0.66 * 256, 0.64 * 256)]
cd4 = pop("CD4+", ell("Comp-BV421-A", "Comp-PerCP-Cy5-5-A", foci, edge),
          pop("CD25hi", rect([("Comp-PE-Cy7-A", 1000.0, None)]))
          + pop("CD127lo", poly("Comp-APC-R700-A", "FSC-A",
                                [(-5000.0, 0.0), (1500.0, 0.0), (600.0, 262144.0), (-5000.0, 262144.0)]))
          + boolnode("AndNode", "Treg", [C + "/CD25hi", C + "/CD127lo"])
          + boolnode("OrNode", "either", [C + "/CD25hi", C + "/CD127lo"])
          + boolnode("NotNode", "notTreg", [C + "/Treg"]))
cd3 = pop("CD3+", poly("Comp-BV421-A", "Comp-PerCP-Cy5-5-A",
                       [(1000.0, -1000.0), (100000.0, -1000.0), (100000.0, 100000.0),
                        (3000.0, 100000.0), (1000.0, 20000.0)]),
          cd4 + pop("odd", poly("Comp-BV421-A", "Comp-PerCP-Cy5-5-A",
                                [(2000.0, 0.0), (8000.0, 0.0), (8000.0, 30000.0)], inside=0)))
live = pop("live", poly("Comp-BV510-A", "SSC-A",
                        [(-3000.0, 0.0), (2500.0, 0.0), (1200.0, 60000.0), (-3000.0, 60000.0)]), cd3)
cells = pop("cells", rect([("FSC-A", 25000.0, 200000.0), ("SSC-A", 0.0, 60000.0)]),
            live + pop("big", poly("FSC-H", "SSC-A",
                                   [(30000.0, 0.0), (150000.0, 0.0), (150000.0, 40000.0), (60000.0, 40000.0)])))
tree = cells + pop("cd25_all", rect([("Comp-PE-Cy7-A", 1000.0, None)]))

def xf(kind, attrs, name):
    a = " ".join('transforms:%s="%r"' % kv for kv in attrs)
    return ('<transforms:%s %s><data-type:parameter data-type:name="%s"/></transforms:%s>'
            % (kind, a, name, kind))

xfs = (xf("linear", [("minRange", 0.0), ("maxRange", 262144.0), ("gain", 1.0)], "FSC-A")
       + xf("linear", [("minRange", 0.0), ("maxRange", 262144.0), ("gain", 1.0)], "SSC-A")
       + xf("log", [("offset", 1.0), ("decades", 5.4)], "FSC-H")
       + "".join(xf("logicle", [("length", 256.0), ("T", 262144.0), ("W", 0.5), ("M", 4.5), ("A", 0.0)],
                    "Comp-" + c) for c in ("BV421-A", "BV510-A", "PerCP-Cy5-5-A"))
       + xf("biex", [("length", 256.0), ("maxRange", 262144.0), ("neg", 0.0), ("width", -100.0),
                     ("pos", 4.418539922)], "Comp-PE-Cy7-A")
       + xf("fasinh", [("length", 256.0), ("maxRange", 262144.0), ("T", 262144.0), ("M", 4.5),
                       ("A", 0.0), ("W", 0.0)], "Comp-APC-R700-A"))

def matrix(name, values):
    ps = "".join('<data-type:parameter data-type:name="%s"/>' % c for c in ch)
    rows = ""
    for i, c in enumerate(ch):
        co = "".join('<transforms:coefficient data-type:parameter="%s" transforms:value="%r"/>'
                     % (d, values[i][j]) for j, d in enumerate(ch))
        rows += '<transforms:spillover data-type:parameter="%s">%s</transforms:spillover>' % (c, co)
    return ('<transforms:spilloverMatrix prefix="Comp-" suffix="" name="%s">'
            '<data-type:parameters>%s</data-type:parameters>%s</transforms:spilloverMatrix>'
            % (name, ps, rows))

ident = [[1.0 if i == j else 0.0 for j in range(len(ch))] for i in range(len(ch))]
for tag, m in (("acq", matrix("Acquisition-defined", ident)), ("custom", matrix("MyComp", mat))):
    doc = ('<?xml version="1.0" encoding="UTF-8"?>\n<Workspace version="20.0" %s>\n'
           '<Groups><GroupNode name="All Samples"><Group name="All Samples"><SampleRefs>'
           '<SampleRef sampleID="1"/></SampleRefs></Group></GroupNode></Groups>\n'
           '<SampleList><Sample><DataSet uri="file:///nonexistent/synth.fcs" sampleID="1"/>\n%s\n'
           '<Transformations>%s</Transformations>\n'
           '<SampleNode name="synth.fcs" count="20000" sampleID="1"><Subpopulations>\n%s\n'
           '</Subpopulations></SampleNode></Sample></SampleList></Workspace>\n'
           % (G, m, xfs, tree))
    open("%s/synth_%s.wsp" % (out, tag), "w").write(doc)
EOF

for t in acq custom; do
    "$BIN" wsp "$OUT/synth_$t.wsp" --fcs "$OUT" --to-config "$OUT/synth_$t.yaml" \
        >"$OUT/$t.tsv" 2>"$OUT/$t.err" || say "$t: exit $?: $(cat "$OUT/$t.err")"
done
cmp -s "$OUT/acq.tsv" "$OUT/custom.tsv" ||
    say "Acquisition-defined and the same matrix in the workspace differ: $(diff "$OUT/acq.tsv" "$OUT/custom.tsv" | head -4)"
awk -F'\t' 'NR > 1 { n++ } END { exit n != 12 }' "$OUT/acq.tsv" || say "12 populations expected"
# every population non-empty and below its parent's count
awk -F'\t' 'NR > 1 { c[$2] = $3; p = $2; sub(/\/[^\/]*$/, "", p);
            if ($3 == "NA" || $3 + 0 <= 0) { print "empty: " $2; bad = 1 }
            if (p != $2 && $3 + 0 >= c[p] + 0) { print "does not cut: " $2; bad = 1 }
            if (p == $2 && $3 + 0 >= 20000) { print "does not cut: " $2; bad = 1 } }
            END { exit bad }' "$OUT/acq.tsv" || say "gates do not cut (see above)"
# the boolean identities
python3 - "$OUT/acq.tsv" <<'EOF' || fail=1
import sys
c = {}
for l in open(sys.argv[1]).read().splitlines()[1:]:
    f = l.split("\t"); c[f[1]] = int(f[2])
P = "cells/live/CD3+/CD4+"
a, b, t, e, n = (c[P + "/CD25hi"], c[P + "/CD127lo"], c[P + "/Treg"],
                 c[P + "/either"], c[P + "/notTreg"])
bad = []
if t + e != a + b: bad.append("and + or != a + b")
if n != c[P] - t: bad.append("not != parent - and")
if c["cells/live/CD3+/odd"] + 0 >= c["cells/live/CD3+"]: bad.append("outside gate")
if bad:
    print("FAIL: booleans:", bad, c); sys.exit(1)
EOF

# 2. independent counts
python3 - "$OUT" <<'EOF' || fail=1
import json, sys
out = sys.argv[1]
sp = json.load(open(out + "/info.json"))["datasets"][0]["spillover"]
ch, S = sp["channels"], sp["matrix"]
n = len(ch)
# inverse of S by Gauss-Jordan with partial pivoting
A = [list(S[i]) + [1.0 if i == j else 0.0 for j in range(n)] for i in range(n)]
for k in range(n):
    p = max(range(k, n), key=lambda r: abs(A[r][k]))
    A[k], A[p] = A[p], A[k]
    piv = A[k][k]
    A[k] = [v / piv for v in A[k]]
    for r in range(n):
        if r != k and A[r][k] != 0:
            f = A[r][k]
            A[r] = [a - f * b for a, b in zip(A[r], A[k])]
Si = [row[n:] for row in A]
lines = open(out + "/events.tsv").read().splitlines()
hdr = lines[0].split("\t")
idx = [hdr.index(c) for c in ch]
j = ch.index("PE-Cy7-A")
fa, ss = hdr.index("FSC-A"), hdr.index("SSC-A")
cd25 = cells = 0
for l in lines[1:]:
    f = [float(v) for v in l.split("\t")]
    obs = [f[i] for i in idx]
    comp = sum(obs[k] * Si[k][j] for k in range(n))
    cd25 += comp >= 1000.0
    cells += 25000.0 <= f[fa] < 200000.0 and 0.0 <= f[ss] < 60000.0
c = {}
for l in open(out + "/acq.tsv").read().splitlines()[1:]:
    g = l.split("\t"); c[g[1]] = int(g[2])
# a value within rounding of the cut may fall either way: allow 1 event
if abs(c["cd25_all"] - cd25) > 1 or c["cells"] != cells:
    print("FAIL: independent counts: cd25_all %d vs %d, cells %d vs %d"
          % (c["cd25_all"], cd25, c["cells"], cells)); sys.exit(1)
print("independent: cd25_all %d (wsp %d), cells %d (wsp %d)" % (cd25, c["cd25_all"], cells, c["cells"]))
EOF

# 3. the configs, run
grep -q 'compensation: file' "$OUT/synth_acq.yaml" || say "acq config: compensation: file expected"
grep -q 'compensation: "synth_custom.comp.csv"' "$OUT/synth_custom.yaml" || say "custom config: CSV matrix expected"
[ -f "$OUT/synth_custom.comp.csv" ] || say "synth_custom.comp.csv not written"
grep -q 'type: arcsinh' "$OUT/synth_acq.yaml" || say "fasinh -> arcsinh expected"
for t in acq custom; do
    [ -f "$OUT/synth_$t.yaml" ] || continue
    "$BIN" run -c "$OUT/synth_$t.yaml" "$OUT/synth.fcs" -o "$OUT/run_$t" --no-plots \
        >/dev/null 2>"$OUT/run_$t.err" || { say "$t: run: $(cat "$OUT/run_$t.err")"; continue; }
    tail -n +2 "$OUT/$t.tsv" | cut -f3 | sort >"$OUT/$t.want"
    awk -F'\t' '$3 == "count" && $2 !~ /_inside$/ { print $5 }' "$OUT/run_$t/stats.tsv" | sort >"$OUT/$t.got"
    cmp -s "$OUT/$t.want" "$OUT/$t.got" ||
        say "$t: config run counts differ from wsp: $(diff "$OUT/$t.want" "$OUT/$t.got" | head -6 | tr '\n' ' ')"
done

# 4. our counts as FlowJo's: --check passes; 2 % off fails
python3 - "$OUT" <<'EOF' || fail=1
import re, sys
out = sys.argv[1]
c = {}
for l in open(out + "/acq.tsv").read().splitlines()[1:]:
    g = l.split("\t"); c[g[1].split("/")[-1]] = int(g[2])
doc = open(out + "/synth_acq.wsp").read()
def put(m, scale):
    name = m.group(2)
    v = c[name]
    if scale and name == "CD4+":
        v = int(v * 1.02) + 2
    return '<%s name="%s" count="%d"' % (m.group(1), name, v)
pat = re.compile(r'<(Population|AndNode|OrNode|NotNode) name="([^"]*)" count="-1"')
open(out + "/stored_ok.wsp", "w").write(pat.sub(lambda m: put(m, False), doc))
open(out + "/stored_bad.wsp", "w").write(pat.sub(lambda m: put(m, True), doc))
EOF
"$BIN" wsp "$OUT/stored_ok.wsp" --fcs "$OUT" --check >"$OUT/ok.tsv" 2>"$OUT/ok.err" ||
    say "stored counts = ours: --check exit $?: $(cat "$OUT/ok.err")"
[ "$(awk -F'\t' 'NR > 1 && $7 == "match"' "$OUT/ok.tsv" | wc -l)" -eq 12 ] || say "12 matches expected"
"$BIN" wsp "$OUT/stored_bad.wsp" --fcs "$OUT" --check >"$OUT/bad.tsv" 2>"$OUT/bad.err"
[ $? -eq 4 ] || say "a 2 % difference: --check exit 4 expected"
[ "$(awk -F'\t' '$7 == "DIFF" { print $2 }' "$OUT/bad.tsv")" = "cells/live/CD3+/CD4+" ] ||
    say "the DIFF row should be CD4+ only"

[ $fail -eq 0 ] && echo "wsp_synth: all checks passed"
exit $fail
