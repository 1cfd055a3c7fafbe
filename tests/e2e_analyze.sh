#!/bin/sh
# e2e_analyze.sh SENSI: `sensi analyze` on copies, shards and merges of one
# sweep: the claims count every run once (they equal the single database's,
# whatever the order of the arguments), and the duplication is said.
# Each check prints "ok NAME" or "FAIL NAME: why".
SENSI=${1:-./sensi}
cd "$(dirname "$0")/.." || exit 2
. tests/lib_e2e.sh
e2e_init analyze

cat >"$T/spec.json" <<'JSON'
{"name": "gap-e2e", "seed": 5,
 "fixed": {"data": "fashion-mnist", "train_size": 200, "test_size": 300, "width": 32,
           "steps": 400, "eval_every": 50, "opt": "adam", "lr": 0.003, "early_stop": false},
 "grid": {"depth": [2, 3], "act": ["relu", "hardsigmoid"], "lr": [0.003, 0.001]},
 "paired_seeds": true,
 "measure": {"jacobian": {"test_points": 100}}}
JSON
$SENSI sweep "$T/spec.json" --db "$T/a.db" -q >/dev/null 2>"$T/err" || { bad sweep "$(cat "$T/err")"; exit 1; }
for k in 1 2; do
    $SENSI sweep "$T/spec.json" --db "$T/s$k.db" --shard "$k/2" -q >/dev/null 2>&1 || bad "shard-$k" "sweep failed"
done
cp "$T/a.db" "$T/copy.db"

claims() { # claims of the analysis JSON in $1 without the database paths: n, value, verdict
    python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
print(json.dumps([(c["claim"], c["n"], c["value"], c["verdict"]) for c in j["claims"]]))' "$1"
}
$SENSI analyze "$T/a.db" --bootstrap 100 --json >"$T/one.json" 2>"$T/err" || bad analyze-one "$(cat "$T/err")"
claims "$T/one.json" >"$T/one.claims"
grep -q '"fashion-mnist: the Jacobian norm correlates' "$T/one.claims" || bad claims-one "no correlation claim"
# the activation pairs (a pooled count would double with every copy)
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if any("ReLU vs" in c["claim"] and c["n"] > 0 for c in j["claims"]) else 1)' "$T/one.json" \
    || bad claims-pairs "no activation pairs: $(cat "$T/one.claims")"
for set in "a.db copy.db" "copy.db a.db" "s1.db a.db s2.db" "a.db s2.db s1.db"; do
    args=""
    for f in $set; do args="$args $T/$f"; done
    name="same-sweep-$(echo "$set" | tr ' ' '+')"
    # shellcheck disable=SC2086
    $SENSI analyze $args --bootstrap 100 --json >"$T/two.json" 2>"$T/err" || { bad "$name" "$(cat "$T/err")"; continue; }
    claims "$T/two.json" >"$T/two.claims"
    if ! cmp -s "$T/one.claims" "$T/two.claims"; then
        bad "$name" "claims differ from the single database's: $(diff "$T/one.claims" "$T/two.claims" | head -3)"
    elif ! grep -q "holds the same sweep" "$T/err"; then
        bad "$name" "no note about the duplicate sweep: $(cat "$T/err")"
    else
        ok "$name"
    fi
done
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); d=j["databases"]; sys.exit(0 if "same_sweep_as" in d[1] and "same_sweep_as" not in d[0] else 1)' "$T/two.json" \
    && ok same-sweep-json || bad same-sweep-json "no same_sweep_as in the JSON"
# SQL on a database with Python's sqlite3 (the sqlite3 shell is not a dependency)
sql() { python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()' "$1" "$2"; }

# text from a database reaches the terminal escaped: a spec name holding an
# ANSI sequence (the terminal report is printed when stdout is a terminal:
# script(1) from bsdutils gives it one)
cp "$T/a.db" "$T/esc.db"
sql "$T/esc.db" "update meta set value = 'x' || char(27) || '[31mred' where key = 'spec_name'"
script -qec "$SENSI analyze $T/esc.db --bootstrap 10" /dev/null >"$T/esc.out" 2>&1
if ! grep -q 'x\\x1b\[31mred' "$T/esc.out"; then
    bad analyze-escaped "the spec name is not in the terminal report: $(head -c 300 "$T/esc.out")"
elif [ "$(tr -dc '\033' <"$T/esc.out" | wc -c)" -ne 0 ]; then
    bad analyze-escaped "a raw ESC reached the terminal"
else
    ok analyze-escaped
fi
# the fuzz targets' reproducers (tests/fuzz/crashes/): a runs.config that is
# JSON but not an object crashed analyze (strdup(NULL) in the grouping); a
# mutated database made an_onoff_summary memcpy from NULL (UBSan, under make
# asan); both are analysed now
cp "$T/a.db" "$T/cfg.db"
sql "$T/cfg.db" "update runs set config = '[1]' where run_id = 0; update runs set config = '\"x\"' where run_id = 1"
for db in "$T/cfg.db" tests/fuzz/crashes/store-onoff-memcpy-null.db; do
    cp "$db" "$T/repro.db"
    $SENSI analyze "$T/repro.db" --bootstrap 20 --json >"$T/repro.json" 2>"$T/err"
    rc=$?
    if [ "$rc" -eq 0 ] && python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/repro.json"; then
        ok "analyze-repro-$(basename "$db" .db)"
    else
        bad "analyze-repro-$(basename "$db" .db)" "exit $rc: $(head -c 300 "$T/err")"
    fi
done
[ "$FAILS" -eq 0 ]
