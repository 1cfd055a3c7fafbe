#!/bin/sh
# bench/bench_jacobian.sh: speed of `sensi jacobian` (exact Jacobian norms of
# 1000 Fashion-MNIST test points) against a tuned PyTorch baseline computing
# the same norms (bench/bench_jacobian.py) and against the machine's SGEMM
# rate, all measured in this one run and reported as ratios (the machine may
# be shared and noisy; ratios from the same run are what to compare).
#
#   sh bench/bench_jacobian.sh
#
# Networks: depth 6 (5 hidden layers), ReLU, no biases, widths 100, 500, 1000,
# trained briefly (100 steps on 2000 images) so the ReLU masks are realistic.
# FLOPs of one run (what the rates count): forward 2 N sum_l(in_l out_l)
# plus K backward seeds 2 N K sum_l(in_l out_l), N points, K = 10 classes.
# sensi's time is compute_s from its JSON (the Jacobians and norms only, no
# loading; one cold process per run, workspaces and BLAS threads included);
# torch's is the best of --reps warm repetitions of the fastest method and
# thread setting (see bench_jacobian.py). sensi's values are checked against
# torch's (max relative difference per norm, expected ~1e-5).
#
# Environment:
#   BENCH_ROUNDS   interleaved rounds sensi, torch, ... (default 4); best counts
#   BENCH_RUNS     sensi runs per round (default 3)
#   BENCH_WIDTHS   (default "100 500 1000")
#   BENCH_POINTS   (default 1000)
#   BENCH_THREADS  torch thread settings (default 1,2)
#   PYTHON         interpreter with torch (default /usr/bin/python3)
# Output: a table on stdout, bench/out/jacobian.json, raw lines in
# bench/out/jacobian_raw.jsonl.
set -e
cd "$(dirname "$0")/.."

OUT=bench/out
ROUNDS=${BENCH_ROUNDS:-4}
RUNS=${BENCH_RUNS:-3}
WIDTHS=${BENCH_WIDTHS:-"100 500 1000"}
POINTS=${BENCH_POINTS:-1000}
THREADS=${BENCH_THREADS:-1,2}
PY=${PYTHON:-/usr/bin/python3}
DEPTH=6
mkdir -p "$OUT"
RAW=$OUT/jacobian_raw.jsonl
: >"$RAW"
log() { printf '%s\n' "$*" >&2; }

# ---- build -------------------------------------------------------------------
if [ ! -x "$OUT/sgemm_peak" ] || [ bench/sgemm_peak.c -nt "$OUT/sgemm_peak" ]; then
    gcc -O2 -Wall bench/sgemm_peak.c -o "$OUT/sgemm_peak" $(pkg-config --cflags --libs openblas)
fi
if ! make --no-print-directory -s sensi >&2; then
    [ -x ./sensi ] || { log "bench: cannot build ./sensi"; exit 1; }
    log "bench: 'make sensi' failed; using the existing ./sensi"
fi
"$PY" -c 'import torch' 2>/dev/null || {
    log "bench: $PY cannot import torch (run: sh scripts/setup.sh bench)"; exit 1; }

# ---- kernel choice (as bench/run.sh): sensi re-executes itself with a better
# OPENBLAS_CORETYPE when OpenBLAS falls back to a generic kernel; give
# sgemm_peak and torch the same kernel.
flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
has() { case " $flags " in *" $1 "*) return 0 ;; esac; return 1; }
core=$("$OUT/sgemm_peak" --info | sed -n 's/.*"corename":"\([^"]*\)".*/\1/p')
USER_CT=${OPENBLAS_CORETYPE:-}
CT=$USER_CT
if [ -z "$CT" ]; then
    case "$core" in
    Prescott|Core2|Penryn|Dunnington|Nehalem|Katmai|Coppermine|Northwood|Banias|Atom|\
    Barcelona|Opteron|"Opteron(SSE3)"|Athlon|Unknown|unknown|generic|"")
        if has avx512f && has avx512bw && has avx512dq && has avx512vl; then CT=SkylakeX
        elif has avx2 && has fma; then CT=Haswell
        elif has avx; then CT=Sandybridge
        fi ;;
    esac
