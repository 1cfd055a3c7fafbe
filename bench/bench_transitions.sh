#!/bin/sh
# bench/bench_transitions.sh: sampled vs exact transition counts on a depth-6,
# width-1000 Fashion-MNIST ReLU network (trained here once, kept in bench/out),
# around an ellipse through 3 training points of different classes:
#   - sensi sampled at K = 2^20 (BENCH_TR_K): time, GEMM GFLOP/s vs the SGEMM
#     peak of bench/out/sgemm_peak (built by bench/run.sh, or here)
#   - the PyTorch baseline (bench/bench_transitions.py) sampling the same
#     ellipse at the same K, 1 thread and all threads
#   - sensi's exact walk: time, crossings, time per crossing, and its speedup
#     over the sampled count; the same with --curvature (exact_curv_s).
# The SGEMM peak is measured at the start and at the end (the best kept, as
# bench/run.sh does); the load average is printed at both ends.
# Environment: BENCH_TR_K (default 1048576), BENCH_TR_SEEDS (default "1"),
#   PYTHON (default /usr/bin/python3). Output: lines of JSON on stdout and
#   bench/out/transitions.jsonl.
set -e
cd "$(dirname "$0")/.."
OUT=bench/out
PY=${PYTHON:-/usr/bin/python3}
K=${BENCH_TR_K:-1048576}
SEEDS=${BENCH_TR_SEEDS:-1}
mkdir -p "$OUT"
RES=$OUT/transitions.jsonl
: >"$RES"
[ -x "$OUT/sgemm_peak" ] || gcc -O2 -Wall bench/sgemm_peak.c -o "$OUT/sgemm_peak" $(pkg-config --cflags --libs openblas)
make --no-print-directory -s sensi >&2 || [ -x ./sensi ]
M=$OUT/d6w1000.safetensors
if [ ! -f "$M" ]; then
    echo "bench: training the depth-6 width-1000 network (5000 images, 600 steps)" >&2
    ./sensi train --depth 6 --width 1000 --train-size 5000 --steps 600 --lr 0.01 -q -o "$M" >"$OUT/d6w1000.json"
fi
sgemm_peak() {
    "$OUT/sgemm_peak" --widths 1000 --batch 4096 --reps 3 --min-time 0.1 2>/dev/null |
        "$PY" -c 'import json,sys
print(max(json.loads(l).get("gflops", 0) for l in sys.stdin if l.startswith("{")))'
}
echo "bench_transitions: load at start $(cut -d' ' -f1-3 /proc/loadavg)" >&2
peak=$(sgemm_peak)
echo "{\"kind\":\"sgemm_peak\",\"when\":\"start\",\"gflops\":$peak}" | tee -a "$RES"
for s in $SEEDS; do
    ./sensi transitions "$M" --count 1 --seed "$s" --exact --csv "$OUT/tr_exact.csv" >/dev/null
    ./sensi transitions "$M" --count 1 --seed "$s" --exact --curvature --csv "$OUT/tr_curv.csv" >/dev/null
    ./sensi transitions "$M" --count 1 --seed "$s" --samples "$K" --csv "$OUT/tr_sampled.csv" >/dev/null
    anchors=$(tail -1 "$OUT/tr_exact.csv" | cut -d, -f3 | sed 's/^train://')
    "$PY" - "$OUT/tr_exact.csv" "$OUT/tr_sampled.csv" "$K" "$peak" "$s" "$OUT/tr_curv.csv" <<'PY' | tee -a "$RES"
import csv, json, sys
x = list(csv.DictReader(open(sys.argv[1])))[-1]; s = list(csv.DictReader(open(sys.argv[2])))[-1]
cv = list(csv.DictReader(open(sys.argv[6])))[-1]
K, peak = int(sys.argv[3]), float(sys.argv[4])
H, L = 1000, 6
flops = 2.0 * K * H * H * (L - 2)   # hidden layers 2..5 as SGEMM (layer 1 is closed form)
ts, tx = float(s["seconds"]), float(x["seconds"])
print(json.dumps({"kind": "sensi", "seed": int(sys.argv[5]), "k": K, "sampled_transitions": int(s["transitions"]),
                  "sampled_s": ts, "gemm_gflops": flops / ts / 1e9, "of_peak": flops / ts / 1e9 / peak,
                  "exact_transitions": int(x["transitions"]), "exact_s": tx,
                  "us_per_crossing": 1e6 * tx / max(1, int(x["transitions"])), "exact_speedup": ts / tx,
                  "exact_curv_s": float(cv["seconds"]), "curvature": float(cv["curvature"])}))
PY
    for th in 1 all; do
        "$PY" bench/bench_transitions.py "$M" "$anchors" "$K" "$th" | tee -a "$RES"
    done
done
peak2=$(sgemm_peak)
echo "{\"kind\":\"sgemm_peak\",\"when\":\"end\",\"gflops\":$peak2}" | tee -a "$RES"
echo "bench_transitions: load at end $(cut -d' ' -f1-3 /proc/loadavg); of_peak above uses the start peak $peak (end: $peak2)" >&2
