#!/bin/sh
# e2e_sweep.sh SENSI: end-to-end tests of `sensi sweep` (and merge/runs) on
# Fashion-MNIST with a real SQLite database: a 12-network sweep whose rows
# equal what `sensi train` / `jacobian` / `transitions` give for the same
# configs and seeds; two sweeps started together on one database train each
# run once and give the same database; claims of processes that are gone
# (a dead pid, another host's stale claim, a SIGKILLed sweep) are released
# and their runs trained, a live one is waited for; resume after SIGKILL at
# random moments, after Ctrl-C, and after a worker dies; MPI (mpirun -n 3,
# oversubscribed) and shards merged give the same database; malformed specs
# and databases fail cleanly.
# Each check prints "ok NAME" or "FAIL NAME: why"; exit 1 on any failure.
SENSI=${1:-./sensi}
cd "$(dirname "$0")/.." || exit 2
. tests/lib_e2e.sh
e2e_init sweep
PY=python3
CHK="$PY tests/sweep_check.py"

cat >"$T/spec.json" <<'JSON'
{"name": "e2e", "seed": 11,
 "fixed": {"data": "fashion-mnist", "train_size": 400, "test_size": 300, "width": 48,
           "steps": 400, "eval_every": 100, "lr": 0.01},
 "grid": {"depth": [2, 3], "act": ["relu", "hardtanh"], "opt": ["momentum", "adam", "sgd"]},
 "measure": {"only_fit": false,
             "jacobian": {"test_points": 200, "train_points": 100, "per_point": true},
             "transitions": {"kinds": ["ellipse-diff", "translate"], "count": 1,
                             "method": "exact", "profile_bins": 12}}}
JSON

# --- a reference sweep -----------------------------------------------------
$SENSI sweep "$T/spec.json" --db "$T/ref.db" --jobs 2 >"$T/out" 2>"$T/err" \
    || { bad sweep "exit $?: $(cat "$T/err")"; exit 1; }
pycheck sweep 'j["runs"] == 12 and j["done"] == 12 and j["in_db"] == 12 and j["failed"] == 0 and j["fit"] + j["not_fit"] + j["diverged"] == 12'
n=$($CHK get "$T/ref.db" "select count(*) || '/' || count(distinct run_id) || '/' || (select count(*) from points) || '/' || (select count(*) from trajectories) || '/' || sum(status in ('fit','not_fit')) from runs")
[ "$n" = "12/12/3600/24/12" ] && ok rows || bad rows "runs/distinct/points/trajectories/trained = $n"
grep -q "12/12 runs" "$T/err" && ok progress || bad progress "$(cat "$T/err")"

# rerunning finishes at once: everything is stored
$SENSI sweep "$T/spec.json" --db "$T/ref.db" >"$T/out" 2>"$T/err" || bad rerun "exit $?"
pycheck rerun-skips 'j["skipped"] == 12 and j["done"] == 0'

# --- two sweeps started together on one database share the runs ---------------
# each run is claimed in the database before it is trained: every run is
# trained once (the two summaries' done add up to 12), each run id is in the
# database once, and the database equals the single sweep's
$SENSI sweep "$T/spec.json" --db "$T/two.db" --jobs 1 >"$T/two1.out" 2>"$T/two1.err" &
p1=$!
$SENSI sweep "$T/spec.json" --db "$T/two.db" --jobs 1 >"$T/two2.out" 2>"$T/two2.err" &
p2=$!
wait $p1
r1=$?
wait $p2
r2=$?
if [ $r1 -eq 0 ] && [ $r2 -eq 0 ] && $PY - "$T/two1.out" "$T/two2.out" "$T/two.db" <<'PY'
import json, sqlite3, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert a["done"] + b["done"] == 12, ("trained", a["done"], b["done"])
for j in (a, b):
    assert j["skipped"] + j["done"] + j["by_others"] == 12, j
    assert j["in_db"] == 12 and j["failed"] == 0, j
