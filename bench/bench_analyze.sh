#!/bin/sh
# bench/bench_analyze.sh: seconds of `sensi analyze DB --json --bootstrap R`
# on generated databases of N runs in sensi's exact schema
# (bench/gen_runs.py), and how they grow with N.
#
# For each N in BENCH_ANALYZE_N (default "1000 10000 100000") and each R in
# BENCH_ANALYZE_REPS (default "0 100 300 1000"; 0 = no bootstrap, the rest
# of the analysis alone) one timed run, at most BENCH_ANALYZE_TIMEOUT seconds
# (default 600; a run that hits it is killed and reported as "> T"). The
# bootstrap's cost is linear in R (every resample does the same work), so
# when the last two measured R at this N predict, on their line, that the
# next R would pass the timeout, that run is skipped and its estimate printed
# with a "~" (from R = 0 and 100 it came out ~20% low on this machine: the
# fixed part's time varies more than the per-resample part; 100 and 300 are
# within a few %); once one R hits the timeout at some N, the larger R at
# that N are skipped. Then per-run costs and the scaling exponents b of
# t ~ N^b between sizes, and, for an N that did not finish, an extrapolation
# from the two largest finished sizes.
#
# BENCH_ANALYZE_THREADS (default 1) is passed as --threads: with 1 the CPU
# seconds are the work and scale with N and R; with 0 (all cores) compare the
# wall seconds (the numbers are the same either way).
#
# Environment: SENSI (the binary; default ./sensi, built with `make all` if
# missing), BENCH_ANALYZE_N, BENCH_ANALYZE_REPS, BENCH_ANALYZE_TIMEOUT,
# BENCH_ANALYZE_THREADS,
# PYTHON (default /usr/bin/python3). Databases are kept in bench/out/analyze/
# (regenerated when gen_runs.py is newer); results in
# bench/out/analyze/results.jsonl and a table on stdout. Times are CPU seconds
# (user + sys, of analyze on BENCH_ANALYZE_THREADS threads; less sensitive than wall time to
# other work on a shared machine), wall seconds beside them; estimates,
# exponents and extrapolations use the CPU seconds.
set -e
cd "$(dirname "$0")/.."
PY=${PYTHON:-/usr/bin/python3}
NS=${BENCH_ANALYZE_N:-"1000 10000 100000"}
REPS=${BENCH_ANALYZE_REPS:-"0 100 300 1000"}
TMO=${BENCH_ANALYZE_TIMEOUT:-600}
THR=${BENCH_ANALYZE_THREADS:-1}
OUT=bench/out/analyze
mkdir -p "$OUT"
if [ -z "$SENSI" ]; then
    SENSI=./sensi
    [ -x "$SENSI" ] || make --no-print-directory -s all >&2
fi
[ -x "$SENSI" ] || { echo "bench_analyze: no sensi binary at $SENSI" >&2; exit 2; }
RES=$OUT/results.jsonl
: >"$RES"
load() { cut -d' ' -f1 /proc/loadavg; }
echo "bench_analyze: $SENSI, N = $NS, bootstrap = $REPS, --threads $THR, timeout ${TMO}s, load $(load), $(nproc) cores"

# the schema: a 2-run sweep (seconds) into a template database
TPL=$OUT/template.db
if [ ! -s "$TPL" ] || [ "$SENSI" -nt "$TPL" ]; then
    rm -f "$TPL" "$TPL-wal" "$TPL-shm"
    cat >"$OUT/template.json" <<'JSON'
{"name": "gap-bench-template", "seed": 3,
 "fixed": {"data": "fashion-mnist", "train_size": 200, "test_size": 200, "width": 16,
           "steps": 600, "early_stop": false, "eval_every": 50, "opt": "adam", "lr": 0.002},
 "grid": {"depth": [2, 3]},
 "measure": {"jacobian": {"test_points": 50, "per_point": true},
             "transitions": {"kinds": ["ellipse-diff"], "count": 2, "method": "exact",
                             "profile_bins": 24}}}
JSON
    "$SENSI" sweep "$OUT/template.json" --db "$TPL" --jobs 1 -q >/dev/null
fi

