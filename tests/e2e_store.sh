#!/bin/sh
# e2e_store.sh SENSI: end-to-end tests of the results database through the
# binary: a 4-run Fashion-MNIST sweep (with Jacobians, per-point rows and
# transition profiles) run whole and as two shards; `sensi merge` of the
# shards equals the whole database (runs, points, trajectories; timings and
# timestamps aside); `sensi runs` as JSON lines (every column), CSV (parsed
# back, every column, quoted config) and a terminal table (when `script`
# exists); refusals with exit 2 and one line: another spec (nothing added),
# a missing or non-sensi file (no database created), an unknown status; a
# read-only database (as user nobody via setpriv when run as root) refused
# before training, the file unchanged; a version-3 database (no trajectory
# length) read by runs and analyze but refused by sweep and merge, unchanged. Each check prints "ok NAME" or
# "FAIL NAME: why"; exit 1 on any failure.
SENSI=${1:-./sensi}
cd "$(dirname "$0")/.." || exit 2
. tests/lib_e2e.sh
e2e_init store

cat >"$T/spec.json" <<'EOF'
{"name": "e2e-store", "seed": 3,
 "fixed": {"data": "fashion-mnist", "train_size": 200, "test_size": 100, "steps": 60,
           "eval_every": 20, "batch": 32, "width": 16, "depth": 2},
 "grid": {"act": ["relu", "tanh"], "lr": [0.01, 0.05]},
 "measure": {"only_fit": false,
             "jacobian": {"test_points": 20, "train_points": 10, "per_point": true},
             "transitions": {"kinds": ["ellipse-diff", "translate"], "count": 2,
                             "method": "exact", "profile_bins": 4}}}
EOF
sed 's/"e2e-store", "seed": 3/"e2e-other", "seed": 4/' "$T/spec.json" >"$T/other.json"

# --- help ---
for c in runs merge; do
    $SENSI $c --help >"$T/h" 2>&1 || bad "$c-help" "exit $?"
    grep -q "usage: sensi $c" "$T/h" && ok "$c-help" || bad "$c-help" "$(cat "$T/h")"
done

# --- the sweeps: whole, two shards, another spec ---
$SENSI sweep "$T/spec.json" --db "$T/full.db" -j 2 -q >/dev/null 2>"$T/err" \
    || bad sweep-full "exit $?: $(cat "$T/err")"
$SENSI sweep "$T/spec.json" --db "$T/p1.db" --shard 1/2 -j 1 -q >/dev/null 2>"$T/err" \
    || bad sweep-shard1 "exit $?: $(cat "$T/err")"
$SENSI sweep "$T/spec.json" --db "$T/p2.db" --shard 2/2 -j 1 -q >/dev/null 2>"$T/err" \
    || bad sweep-shard2 "exit $?: $(cat "$T/err")"
$SENSI sweep "$T/other.json" --db "$T/other.db" --shard 1/4 -j 1 -q >/dev/null 2>"$T/err" \
    || bad sweep-other "exit $?: $(cat "$T/err")"

# --- merge ---
$SENSI merge "$T/m.db" "$T/p1.db" >"$T/out" 2>"$T/err" || bad merge "exit $?: $(cat "$T/err")"
grep -q "p1.db: 2 runs added" "$T/out" && grep -q "m.db: 2 of 4 runs (2 missing: rerun" "$T/out" \
    && ok merge-partial || bad merge-partial "$(cat "$T/out")"
expect_fail merge-other-spec "only shards of one spec" $SENSI merge "$T/m.db" "$T/other.db"
grep -q "e2e-other" "$T/err" && grep -q "e2e-store" "$T/err" && ok merge-other-names \
    || bad merge-other-names "$(cat "$T/err")"
expect_fail merge-mixed-inputs "nothing was written" $SENSI merge "$T/m.db" "$T/p2.db" "$T/other.db"
n=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from runs').fetchone()[0])" "$T/m.db")
[ "$n" = 2 ] && ok merge-refused-nothing-added || bad merge-refused-nothing-added "$n runs in m.db, expected 2"
$SENSI merge "$T/m.db" "$T/p2.db" "$T/p1.db" >"$T/out" 2>"$T/err" || bad merge "exit $?: $(cat "$T/err")"
grep -q "p2.db: 2 runs added" "$T/out" && grep -q "p1.db: 0 runs added" "$T/out" \
    && grep -q "m.db: 4 of 4 runs, complete" "$T/out" && ok merge-rest || bad merge-rest "$(cat "$T/out")"
