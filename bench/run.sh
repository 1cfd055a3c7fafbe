#!/bin/sh
# bench/run.sh: training throughput of sensi against a tuned PyTorch baseline
# and against the machine's SGEMM rate, all measured in this one run, reported
# as ratios (the machine may be shared and noisy; absolute numbers are not
# comparable between runs, ratios from the same run are).
#
#   sh bench/run.sh            (or: make bench)
#
# Environment:
#   BENCH_SECONDS   target timed seconds per measurement (default 2)
#   BENCH_ROUNDS    interleaved rounds sensi, torch, sensi, torch... (default 3);
#                   the best of the rounds counts for each side
#   BENCH_CONFIGS   "depth:width ..." (default "3:100 3:500 3:1000 6:100 6:500 6:1000")
#   BENCH_THREADS   torch thread settings to try, comma-separated (default 1,2,1x2;
#                   see bench/torch_train.py --help)
#   BENCH_IDLE_WAIT seconds to wait for a 1-minute load average below 0.5 (default 0)
#   PYTHON          interpreter with torch (default /usr/bin/python3)
#   OPENBLAS_CORETYPE  if set, used for everything; otherwise chosen below
# Output: a table on stdout, bench/out/results.json, raw lines in
# bench/out/train_raw.jsonl. See bench/README.md.
set -e
cd "$(dirname "$0")/.."

OUT=bench/out
SECONDS_T=${BENCH_SECONDS:-2}
ROUNDS=${BENCH_ROUNDS:-3}
CONFIGS=${BENCH_CONFIGS:-"3:100 3:500 3:1000 6:100 6:500 6:1000"}
THREADS=${BENCH_THREADS:-1,2,1x2}
PY=${PYTHON:-/usr/bin/python3}
BATCH=128
LR=0.005
mkdir -p "$OUT"
RAW=$OUT/train_raw.jsonl
: >"$RAW"

log() { printf '%s\n' "$*" >&2; }

# ---- build -----------------------------------------------------------------
# shellcheck disable=SC2046 # the pkg-config flags are meant to be split
gcc -O2 -Wall bench/sgemm_peak.c -o "$OUT/sgemm_peak" $(pkg-config --cflags --libs openblas)
if ! make --no-print-directory -s sensi >&2; then
    [ -x ./sensi ] || { log "bench: cannot build ./sensi"; exit 1; }
    log "bench: 'make sensi' failed; using the existing ./sensi"
fi
"$PY" -c 'import torch' 2>/dev/null || {
    log "bench: $PY cannot import torch (run: sh scripts/setup.sh bench)"; exit 1; }

# ---- kernel choice -----------------------------------------------------------
# sensi re-executes itself with OPENBLAS_CORETYPE when OpenBLAS falls back to a
# generic kernel (src/core/blas.c); give sgemm_peak and torch the same kernel.
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
if [ -n "$CT" ]; then
    export OPENBLAS_CORETYPE="$CT"
    log "bench: OpenBLAS detected '$core'; using OPENBLAS_CORETYPE=$CT for sgemm_peak and torch"
else
    log "bench: OpenBLAS kernel '$core' (detected; OPENBLAS_CORETYPE not needed)"
fi