now() { date +%s.%N; }
for n in $NS; do
    db=$OUT/runs-$n.db
    if [ ! -s "$db" ] || [ bench/gen_runs.py -nt "$db" ] || [ "$TPL" -nt "$db" ]; then
        t0=$(now)
        "$PY" bench/gen_runs.py "$TPL" "$db" -n "$n" >"$OUT/gen-$n.json"
        echo "generated $db in $(printf "%.1f" "$(echo "$(now) - $t0" | bc)") s: $(cat "$OUT/gen-$n.json")"
    fi
    fit=$(sqlite3 "$db" "select count(*) from runs where status = 'fit'")
    r1= c1= r2= c2= skip=  # the last two measured (reps, CPU s) at this N
    for r in $REPS; do
        if [ -n "$skip" ]; then
            echo "{\"n\": $n, \"fit\": $fit, \"reps\": $r, \"timeout_s\": $TMO, \"skipped\": \"timeout at fewer reps\"}" >>"$RES"
            continue
        fi
        if [ -n "$r1" ]; then
            est=$(printf "%.1f" "$(echo "$c2 + ($r - $r2) * ($c2 - $c1) / ($r2 - $r1)" | bc -l)")
            if [ "$(echo "$est > $TMO" | bc)" = 1 ]; then
                echo "N=$n bootstrap $r: estimated ${est%.*} s > ${TMO} s, not run"
                echo "{\"n\": $n, \"fit\": $fit, \"reps\": $r, \"estimate_s\": $est}" >>"$RES"
                continue
            fi
        fi
        l0=$(load)
        t0=$(now)
        rc=0
        /usr/bin/time -f "%U %S" -o "$OUT/cpu-$n-$r" timeout "$TMO" "$SENSI" analyze "$db" --json \
            --bootstrap "$r" --threads "$THR" >/dev/null 2>"$OUT/err-$n-$r" || rc=$?
        s=$(printf "%.2f" "$(echo "$(now) - $t0" | bc)")
        cpu=$(tail -1 "$OUT/cpu-$n-$r" | awk '{printf "%.2f", $1 + $2}')
        if [ $rc -eq 124 ]; then
            echo "N=$n bootstrap $r: > $TMO s (stopped)"
            echo "{\"n\": $n, \"fit\": $fit, \"reps\": $r, \"timeout_s\": $TMO, \"load\": [$l0, $(load)]}" >>"$RES"
            skip=1
            continue
        elif [ $rc -ne 0 ]; then
            echo "bench_analyze: analyze failed on $db: $(cat "$OUT/err-$n-$r")" >&2
            exit 1
        fi
        echo "N=$n bootstrap $r: $s s wall, $cpu s CPU (load $l0 -> $(load))"
        echo "{\"n\": $n, \"fit\": $fit, \"reps\": $r, \"threads\": $THR, \"seconds\": $s, \"cpu_s\": $cpu, \"load\": [$l0, $(load)]}" >>"$RES"
        r1=$r2 c1=$c2 r2=$r c2=$cpu
    done
done

"$PY" - "$RES" <<'PY'
import json, math, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ns = sorted({r["n"] for r in rows})
reps = sorted({r["reps"] for r in rows})
t = {}  # (n, reps) -> (CPU seconds, kind): kind "" measured, "~" estimated, ">" timeout (wall)
wall = {}
for r in rows:
    k = (r["n"], r["reps"])
    if "seconds" in r:
        t[k] = (r["cpu_s"], "")
        wall[k] = r["seconds"]
    elif "estimate_s" in r:
        t[k] = (r["estimate_s"], "~")
    elif "timeout_s" in r:
        t[k] = (r["timeout_s"], ">")
fit = {r["n"]: r["fit"] for r in rows}
def cell(k):
    if k not in t:
        return "-"
    v, kind = t[k]
    if k in wall:
        return "%.1f (%.1f)" % (v, wall[k])
    return "%s %.1f" % (kind, v)
print()
print("CPU seconds (wall seconds); ~ estimated from the two smaller bootstrap counts, > stopped at the timeout")
print("| runs N | fit | " + " | ".join("bootstrap %d" % r for r in reps) + " | ms per fit run, bootstrap %d |" % reps[-1])
print("|---" * (len(reps) + 3) + "|")
for n in ns:
    last = t.get((n, reps[-1]))
    per = "%.2f" % (1000 * last[0] / fit[n]) if last and last[1] != ">" else "-"
    print("| %d | %d | %s | %s |" % (n, fit[n], " | ".join(cell((n, r)) for r in reps), per))
print()
def good(k):
    return k in t and t[k][1] != ">"
print("scaling exponent b (t ~ N^b) between sizes; 1 = linear:")
for a, b in zip(ns, ns[1:]):
    parts = []
    for r in reps:
        if good((a, r)) and good((b, r)):
            parts.append("bootstrap %d: %.2f%s" % (r, math.log(t[(b, r)][0] / t[(a, r)][0]) / math.log(b / a),
                                                  " (est.)" if "~" in (t[(a, r)][1], t[(b, r)][1]) else ""))
        if r > 0 and good((a, r)) and good((b, r)) and good((a, 0)) and good((b, 0)):
            da, db = t[(a, r)][0] - t[(a, 0)][0], t[(b, r)][0] - t[(b, 0)][0]
            if da > 0 and db > 0:
                parts.append("bootstrap part of %d: %.2f" % (r, math.log(db / da) / math.log(b / a)))
    print("  %d -> %d: %s" % (a, b, "; ".join(parts) if parts else "not enough finished runs"))
# extrapolation for sizes that did not finish
done = [n for n in ns if all(good((n, r)) for r in reps)]
for n in ns:
    if n in done or len(done) < 2:
        continue
    a, b = done[-2], done[-1]
    if b >= n:
        continue
    out = []
    for r in reps:
        ta, tb = t[(a, r)][0], t[(b, r)][0]
        e = math.log(tb / ta) / math.log(b / a)
        x = tb * (n / b) ** e
        # a timeout at n (this r or fewer resamples) is a lower bound
        lb = max([t[(n, q)][0] for q in reps if q <= r and (n, q) in t and t[(n, q)][1] == ">"] or [0])
        out.append("bootstrap %d: ~%.0f s%s" % (r, max(x, lb), " (the measured > %.0f s bounds it)" % lb
                                                if lb > x else ""))
    print("extrapolated to N=%d from N=%d and %d (same exponent): %s" % (n, a, b, "; ".join(out)))
print("goal: under 60 s at N=100000 with bootstrap 1000 on 2 cores")
PY