c = sqlite3.connect(sys.argv[3])
ids = [r[0] for r in c.execute("select run_id from runs order by run_id")]
assert ids == list(range(12)), ids
assert c.execute("select count(*) from run_claims").fetchone()[0] == 0, "claims left"
print("measured: two sweeps on one database trained %d + %d of 12 runs" % (a["done"], b["done"]))
PY
then ok two-sweeps; else bad two-sweeps "exit $r1/$r2: $(cat "$T/two1.out" "$T/two2.out"; tail -n 3 "$T/two1.err" "$T/two2.err")"; fi
msg=$($CHK same "$T/two.db" "$T/ref.db" 2>&1) && ok two-sweeps-same || bad two-sweeps-same "$msg"

# a copy of the reference without run ID and a claim of it by PID on HOST,
# AGE seconds old: claim_db OUT ID PID HOST AGE
claim_db() {
    $PY - "$T/ref.db" "$@" <<'PY'
import sqlite3, sys
src, out, rid, pid, host, age = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], float(sys.argv[6])
d = sqlite3.connect(out)
sqlite3.connect(src).backup(d)
for t in ("runs", "points", "trajectories"):
    d.execute(f"delete from {t} where run_id = ?", (rid,))
d.execute("insert into run_claims (run_id, state, attempts, owner, host, pid, pid_start, boot_id, "
          "claimed_at, seen_at) values (?, 'running', 1, 7, ?, ?, NULL, NULL, "
          "'2026-01-01T00:00:00Z', strftime('%s', 'now') - ?)", (rid, host, pid, age))
d.commit()
PY
}
HOST=$($PY -c 'import socket; print(socket.gethostname())')

# --- a claim of a process that is gone is released; the next sweep trains it --
dead=$(sh -c 'echo $$')
claim_db "$T/stale.db" 3 "$dead" "$HOST" 0
$SENSI sweep "$T/spec.json" --db "$T/stale.db" >"$T/out" 2>"$T/err" || bad stale-claim "exit $?: $(cat "$T/err")"
pycheck stale-claim 'j["done"] == 1 and j["skipped"] == 11 and j["in_db"] == 12'
grep -q "run 3 was claimed by pid $dead on .*which is gone" "$T/err" && ok stale-claim-message || bad stale-claim-message "$(cat "$T/err")"
msg=$($CHK same "$T/stale.db" "$T/ref.db" 2>&1) && ok stale-claim-same || bad stale-claim-same "$msg"
[ "$($CHK get "$T/stale.db" "select count(*) from run_claims")" = 0 ] && ok stale-claim-cleared || bad stale-claim-cleared "claims left"
# another host's claim: honoured while refreshed, released once stale (600 s)
claim_db "$T/far.db" 5 1 elsewhere.invalid 30
$SENSI sweep "$T/spec.json" --db "$T/far.db" --dry-run >"$T/out" 2>"$T/err" || bad far-claim "$(cat "$T/err")"
pycheck far-claim-live 'j["to_do"] == 1 and j["being_trained"] == 1'
claim_db "$T/far2.db" 5 1 elsewhere.invalid 900
$SENSI sweep "$T/spec.json" --db "$T/far2.db" >"$T/out" 2>"$T/err" || bad far-claim-stale "exit $?: $(cat "$T/err")"
pycheck far-claim-stale 'j["done"] == 1 and j["in_db"] == 12'

# --- a claim of a live process is waited for, and taken once it is gone -------
sleep 120 &
holder=$!
claim_db "$T/held.db" 4 "$holder" "$HOST" 0
$SENSI sweep "$T/spec.json" --db "$T/held.db" >"$T/out" 2>"$T/err" &
sp=$!
for _ in $(seq 150); do
    grep -q "being trained by another sweep" "$T/err" && break
    sleep 0.2
done
sleep 1.5
if kill -0 $sp 2>/dev/null && grep -q "run 4 is being trained by another sweep on this database (pid $holder on " "$T/err" &&
    [ "$($CHK get "$T/held.db" "select count(*) from runs")" = 11 ]; then
    ok held-waits
else
    bad held-waits "$(cat "$T/err")"
