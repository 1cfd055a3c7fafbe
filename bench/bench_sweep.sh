#!/bin/sh
# bench/bench_sweep.sh: networks per hour of `sensi sweep` for one fixed
# small spec (16 networks of 1-3 s each on 2000 Fashion-MNIST images, with
# Jacobian and exact transitions), side by side in one run:
#   --jobs 1, --jobs 2, and mpirun -n 2 (rank 0 schedules + 1 local worker,
#   rank 1 works), each on a fresh database.
# Reports runs/hour, the ratios jobs2/jobs1 and mpi2/jobs2, and the overhead
# of scheduling and the database: 1 - (sum of run wall times) /
# (workers x (sweep wall - startup) - idle tail), where startup (spec check,
# dataset load, before the first run starts) and the idle tail (workers
# waiting for the last runs once the queue is empty: load imbalance, not
# scheduling) are listed apart, and db_s / wall.
# Environment: BENCH_SWEEP_REPS (default 1). Output: JSON lines on stdout and
# bench/out/sweep.jsonl.
set -e
cd "$(dirname "$0")/.."
OUT=bench/out
mkdir -p "$OUT"
RES=$OUT/sweep.jsonl
: >"$RES"
make --no-print-directory -s sensi >&2
SPEC=$OUT/bench_sweep.json
cat >"$SPEC" <<'JSON'
{"name": "bench-sweep", "seed": 1,
 "fixed": {"data": "fashion-mnist", "train_size": 2000, "test_size": 1000, "steps": 1500,
           "eval_every": 500, "lr": 0.01, "early_stop": false},
 "grid": {"depth": [2, 3], "width": [64, 128], "act": ["relu", "hardtanh"], "opt": ["momentum", "adam"]},
 "measure": {"only_fit": false, "jacobian": {"test_points": 500},
             "transitions": {"kinds": ["ellipse-diff"], "count": 1, "method": "exact"}}}
JSON
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
run() { # name, command...
    name=$1
    shift
    rm -f "$OUT/bench_sweep.db" "$OUT/bench_sweep.db-wal" "$OUT/bench_sweep.db-shm"
    "$@" "$SPEC" --db "$OUT/bench_sweep.db" -q >"$OUT/sweep_$name.json"
    /usr/bin/env python3 - "$name" "$OUT/sweep_$name.json" <<'PY' | tee -a "$RES"
import json, sys
j = json.load(open(sys.argv[2]))
busy, wall, start, w, tail = j["busy_s"], j["wall_s"], j["startup_s"], j["workers"], j["tail_s"]
print(json.dumps({"kind": "sweep", "mode": sys.argv[1], "runs": j["done"], "workers": w,
                  "wall_s": round(wall, 2), "runs_per_hour": round(j["runs_per_hour"]),
                  "startup_s": round(start, 2),
                  "idle_tail_fraction": round(tail / (w * (wall - start)), 4),
                  "overhead": round(1 - busy / (w * (wall - start) - tail), 4),
                  "db_fraction": round(j["db_s"] / wall, 4)}))
PY
}
for rep in $(seq "${BENCH_SWEEP_REPS:-1}"); do
    run jobs1 ./sensi sweep --jobs 1
    run jobs2 ./sensi sweep --jobs 2
    if command -v mpirun >/dev/null && ./sensi sweep --help | grep -q mpirun; then
        run mpi2 mpirun -n 2 ./sensi sweep
    fi
done
/usr/bin/env python3 - "$RES" <<'PY' | tee -a "$RES"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"sweep"' in l]
best = {}
for r in rows:
    best[r["mode"]] = max(best.get(r["mode"], 0), r["runs_per_hour"])
out = {"kind": "sweep_summary", **{m + "_runs_per_hour": v for m, v in best.items()}}
if "jobs1" in best and "jobs2" in best:
    out["jobs2_over_jobs1"] = round(best["jobs2"] / best["jobs1"], 3)
if "mpi2" in best and "jobs2" in best:
    out["mpi2_over_jobs2"] = round(best["mpi2"] / best["jobs2"], 3)
print(json.dumps(out))
PY