fi
[ -n "$CT" ] && export OPENBLAS_CORETYPE="$CT"
log "bench: OpenBLAS kernel '$core'${CT:+, OPENBLAS_CORETYPE=$CT}"

tag() { # tag KEY=VALUE... : add fields to each JSON object line on stdin
    "$PY" -c '
import json, sys
extra = dict(a.split("=", 1) for a in sys.argv[1:])
for line in sys.stdin:
    line = line.strip()
    if not line.startswith("{"):
        continue
    d = json.loads(line)
    for k, v in extra.items():
        d[k] = int(v) if v.isdigit() else v
    print(json.dumps(d))' "$@"
}

load=$(cut -d' ' -f1 /proc/loadavg)
printf '{"kind":"env","load_start":%s,"nproc":%s,"cpu":"%s","core":"%s","openblas_coretype":"%s","points":%s,"depth":%s,"date":"%s"}\n' \
    "$load" "$(nproc)" "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" "$core" "$CT" \
    "$POINTS" "$DEPTH" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$RAW"
log "bench: load average $load at start ($(nproc) CPUs)"

# ---- networks ----------------------------------------------------------------
for H in $WIDTHS; do
    M=$OUT/jac_w$H.safetensors
    if [ ! -f "$M" ]; then
        log "bench: training depth $DEPTH width $H (100 steps)"
        ./sensi train --depth $DEPTH --width "$H" --train-size 2000 --steps 100 --seed 1 -q \
            -o "$M" >/dev/null
    fi
done

# ---- SGEMM rate (start): square sizes and the backward shape (4090 rows) ----
w_list=$(echo $WIDTHS | tr ' ' ',')
log "bench: SGEMM rates"
"$OUT/sgemm_peak" --widths "$w_list" --batch 4090 | tag phase=start >>"$RAW"

# ---- interleaved rounds -------------------------------------------------------
r=1
while [ "$r" -le "$ROUNDS" ]; do
    # the square SGEMM rate again each round: on a shared machine it drifts
    # by tens of percent within minutes
    "$OUT/sgemm_peak" --squares 2048 --widths 16 --batch 16 --reps 5 --min-time 0.05 | tag phase=round round="$r" >>"$RAW"
    for H in $WIDTHS; do
        M=$OUT/jac_w$H.safetensors
        log "bench: round $r width $H: sensi ($RUNS runs)"
        i=1
        while [ "$i" -le "$RUNS" ]; do
            # sensi chooses its own kernel (re-exec) unless the user set one
            if [ -n "$USER_CT" ]; then senv=""; else senv="OPENBLAS_CORETYPE"; fi
            env ${senv:+-u $senv} ./sensi jacobian "$M" --points "$POINTS" \
                --csv "$OUT/jac_w$H.csv" --json -q | tag kind=sensi width="$H" round="$r" >>"$RAW"
            i=$((i + 1))
        done
        log "bench: round $r width $H: torch (threads $THREADS)"
        "$PY" bench/bench_jacobian.py --model "$M" --points "$POINTS" --csv "$OUT/jac_w$H.csv" \
            --threads "$THREADS" --reps 3 | tag width="$H" round="$r" >>"$RAW"
    done
    r=$((r + 1))
done

log "bench: SGEMM rates again"
"$OUT/sgemm_peak" --widths "$w_list" --batch 4090 | tag phase=end >>"$RAW"
printf '{"kind":"env_end","load_end":%s}\n' "$(cut -d' ' -f1 /proc/loadavg)" >>"$RAW"

# ---- report --------------------------------------------------------------------
"$PY" - "$RAW" "$OUT/jacobian.json" <<'EOF'
import json, sys
raw = [json.loads(l) for l in open(sys.argv[1])]
env = next(d for d in raw if d["kind"] == "env")
N, L, D, K = env["points"], env["depth"], 784, 10
peak = max(d["gflops"] for d in raw if d["kind"] == "peak")
round_peak = {d["round"]: d["gflops"] for d in raw if d["kind"] == "peak" and d.get("phase") == "round"}
res = {"env": env, "env_end": next((d for d in raw if d["kind"] == "env_end"), None),
       "sgemm_peak_gflops": peak, "widths": []}