fi
# readers name the claim but never take it for a run
$SENSI runs "$T/held.db" --csv "$T/held.csv" >"$T/runs.out" 2>&1
if grep -q "^11 runs of 12 in the spec" "$T/runs.out" && [ "$(wc -l <"$T/held.csv")" -eq 12 ] &&
    grep -q "^1 more being trained by running sweeps (one is pid $holder on " "$T/runs.out"; then
    ok runs-claims
else
    bad runs-claims "$(cat "$T/runs.out")"
fi
kill $holder
wait $holder 2>/dev/null
wait $sp || bad held-takeover "exit $?: $(cat "$T/err")"
pycheck held-takeover 'j["done"] == 1 and j["in_db"] == 12'
grep -q "run 4 was claimed by pid $holder on .*which is gone" "$T/err" && ok held-takeover-message || bad held-takeover-message "$(cat "$T/err")"
msg=$($CHK same "$T/held.db" "$T/ref.db" 2>&1) && ok held-same || bad held-same "$msg"

# --- the rows equal the single-network commands ----------------------------
for id in 0 7 10; do
    seed=$($CHK get "$T/ref.db" "select seed from runs where run_id = $id")
    # shellcheck disable=SC2046
    $SENSI train $($CHK flags "$T/ref.db" $id) --threads 1 -q -o "$T/m$id.safetensors" >"$T/train.json" 2>"$T/err" \
        || { bad "train-$id" "$(cat "$T/err")"; continue; }
    $SENSI jacobian "$T/m$id.safetensors" --points 200 --threads 1 -q --json >"$T/jac.json" 2>"$T/err" || bad "jac-$id" "$(cat "$T/err")"
    $SENSI transitions "$T/m$id.safetensors" --trajectory ellipse-diff,translate --count 1 --exact --seed "$seed" \
        --csv "$T/tr.csv" >/dev/null 2>"$T/err" || bad "tr-$id" "$(cat "$T/err")"
    if $PY - "$T/ref.db" $id "$T/train.json" "$T/jac.json" "$T/tr.csv" <<'PY'
import csv, json, sqlite3, sys
db, rid = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(db); c.row_factory = sqlite3.Row
r = c.execute("select * from runs where run_id = ?", (rid,)).fetchone()
t = json.load(open(sys.argv[3])); j = json.load(open(sys.argv[4]))
def eq(a, b, what):
    assert a == b or abs(a - b) <= 1e-12 * max(1, abs(b)), (what, a, b)
assert r["status"] == t["status"], (r["status"], t["status"])
eq(r["steps"], t["steps"], "steps")
for k in ("train_acc", "train_loss", "test_acc", "test_loss", "gap"):
    eq(r[k], t[k], k)
eq(r["n_params"], t["n_params"], "n_params")
for a, b in (("jac_test_mean", "jac_softmax_mean"), ("jac_test_median", "jac_softmax_median"),
             ("jac_logit_test_mean", "jac_logit_mean"), ("jac_test_M", "M"),
             ("jac_test_auc", "auc_misclassified"), ("jac_test_within_bounds", "within_bounds"),
             ("jac_test_acc", "accuracy")):
    eq(r[a], j[b], a)
rows = {(x["kind"]): x for x in csv.DictReader(open(sys.argv[5]))}
for tr in c.execute("select * from trajectories where run_id = ?", (rid,)):
    x = rows[tr["kind"]]
    assert x["anchors"] == tr["anchors"], (x["anchors"], tr["anchors"])
    assert int(x["transitions"]) == tr["transitions"], (tr["kind"], x["transitions"], tr["transitions"])
    assert int(x["regions"]) == tr["regions"]
    # the length the sweep stored is the one `sensi transitions` computes (%.10g in the CSV)
    assert tr["length"] > 0 and abs(float(x["length"]) - tr["length"]) <= 1e-9 * tr["length"], \
        (tr["kind"], x["length"], tr["length"])
pts = c.execute("select count(*), sum(correct) from points where run_id = ? and split = 'test'", (rid,)).fetchone()
assert pts[0] == 200 and abs(pts[1] / 200 - j["accuracy"]) < 1e-12, pts
PY
    then ok "same-as-cli-$id"; else bad "same-as-cli-$id" "sweep row differs from train/jacobian/transitions"; fi
done