expect_fail merge-missing-input "no such file" $SENSI merge "$T/m2.db" "$T/nope.db"
[ ! -e "$T/m2.db" ] && ok merge-missing-no-out || bad merge-missing-no-out "m2.db was created"

# merged shards == the whole sweep, row by row (timings and timestamps aside)
if python3 - "$T/full.db" "$T/m.db" >"$T/why" 2>&1 <<'EOF'
import sqlite3, sys
skip = {"train_s", "measure_s", "wall_s", "finished_at", "seconds"}
def rows(path, table, order):
    db = sqlite3.connect(path)
    cur = db.execute(f"select * from {table} order by {order}")
    names = [d[0] for d in cur.description]
    out = [tuple(v for k, v in zip(names, r) if k not in skip) for r in cur]
    return names, out
for table, order in (("runs", "run_id"), ("points", "run_id, split, idx"),
                     ("trajectories", "run_id, kind, i")):
    na, a = rows(sys.argv[1], table, order)
    nb, b = rows(sys.argv[2], table, order)
    if na != nb or a != b:
        print(f"{table} differs: {len(a)} vs {len(b)} rows")
        sys.exit(1)
    if not a:
        print(f"{table} is empty")
        sys.exit(1)
db = sqlite3.connect(sys.argv[2])
n = db.execute("select count(*) from runs where jac_test_n = 20 and jac_train_n = 10 and "
               "trans_ellipse_diff is not null").fetchone()[0]
if n < 1:
    print("no run with the measurements")
    sys.exit(1)
if db.execute("select count(*) from trajectories where profile_jac like '[%,%,%,%]'").fetchone()[0] < 1:
    print("no profile")
    sys.exit(1)
EOF
then ok merge-equals-whole; else bad merge-equals-whole "$(cat "$T/why")"; fi

# completeness by run ids: a shard missing id 3 and holding id 100 (outside
# the spec's 0..3) is 3 of 4 runs, and id 100 is not copied
cp "$T/m.db" "$T/odd.db"
python3 -c 'import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); d.execute("update runs set run_id = 100 where run_id = 3"); d.commit()' "$T/odd.db"
$SENSI merge "$T/odd-m.db" "$T/odd.db" >"$T/out" 2>"$T/err" || bad merge-ids "exit $?: $(cat "$T/err")"
if grep -q "odd-m.db: 3 of 4 runs (1 missing" "$T/out" && grep -q "1 with run ids outside the spec's 0..3 not copied" "$T/out" \
    && [ "$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from runs where run_id = 100").fetchone()[0])' "$T/odd-m.db")" = 0 ]; then
    ok merge-ids
else
    bad merge-ids "$(cat "$T/out")"
fi
# a failing input leaves no output file (and no temporary one)
printf 'not a database at all, not even close.......................................' >"$T/junk.db"
expect_fail merge-junk-input "junk.db" $SENSI merge "$T/new.db" "$T/p1.db" "$T/junk.db"
ls "$T" | grep -q '^new.db' && bad merge-junk-no-out "$(ls "$T" | grep new.db)" || ok merge-junk-no-out
# a damaged database (fuzz_store's reproducer: its index disagrees with its
# table, and merge reported 5 runs added while 4 were stored) is refused whole.
# The reproducer is a version-3 file, which merge refuses before looking
# further: given the length column and version 4 here, it reaches the check
cp tests/fuzz/crashes/store-merge-damaged.db "$T/damaged.db"
python3 -c 'import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); d.execute("alter table trajectories add column length real"); d.execute("update meta set value = 4 where key = ?", ("schema_version",)); d.commit()' "$T/damaged.db"
expect_fail merge-damaged "is damaged" $SENSI merge "$T/dmg-m.db" "$T/damaged.db"
ls "$T" | grep -q '^dmg-m.db' && bad merge-damaged-no-out "$(ls "$T" | grep dmg-m)" || ok merge-damaged-no-out
# schema version 3 (trajectories without length): read by runs and analyze,
# never written: a sweep into it, a merge from it and a merge into it are
# refused with one line each, and the file stays byte for byte
cp "$T/full.db" "$T/v3.db"
python3 tests/sweep_check.py v3 "$T/v3.db" || bad v3-make "sweep_check.py v3 failed"
sum0=$(cksum <"$T/v3.db")
expect_fail sweep-v3 "schema version 3 (its trajectories have no length)" \
    $SENSI sweep "$T/spec.json" --db "$T/v3.db" -q