tag() { # tag KEY=VALUE... : prefix each JSON object line on stdin with fields
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

# other work on the cores distorts everything: wait up to BENCH_IDLE_WAIT
# seconds (default 0) for the 1-minute load average to drop below 0.5
waited=0
while [ "$waited" -lt "${BENCH_IDLE_WAIT:-0}" ] &&
      [ "$(awk '{print ($1 >= 0.5)}' /proc/loadavg)" = 1 ]; do
    sleep 10
    waited=$((waited + 10))
done
load=$(cut -d' ' -f1 /proc/loadavg)
log "bench: load average $load at start ($(nproc) CPUs)"
[ "$(awk '{print ($1 >= 0.5)}' /proc/loadavg)" = 1 ] &&
    log "bench: WARNING: the machine is busy (load $load); the results will be noisy"
{ printf '{"kind":"env","load_start":%s,"nproc":%s,"uname":"%s","date":"%s","cpu":"%s",' \
    "$load" "$(nproc)" "$(uname -r)" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  printf '"openblas_coretype":"%s","detected_core":"%s","seconds":%s,"rounds":%s}\n' \
    "$CT" "$core" "$SECONDS_T" "$ROUNDS"; } >>"$RAW"

# ---- SGEMM rate (start) -----------------------------------------------------
widths=$(for c in $CONFIGS; do echo "${c#*:}"; done | sort -un | paste -sd, -)
log "bench: SGEMM rates (square 1024, 2048 and the training shapes for widths $widths)"
"$OUT/sgemm_peak" --widths "$widths" --batch $BATCH --reps 5 --min-time 0.1 | tag phase=start >>"$RAW"
peak=$("$PY" -c 'import json,sys
print(max(json.loads(l)["gflops"] for l in open(sys.argv[1]) if "\"peak\"" in l))' "$RAW")
log "bench: square SGEMM peak so far: $peak GFLOP/s"

# ---- training runs ------------------------------------------------------------
# timed steps for sensi: from the previous round's rate, else from an
# estimate at 35% of the SGEMM peak (FLOPs per step: see README)
sensi_steps() { # depth width
    "$PY" -c '
import json, sys
L, H, B, T, peak, raw = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
rate = None
for line in open(raw):
    d = json.loads(line)
    if d.get("kind") == "sensi" and d.get("depth") == L and d.get("width") == H:
        rate = max(rate or 0, d["steps_per_s"])
if rate is None:
    P = 784 * H + (L - 2) * H * H + H * 10
    rate = 0.35 * peak * 1e9 / (6 * B * P - 2 * B * 784 * H)
print(max(20, min(200000, int(rate * T))))' "$1" "$2" $BATCH "$SECONDS_T" "$peak" "$RAW"
}

r=1
while [ "$r" -le "$ROUNDS" ]; do
    for c in $CONFIGS; do
        L=${c%%:*}
        H=${c#*:}
        S=$(sensi_steps "$L" "$H")
        log "bench: round $r  depth $L width $H: sensi ($S steps)"
        # sensi picks its own kernel (re-exec with OPENBLAS_CORETYPE): run it
        # without ours unless the user set one for everything
        if [ -n "$USER_CT" ]; then senv=""; else senv="OPENBLAS_CORETYPE"; fi
        env ${senv:+-u $senv} ./sensi train --data fashion-mnist --depth "$L" --width "$H" \
            --act relu --opt momentum --lr $LR --batch $BATCH --steps "$S" \
            --eval-every 1000000000 --no-early-stop -q |
            tag kind=sensi depth="$L" width="$H" round="$r" load="$(cut -d' ' -f1 /proc/loadavg)" >>"$RAW"
        log "bench: round $r  depth $L width $H: torch (threads $THREADS)"
        "$PY" bench/torch_train.py --depth "$L" --width "$H" --batch $BATCH --lr $LR \
            --momentum 0.9 --threads "$THREADS" --seconds "$SECONDS_T" --reps 1 |
            tag round="$r" load="$(cut -d' ' -f1 /proc/loadavg)" >>"$RAW"
    done
    r=$((r + 1))
done

# ---- SGEMM rate (end) ---------------------------------------------------------
log "bench: SGEMM rates again"
"$OUT/sgemm_peak" --widths "$widths" --batch $BATCH --reps 5 --min-time 0.1 | tag phase=end >>"$RAW"
load=$(cut -d' ' -f1 /proc/loadavg)
printf '{"kind":"env_end","load_end":%s}\n' "$load" >>"$RAW"

"$PY" bench/report.py "$RAW" "$OUT/results.json"