# --- a worker killed mid-run: stored as failed, replaced; a rerun retries ---
# (slower runs, so that kills land inside them)
sed 's/"steps": 400/"steps": 1500/; s/"eval_every": 100/"eval_every": 1500/' "$T/spec.json" >"$T/slow.json"
$SENSI sweep "$T/slow.json" --db "$T/crash.db" --jobs 2 >"$T/out" 2>"$T/err" &
pid=$!
child=""
for _ in $(seq 50); do
    sleep 0.2
    child=$(pgrep -P $pid | head -1)
    [ -n "$child" ] && [ -n "$($CHK get "$T/crash.db" "select count(*) from runs" 2>/dev/null)" ] && break
done
sleep 0.5
[ -n "$child" ] && kill -9 "$child"
wait $pid || bad crash "exit $?: $(cat "$T/err")"
pycheck crash 'j["failed"] == 1 and j["in_db"] == 12'
full=$(json "$T/out" wall_s)
err=$($CHK get "$T/crash.db" "select error from runs where status = 'failed'")
case "$err" in *"signal 9"*) ok crash-message ;; *) bad crash-message "error column: $err" ;; esac
$SENSI sweep "$T/slow.json" --db "$T/crash.db" -q >"$T/out" 2>&1
pycheck crash-retry 'j["done"] == 1 and j["failed"] == 0 and j["in_db"] == 12'

# --- resume after SIGKILL of the scheduler at random moments: the result equals
# the sweep above (complete after its retry)
i=0
counts=""
while [ $i -lt 5 ]; do
    $SENSI sweep "$T/slow.json" --db "$T/kill.db" --jobs 2 -q >/dev/null 2>&1 &
    pid=$!
    # a random moment within the first half of an uninterrupted sweep's time
    sleep "$($PY -c "import random; random.seed($i * 7 + $$); print(round(random.uniform(0.15, 0.5) * $full, 2))")"
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    counts="$counts $($CHK get "$T/kill.db" "select count(*) from runs" 2>/dev/null)"
    i=$((i + 1))
done
sleep 0.3
if pgrep -f "sweep $T/slow.json" >/dev/null; then bad orphans "workers outlived their killed scheduler"; else ok orphans; fi
stored=$($CHK get "$T/kill.db" "select count(*) from runs" 2>/dev/null)
# the killed sweeps' claims of the runs they were training stay behind, and
# the next sweep releases them (their pids are gone) and trains those runs
held=$($CHK get "$T/kill.db" "select count(*) from run_claims where state = 'running'" 2>/dev/null)
$SENSI sweep "$T/slow.json" --db "$T/kill.db" --jobs 2 >"$T/out" 2>"$T/err" || bad kill-resume "exit $?: $(cat "$T/err")"
pycheck kill-resume "j[\"in_db\"] == 12 and j[\"skipped\"] == ${stored:-0} and j[\"done\"] == 12 - ${stored:-0}"
echo "measured: runs stored after each of 5 SIGKILLs:$counts; claims left by the last: ${held:-none}"
[ "$($CHK get "$T/kill.db" "select count(*) from run_claims")" = 0 ] && ok kill-claims-cleared || bad kill-claims-cleared "claims left after the resume"
msg=$($CHK same "$T/kill.db" "$T/crash.db" 2>&1) && ok kill-same || bad kill-same "$msg"

# --- Ctrl-C: exit 130, what is stored stays, a rerun finishes ---------------
$SENSI sweep "$T/slow.json" --db "$T/int.db" --jobs 1 >"$T/out" 2>"$T/err" &
pid=$!
sleep "$($PY -c "print(round(0.4 * $full, 2))")"  # mid-sweep: jobs 1 takes about twice $full
kill -INT $pid
wait $pid
rc=$?
if [ $rc -eq 130 ] && grep -q "interrupted" "$T/err" && grep -q "rerun the same command" "$T/err"; then ok sigint; else bad sigint "exit $rc: $(cat "$T/err")"; fi
# Ctrl-C releases the claims of the runs it stopped
[ "$($CHK get "$T/int.db" "select count(*) from run_claims where state = 'running'")" = 0 ] && ok sigint-claims-released || bad sigint-claims-released "claims left"
$SENSI sweep "$T/slow.json" --db "$T/int.db" -q >"$T/out" 2>"$T/err" || bad sigint-resume "exit $?"
msg=$($CHK same "$T/int.db" "$T/crash.db" 2>&1) && ok sigint-same || bad sigint-same "$msg"