grep -q "new --db" "$T/err" && ok sweep-v3-says-what-to-do || bad sweep-v3-says-what-to-do "$(cat "$T/err")"
expect_fail merge-v3-input "schema version 3" $SENSI merge "$T/v3m.db" "$T/p1.db" "$T/v3.db"
ls "$T" | grep -q '^v3m.db' && bad merge-v3-no-out "$(ls "$T" | grep v3m)" || ok merge-v3-no-out
expect_fail merge-v3-output "schema version 3" $SENSI merge "$T/v3.db" "$T/p1.db"
[ "$(cksum <"$T/v3.db")" = "$sum0" ] && ok v3-unchanged || bad v3-unchanged "v3.db was modified"
$SENSI runs "$T/v3.db" --json >"$T/out" 2>"$T/err" && [ "$(wc -l <"$T/out")" = 4 ] \
    && ok runs-v3 || bad runs-v3 "$(cat "$T/err" "$T/out")"
$SENSI analyze "$T/v3.db" --json --bootstrap 20 --threads 1 >"$T/out" 2>"$T/err" \
    || bad analyze-v3 "exit $?: $(cat "$T/err")"
pycheck analyze-v3 'j["databases"][0]["manifold"]["has_length"] is False and j["databases"][0]["runs"] == 4'
$SENSI analyze "$T/full.db" --json --bootstrap 20 --threads 1 >"$T/out" 2>"$T/err" \
    || bad analyze-v4 "exit $?: $(cat "$T/err")"
pycheck analyze-v4 'j["databases"][0]["manifold"]["has_length"] is True'
n=$(python3 tests/sweep_check.py get "$T/full.db" "select count(*) || '/' || sum(length > 1 and length < 1000) from trajectories")
[ "$n" = 8/8 ] && ok sweep-lengths || bad sweep-lengths "trajectories / with a length in (1, 1000): $n"
[ "$(cksum <"$T/v3.db")" = "$sum0" ] && ok v3-unchanged-after-reading || bad v3-unchanged-after-reading "v3.db was modified"

# inputs another user owns in a folder we may not write: read, never written
mkdir -p "$T/ro" && cp "$T/p1.db" "$T/p2.db" "$T/ro/" && chmod 444 "$T/ro/"*.db && chmod 555 "$T/ro"
chmod 755 "$T"
as_user() { if [ "$(id -u)" = 0 ]; then su nobody -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
mkdir -p "$T/w" && chmod 777 "$T/w"
if as_user "$SENSI merge $T/w/ro-m.db $T/ro/p1.db $T/ro/p2.db" >"$T/out" 2>"$T/err" \
    && grep -q "ro-m.db: 4 of 4 runs, complete" "$T/out" && [ -z "$(ls "$T/ro" | grep -v '^p[12].db$')" ]; then
    ok merge-read-only-inputs
else
    bad merge-read-only-inputs "$(cat "$T/out" "$T/err"; ls "$T/ro")"
fi
chmod 755 "$T/ro"

# --- runs: JSON lines ---
$SENSI runs "$T/m.db" >"$T/out" 2>"$T/err" || bad runs-json "exit $?: $(cat "$T/err")"
if python3 - "$T/out" "$T/m.db" >"$T/why" 2>&1 <<'EOF'
import json, sqlite3, sys
lines = open(sys.argv[1]).read().splitlines()
rows = [json.loads(l) for l in lines]
cols = [r[1] for r in sqlite3.connect(sys.argv[2]).execute("pragma table_info(runs)")]
assert len(rows) == 4, f"{len(rows)} rows"
assert [r["run_id"] for r in rows] == [0, 1, 2, 3], "order"
for r in rows:
    assert list(r) == cols, f"keys {list(r)}"
    assert json.loads(r["config"])["width"] == 16
    assert r["status"] in ("fit", "not_fit", "diverged", "failed")
    assert str(r["seed"]) == json.loads(r["config"])["seed"], (r["seed"], r["config"])
EOF
then ok runs-json; else bad runs-json "$(cat "$T/why")"; fi
$SENSI runs "$T/m.db" --status not_fit --json >"$T/out" 2>"$T/err" || bad runs-status "exit $?"
n_nf=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"select count(*) from runs where status='not_fit'\").fetchone()[0])" "$T/m.db")
[ "$(wc -l <"$T/out")" -eq "$n_nf" ] && ok runs-status || bad runs-status "$(wc -l <"$T/out") lines, expected $n_nf"