print("Jacobian norms of %d Fashion-MNIST test points, depth %d (K = %d seeds per point)" % (N, L, K))
print("SGEMM peak (best square 1024/2048, measured at the start, every round and the end): "
      "%.1f GFLOP/s (range %.1f-%.1f)" % (peak, min(d["gflops"] for d in raw if d["kind"] == "peak"), peak))
print("%6s %9s %9s %9s %9s %8s %8s %8s %8s %9s  %s" % ("width", "GFLOP", "sensi s", "GFLOP/s",
      "torch s", "speedup", "of peak", "rounds", "shape%", "max rel", "torch best"))
for H in sorted({d["width"] for d in raw if d["kind"] == "sensi"}):
    dims = [D] + [H] * (L - 1) + [K]
    s = sum(dims[l] * dims[l + 1] for l in range(L))
    flops = 2 * N * s * (1 + K)
    sen = [d for d in raw if d["kind"] == "sensi" and d["width"] == H]
    tv = [d for d in raw if d["kind"] == "torch_variant" and d["width"] == H]
    sbest = min(d["compute_s"] for d in sen)
    tbest = min(tv, key=lambda d: d["best_s"])
    shape = max((d["gflops"] for d in raw if d["kind"] == "sgemm" and d["what"] == "dgrad"
                 and d["width"] == H and d["k"] == H), default=None)
    rel = max(max(d.get("max_rel_" + k, 0) for k in ("jac_softmax", "jac_logit", "jac_y")) for d in tv)
    over = max(d.get("n_rel_over_1e-4", 0) for d in tv)
    g = flops / sbest * 1e-9
    # per round: sensi's best rate that round over that round's square rate
    per_round = sorted(flops / min(d["compute_s"] for d in sen if d["round"] == rr) * 1e-9 / round_peak[rr]
                       for rr in sorted({d["round"] for d in sen}) if rr in round_peak)
    med_round = per_round[len(per_round) // 2] if per_round else float("nan")
    row = {"width": H, "depth": L, "points": N, "gflop": flops * 1e-9,
           "sensi_compute_s": sbest, "sensi_gflops": g,
           "sensi_compute_s_all": [d["compute_s"] for d in sen],
           "torch_best_s": tbest["best_s"], "torch_method": tbest["method"],
           "torch_threads": tbest["threads"],
           "torch_variants": {"%s/%d" % (d["method"], d["threads"]): min(e["best_s"] for e in tv
                              if e["method"] == d["method"] and e["threads"] == d["threads"]) for d in tv},
           "speedup_vs_torch": tbest["best_s"] / sbest, "fraction_of_sgemm_peak": g / peak,
           "fraction_of_round_peak_per_round": per_round, "fraction_of_round_peak_median": med_round,
           "sgemm_backward_shape_gflops": shape, "max_rel_diff_vs_torch": rel,
           "n_points_rel_over_1e-4": over}
    res["widths"].append(row)
    print("%6d %9.2f %9.4f %9.1f %9.4f %7.2fx %7.1f%% %7.1f%% %7.1f%% %9.1e  %s, %d thread(s)" % (
        H, flops * 1e-9, sbest, g, tbest["best_s"], tbest["best_s"] / sbest, 100 * g / peak,
        100 * med_round, 100 * g / shape if shape else float("nan"), rel, tbest["method"],
        tbest["threads"]))
json.dump(res, open(sys.argv[2], "w"), indent=1)
print("of peak: sensi's best GFLOP/s / the best SGEMM peak; rounds: median over rounds of the same")
print("ratio within each round; shape%: sensi's best / the best rate of one (4090, H) x (H, H)")
print("SGEMM (the backward's main shape, 2 BLAS threads); max rel: largest relative difference of")
print("any norm from torch's over all points, methods and thread settings (see n_rel_over_1e-4)")
print("written: %s" % sys.argv[2])
EOF