# --- MPI: rank 0 schedules and writes, the other ranks train -----------------
if ! $SENSI version | grep -q "MPI: yes"; then
    # built without MPI: under a launcher it must refuse, not run the sweep R times
    expect_fail mpi-refused "built without MPI" env OMPI_COMM_WORLD_SIZE=3 $SENSI sweep "$T/spec.json" --db "$T/mpi.db"
    bad mpi "this sensi was built without MPI (scripts/setup.sh installs libopenmpi-dev; rebuild)"
elif command -v mpirun >/dev/null 2>&1; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
    # OpenMPI's own allocations (and its dlopen'ed components) are reported
    # as leaks at exit; leak checking of sensi's code is done by the local
    # sweeps above, which run the same scheduler
    if ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" timeout 300 mpirun -n 3 --oversubscribe $SENSI sweep "$T/spec.json" --db "$T/mpi.db" >"$T/out" 2>"$T/err"; then
        pycheck mpi 'j["ranks"] == 3 and j["workers"] == 3 and j["done"] == 12 and j["failed"] == 0'
        msg=$($CHK same "$T/mpi.db" "$T/ref.db" 2>&1) && ok mpi-same || bad mpi-same "$msg"
    else
        bad mpi "exit $?: $(tail -5 "$T/err")"
    fi
else
    bad mpi "mpirun is not installed (scripts/setup.sh installs openmpi-bin)"
fi

# --- shards merged equal the whole sweep ------------------------------------
for s in 1 2 3; do
    $SENSI sweep "$T/spec.json" --db "$T/part$s.db" --shard $s/3 -q >"$T/out" 2>"$T/err" || bad "shard-$s" "$(cat "$T/err")"
done
pycheck shard-3 'j["shard"] == "3/3" and j["done"] == 4 and j["in_db"] == 4'
if $SENSI merge "$T/all.db" "$T/part1.db" "$T/part2.db" "$T/part3.db" >"$T/merge.out" 2>&1; then
    msg=$($CHK same "$T/all.db" "$T/ref.db" 2>&1) && ok merge-same || bad merge-same "$msg"
else
    bad merge "$(cat "$T/merge.out")"
fi

# --- --save-models: each run's network, loadable by the other commands ----------
$SENSI sweep "$T/spec.json" --db "$T/save.db" --shard 2/6 --save-models "$T/models" -q >"$T/out" 2>"$T/err" \
    || bad save-models "$(cat "$T/err")"
if [ -f "$T/models/run-000001.safetensors" ] && [ -f "$T/models/run-000007.safetensors" ] &&
    $SENSI eval "$T/models/run-000007.safetensors" >"$T/eval.json" 2>"$T/err" &&
    $PY - "$T/save.db" "$T/eval.json" <<'PY'
import json, sqlite3, sys
r = sqlite3.connect(sys.argv[1]).execute("select test_acc, test_loss, seed from runs where run_id = 7").fetchone()
j = json.load(open(sys.argv[2]))
assert j["test_acc"] == r[0] and abs(j["test_loss"] - r[1]) < 1e-5 * r[1], (j, r)
assert int(j["config"]["seed"]) == r[2]
PY
then ok save-models; else bad save-models "$(ls "$T/models" 2>&1) $(cat "$T/err")"; fi

# --- sensi runs --------------------------------------------------------------
$SENSI runs "$T/ref.db" --csv "$T/runs.csv" >"$T/out" 2>&1 || bad runs "$(cat "$T/out")"
if $PY -c 'import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); assert len(r)==12 and r[0]["run_id"]=="0" and "jac_test_mean" in r[0]' "$T/runs.csv"; then ok runs-csv; else bad runs-csv "$(head -3 "$T/runs.csv")"; fi