# --- runs: CSV ---
$SENSI runs "$T/m.db" --csv "$T/runs.csv" >"$T/out" 2>"$T/err" || bad runs-csv "exit $?: $(cat "$T/err")"
grep -q "^4 runs of 4 in the spec: fit [0-9]*, not_fit [0-9]*, diverged [0-9]*, failed 0$" "$T/out" \
    && ok runs-csv-summary || bad runs-csv-summary "$(cat "$T/out")"
if python3 - "$T/runs.csv" "$T/m.db" >"$T/why" 2>&1 <<'EOF'
import csv, json, sqlite3, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
db = sqlite3.connect(sys.argv[2])
cur = db.execute("select * from runs order by run_id")
cols = [d[0] for d in cur.description]
assert rows[0] == cols, "header"
assert len(rows) == 5, f"{len(rows)} lines"
for want, got in zip(cur, rows[1:]):
    for k, w, g in zip(cols, want, got):
        if w is None:
            assert g == "", (k, g)
        elif k == "seed":
            assert int(g) == w % 2**64, (k, w, g)
        elif isinstance(w, float):
            assert g == "%.10g" % w, (k, w, g)
        else:
            assert g == str(w), (k, w, g)
    assert json.loads(got[cols.index("config")])["depth"] == 2
EOF
then ok runs-csv; else bad runs-csv "$(cat "$T/why")"; fi
ls "$T" | grep -q 'runs.csv.tmp' && bad runs-csv-atomic "a temporary file is left" || ok runs-csv-atomic

# --- runs: the table on a terminal ---
if command -v script >/dev/null 2>&1; then
    script -qec "$SENSI runs $T/m.db" /dev/null >"$T/out" 2>&1
    if grep -q "run_id status" "$T/out" && grep -q "trans_ellipse_diff" "$T/out" \
        && ! grep -q "trans_ellipse_same" "$T/out" \
        && grep -q "4 runs of 4 in the spec" "$T/out" && [ "$(grep -c 'fashion-mnist' "$T/out")" -eq 4 ]; then
        ok runs-table
    else
        bad runs-table "$(cat "$T/out")"
    fi
else
    echo "skip runs-table: no script(1) to give sensi a terminal"
fi

# --- runs: refusals; reading never creates a file ---
expect_fail runs-missing "no such file" $SENSI runs "$T/none.db"
[ ! -e "$T/none.db" ] && ok runs-missing-not-created || bad runs-missing-not-created "none.db was created"
printf 'not a database, just text\n' >"$T/junk.db"
expect_fail runs-junk "not a sensi results database" $SENSI runs "$T/junk.db"
expect_fail runs-bad-status "not a status" $SENSI runs "$T/m.db" --status done
expect_fail sweep-other-spec "holds sweep 'e2e-store'" $SENSI sweep "$T/other.json" --db "$T/m.db" -q

# --- a read-only database: refused before training, unchanged ---
cp "$T/p1.db" "$T/ro.db"
before=$(cksum <"$T/ro.db")
if [ "$(id -u)" -eq 0 ]; then
    if command -v setpriv >/dev/null 2>&1; then
        chmod 755 "$T"
        chmod 644 "$T/ro.db"
        expect_fail sweep-read-only "read-only" setpriv --reuid=65534 --regid=65534 --clear-groups \
            $SENSI sweep "$T/spec.json" --db "$T/ro.db" -j 1 -q
        # a reader that cannot write still reads it
        setpriv --reuid=65534 --regid=65534 --clear-groups $SENSI runs "$T/ro.db" --json >"$T/out" 2>"$T/err" \
            && [ "$(wc -l <"$T/out")" -eq 2 ] && ok runs-read-only || bad runs-read-only "$(cat "$T/err")"
        chmod 700 "$T"
    else
        echo "skip sweep-read-only: running as root without setpriv (root ignores permissions)"
    fi
else
    chmod 444 "$T/ro.db"
    expect_fail sweep-read-only "read-only" $SENSI sweep "$T/spec.json" --db "$T/ro.db" -j 1 -q
    chmod 644 "$T/ro.db"
fi
[ "$(cksum <"$T/ro.db")" = "$before" ] && ok read-only-unchanged || bad read-only-unchanged "the file changed"

[ "$FAILS" -eq 0 ] || exit 1
