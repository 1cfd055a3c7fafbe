#!/bin/sh
# bench/bench_walk.sh: how the exact walk's cost grows with width, depth and
# the number of crossings. Trains small Fashion-MNIST ReLU nets (BENCH_WALK_N
# images, BENCH_WALK_STEPS steps, kept in bench/out/walk_d{L}w{H}.safetensors)
# for every depth L in BENCH_WALK_DEPTHS and width H in BENCH_WALK_WIDTHS,
# walks BENCH_WALK_COUNT ellipses through 3 training points of different
# classes on each (sensi transitions --exact, one walk per trajectory, the
# same anchors for every net: --seed 1), and reports per net: crossings (mean
# per trajectory), seconds per walk, microseconds per crossing, and that over
# (L-1)*H (the rank-one updates and root solves each crossing causes in the
# layers above it are O(H) per layer). A least-squares fit over all walks of
#   log(us per crossing) = c + a log H + b log(L-1)
# gives the exponents; a ~ 1, b ~ 1 is the O(L H) per crossing of the design.
# With --curvature (BENCH_WALK_CURV=1) the same with the curvature sum.
# Environment: BENCH_WALK_WIDTHS (default "100 300 1000"), BENCH_WALK_DEPTHS
#   (default "3 6 9"), BENCH_WALK_N (default 3000), BENCH_WALK_STEPS (default
#   300), BENCH_WALK_COUNT (default 3), BENCH_WALK_CURV (default 0), PYTHON.
# Output: a table on stderr, JSON lines on stdout and in bench/out/walk.jsonl.
set -e
cd "$(dirname "$0")/.."
OUT=bench/out
PY=${PYTHON:-/usr/bin/python3}
WIDTHS=${BENCH_WALK_WIDTHS:-"100 300 1000"}
DEPTHS=${BENCH_WALK_DEPTHS:-"3 6 9"}
N=${BENCH_WALK_N:-3000}
STEPS=${BENCH_WALK_STEPS:-300}
COUNT=${BENCH_WALK_COUNT:-3}
CURV=${BENCH_WALK_CURV:-0}
mkdir -p "$OUT"
RES=$OUT/walk.jsonl
: >"$RES"
make --no-print-directory -s sensi >&2 || [ -x ./sensi ]
extra=""
[ "$CURV" = 1 ] && extra="--curvature"
echo "bench_walk: load at start $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for L in $DEPTHS; do
    for H in $WIDTHS; do
        M=$OUT/walk_d${L}w${H}.safetensors
        if [ ! -f "$M" ]; then
            ./sensi train --depth "$L" --width "$H" --train-size "$N" --steps "$STEPS" --lr 0.01 \
                -q -o "$M" >/dev/null
        fi
        ./sensi transitions "$M" --count "$COUNT" --seed 1 --exact $extra --csv "$OUT/walk.csv" >/dev/null
        "$PY" - "$OUT/walk.csv" "$L" "$H" "$CURV" <<'PY' | tee -a "$RES"
import csv, json, sys
L, H, curv = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
for r in csv.DictReader(open(sys.argv[1])):
    c, s = int(r["transitions"]), float(r["seconds"])
    print(json.dumps({"kind": "walk", "depth": L, "width": H, "curvature": curv, "id": int(r["id"]),
                      "anchors": r["anchors"], "crossings": c, "seconds": s,
                      "us_per_crossing": 1e6 * s / max(c, 1),
                      "ns_per_crossing_layer_neuron": 1e9 * s / max(c, 1) / ((L - 1) * H)}))
PY
    done
done
echo "bench_walk: load at end $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$PY" - "$RES" <<'PY' | tee -a "$RES"
import json, math, sys
out = sys.stdout
sys.stdout = sys.stderr  # the table on stderr, the fit's JSON line on stdout
rows = [json.loads(l) for l in open(sys.argv[1])]
print("%5s %5s %10s %9s %10s %12s" % ("depth", "width", "crossings", "seconds", "us/cross", "ns/(cross*(L-1)H)"))
agg = {}
for r in rows:
    agg.setdefault((r["depth"], r["width"]), []).append(r)
for (L, H), rs in sorted(agg.items()):
    c = sum(r["crossings"] for r in rs) / len(rs); s = sum(r["seconds"] for r in rs) / len(rs)
    print("%5d %5d %10.0f %9.3f %10.1f %12.1f" % (L, H, c, s, 1e6 * s / c, 1e9 * s / c / ((L - 1) * H)))
# least squares: log us = c0 + a log H + b log(L-1) (+ g log crossings, second fit)
def lstsq(X, y):
    n = len(X[0])
    A = [[sum(x[i] * x[j] for x in X) for j in range(n)] for i in range(n)]
    v = [sum(x[i] * t for x, t in zip(X, y)) for i in range(n)]
    for i in range(n):  # Gaussian elimination
        p = max(range(i, n), key=lambda r: abs(A[r][i])); A[i], A[p] = A[p], A[i]; v[i], v[p] = v[p], v[i]
        for r in range(i + 1, n):
            f = A[r][i] / A[i][i]
            A[r] = [a - f * b for a, b in zip(A[r], A[i])]; v[r] -= f * v[i]
    x = [0.0] * n
    for i in reversed(range(n)):
        x[i] = (v[i] - sum(A[i][j] * x[j] for j in range(i + 1, n))) / A[i][i]
    return x
ok = [r for r in rows if r["crossings"] > 0]
y = [math.log(r["us_per_crossing"]) for r in ok]
X = [[1.0, math.log(r["width"]), math.log(r["depth"] - 1)] for r in ok]
c0, a, b = lstsq(X, y)
X2 = [x + [math.log(r["crossings"])] for x, r in zip(X, ok)]
d0, a2, b2, g2 = lstsq(X2, y)
print("fit: us/crossing ~ %.3g * H^%.2f * (L-1)^%.2f" % (math.exp(c0), a, b))
print("fit with crossings: us/crossing ~ %.3g * H^%.2f * (L-1)^%.2f * crossings^%.2f" % (math.exp(d0), a2, b2, g2))
print(json.dumps({"kind": "walk_fit", "a_width": a, "b_depth": b, "c_us": math.exp(c0),
                  "with_crossings": {"a_width": a2, "b_depth": b2, "g_crossings": g2}}), file=out)
PY