# --- dry run -----------------------------------------------------------------
$SENSI sweep "$T/spec.json" --db "$T/none.db" --dry-run >"$T/out" 2>"$T/err" || bad dry-run "$(cat "$T/err")"
pycheck dry-run 'j["runs"] == 12 and j["to_do"] == 12 and len(j["first_runs"]) == 3'
[ -e "$T/none.db" ] && bad dry-run-no-db "a dry run created the database" || ok dry-run-no-db
# a database path the sweep could not create fails the dry run too
expect_fail dry-run-bad-db "cannot create the database there" $SENSI sweep "$T/spec.json" --db "$T/nodir/x.db" --dry-run
expect_fail dry-run-db-in-file "cannot create the database there" $SENSI sweep "$T/spec.json" --db "$T/spec.json/x.db" --dry-run

# --- bad input -----------------------------------------------------------------
printf '{"name": "x", "grid": {"width": [1,}}' >"$T/b1.json"
expect_fail bad-json "not valid JSON" $SENSI sweep "$T/b1.json" --db "$T/b.db"
printf '{"name": "x", "grid": {"widht": [10]}}' >"$T/b2.json"
expect_fail unknown-key "unknown key 'widht'" $SENSI sweep "$T/b2.json" --db "$T/b.db"
printf '{"name": "x", "grid": {"width": []}}' >"$T/b3.json"
expect_fail empty-grid "has no values" $SENSI sweep "$T/b3.json" --db "$T/b.db"
printf '{"name": "x", "grid": {"width": [10, -3]}}' >"$T/b4.json"
expect_fail negative-width "width: -3 is not in" $SENSI sweep "$T/b4.json" --db "$T/b.db"
printf '{"name": "x", "fixed": {"data": "cifar10"}}' >"$T/b5.json"
mkdir -p "$T/nodata"
expect_fail not-installed "cifar10 train split not found" $SENSI sweep "$T/b5.json" --db "$T/b.db" --data-dir "$T/nodata"
printf '{"name": "x", "fixed": {"train_size": 70000}}' >"$T/b6.json"
expect_fail too-big "asks for 70000 training" $SENSI sweep "$T/b6.json" --db "$T/b.db"
[ -e "$T/b.db" ] && bad no-db-on-bad-spec "a failed check created the database" || ok no-db-on-bad-spec
sed 's/"seed": 11/"seed": 12/' "$T/spec.json" >"$T/other.json"
expect_fail other-spec "holds sweep 'e2e'" $SENSI sweep "$T/other.json" --db "$T/ref.db"
expect_fail no-db "--db FILE is required" $SENSI sweep "$T/spec.json"
expect_fail bad-shard "1 <= I <= N" $SENSI sweep "$T/spec.json" --db "$T/x.db" --shard 0/3
expect_fail missing-spec "nope.json" $SENSI sweep "$T/nope.json" --db "$T/x.db"
expect_fail bad-scale "no scale 'huge'" $SENSI sweep "$T/spec.json" --db "$T/x.db" --scale huge
# a claims table that is not sensi's: refused, nothing trained or lost
$PY -c 'import sqlite3,sys; d=sqlite3.connect(sys.argv[2]); sqlite3.connect(sys.argv[1]).backup(d); d.execute("drop table run_claims"); d.execute("create table run_claims (x)"); d.execute("delete from runs where run_id = 2"); d.commit()' "$T/ref.db" "$T/badclaims.db"
expect_fail bad-claims-table "badclaims.db" $SENSI sweep "$T/spec.json" --db "$T/badclaims.db"
[ "$($CHK get "$T/badclaims.db" "select count(*) from runs")" = 11 ] && ok bad-claims-kept || bad bad-claims-kept "runs changed"

# --- every shipped study spec is valid at both scales ---------------------------
for f in studies/*.json; do
    case $f in *cifar*) continue ;; esac
    for sc in default paper; do
        $SENSI sweep "$f" --scale $sc --db "$T/dry.db" --dry-run >"$T/out" 2>"$T/err" || bad "study-$(basename "$f" .json)-$sc" "$(cat "$T/err")"
    done
done
ok studies-valid

[ $FAILS -eq 0 ] || exit 1
