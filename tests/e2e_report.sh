#!/bin/sh
# e2e_report.sh SENSI: end-to-end tests of `sensi analyze` and `sensi report`
# on real sweeps of Fashion-MNIST networks: the analysis JSON, the report
# directory (every figure file non-empty and referenced, report.json), the
# page loaded in headless Chromium (it loads, every image resolves, no
# console message), and the degenerate databases (empty, no fit network, a
# single network, metrics missing for some runs) reported per figure
# instead of failing. Each check prints "ok NAME" or "FAIL NAME: why".
SENSI=${1:-./sensi}
cd "$(dirname "$0")/.." || exit 2
. tests/lib_e2e.sh
e2e_init report
PY=python3
CHROME=$(command -v chromium-headless-shell || command -v chromium || true)

cat >"$T/spec.json" <<'JSON'
{"name": "e2e-report", "seed": 3,
 "fixed": {"data": "fashion-mnist", "train_size": 300, "test_size": 300, "width": 48,
           "steps": 600, "eval_every": 50, "opt": "adam", "lr": 0.002},
 "grid": {"depth": [2, 3], "random_labels": [0, 1], "act": ["relu", "hardsigmoid"]},
 "paired_seeds": true,
 "measure": {"only_fit": true,
             "jacobian": {"test_points": 200, "per_point": true},
             "transitions": {"kinds": ["ellipse-diff", "ellipse-random"], "count": 1,
                             "method": "exact", "profile_bins": 24}}}
JSON
$SENSI sweep "$T/spec.json" --db "$T/a.db" -q >"$T/out" 2>"$T/err" || { bad sweep "$(cat "$T/err")"; exit 1; }
fit=$(json "$T/out" fit)
echo "measured: $fit of 8 report-test networks fit"

# --- analyze --------------------------------------------------------------------
$SENSI analyze "$T/a.db" --bootstrap 200 >"$T/out" 2>"$T/err" || bad analyze "$(cat "$T/err")"
pycheck analyze-json 'len(j["databases"]) == 1 and j["databases"][0]["fit"] == '"$fit"' and len(j["claims"]) >= 10 and all(c["verdict"] in ("held", "not held", "inconclusive", "no data") for c in j["claims"])'
pycheck analyze-corr 'any(c["metric"] == "jac_test_mean" and c["n"] == '"$fit"' for c in j["databases"][0]["correlations"]) or '"$fit"' < 3'
pycheck analyze-points 'j["databases"][0]["points"]["points"] == 200 * '"$fit"
# the correlation equals an independent computation from the database
if [ "$fit" -ge 3 ] && $PY - "$T/a.db" "$T/out" <<'PY'
import json, sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute(
    "select jac_test_mean, gap from runs where status = 'fit' and jac_test_mean > 0").fetchall()
def ranks(v):
    s = sorted(range(len(v)), key=lambda i: v[i]); r = [0.0] * len(v); i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and v[s[j + 1]] == v[s[i]]: j += 1
        for k in range(i, j + 1): r[s[k]] = (i + j) / 2 + 1
        i = j + 1
    return r
def pearson(x, y):
    n = len(x); mx = sum(x) / n; my = sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x); syy = sum((b - my) ** 2 for b in y)
    return sxy / (sxx * syy) ** 0.5
x = [r[0] for r in rows]; y = [r[1] for r in rows]
rho = pearson(ranks(x), ranks(y))
c = [c for c in json.load(open(sys.argv[2]))["databases"][0]["correlations"] if c["metric"] == "jac_test_mean"][0]
assert abs(c["spearman"]["value"] - rho) < 1e-9, (c["spearman"], rho)
PY
then ok analyze-spearman; else bad analyze-spearman "Spearman differs from an independent computation"; fi
$SENSI analyze "$T/a.db" --bootstrap 50 --json >/dev/null && ok analyze-flag || bad analyze-flag "--json"

# --- a slice image to include ------------------------------------------------------
$SENSI train --train-size 300 --width 32 --depth 3 --steps 100 -q -o "$T/m.safetensors" >/dev/null 2>&1
$SENSI slice "$T/m.safetensors" --anchors 0,1,2 --res 64 -o "$T/slice.png" >/dev/null 2>&1 || bad slice "sensi slice failed"

# --- report -----------------------------------------------------------------------
check_report() { # name dir
    name=$1 dir=$2
    if $PY - "$dir" <<'PY'
import json, os, re, sys
d = sys.argv[1]
html = open(os.path.join(d, "index.html")).read()
assert html.startswith("<!doctype html>") and html.rstrip().endswith("</html>")
refs = re.findall(r'(?:src|href)="([^"#:]+)"', html)
assert refs, "no figure referenced"
for r in refs:
    p = os.path.join(d, r)
    assert os.path.isfile(p) and os.path.getsize(p) > 0, "missing or empty: " + r
for f in os.listdir(d):  # every figure file is referenced
    if f.endswith((".svg", ".png", ".dat", ".gp")):
        assert f in refs, "not referenced: " + f
json.load(open(os.path.join(d, "report.json")))
PY
    then ok "$name-files"; else bad "$name-files" "report files"; fi
    if [ -z "$CHROME" ]; then bad "$name-browser" "no headless Chromium (scripts/setup.sh installs chromium-headless-shell)"; return; fi
    timeout 120 "$CHROME" --no-sandbox --disable-gpu --enable-logging=stderr --v=0 --virtual-time-budget=10000 \
        --dump-dom "file://$(cd "$dir" && pwd)/index.html" >"$T/dom.html" 2>"$T/chrome.err"
    if ! grep -q 'data-broken-images="0"' "$T/dom.html"; then
        bad "$name-browser" "images did not all load: $(grep -o 'data-broken-images="[0-9]*"' "$T/dom.html")"
    elif grep -q "CONSOLE" "$T/chrome.err"; then
        bad "$name-browser" "console messages: $(grep CONSOLE "$T/chrome.err" | head -3)"
    else
        ok "$name-browser"
    fi
}
$SENSI report "$T/a.db" -o "$T/rep" --slice "$T/slice.png" --bootstrap 200 >"$T/out" 2>"$T/err" || bad report "$(cat "$T/err")"
grep -q "report: $T/rep/index.html" "$T/out" && ok report-message || bad report-message "$(tail -2 "$T/out")"
check_report report "$T/rep"
drawn=$(grep -c '<figure>' "$T/rep/index.html")
echo "measured: $drawn figures drawn from one 8-network sweep"
[ "$drawn" -ge 6 ] && ok report-figures || bad report-figures "only $drawn figures drawn"
grep -q 'id="fig-factor-labels"' "$T/rep/index.html" && grep -q 'factor-labels.svg' "$T/rep/index.html" \
    && ok report-factor || bad report-factor "the labels factor figure is missing"
# figures show the claim's population from the claim's database: the gap
# figures one database per dataset, fit true-label networks of its protocol
# (fixed budget when it has fit runs of it); trajectory profiles as medians
# inside their quartiles
figcheck() { # name report-dir databases-dir
    if $PY - "$2" "$3" <<'PY'
import os, sqlite3, sys
rep, dbdir = sys.argv[1], sys.argv[2]
def rows(name):
    p = os.path.join(rep, name + ".dat")
    if not os.path.exists(p):
        return None
    return [l.rstrip("\n").split("\t") for l in open(p) if l.strip() and not l.startswith("#")]
def pop(db, data, have):
    c = sqlite3.connect(os.path.join(dbdir, db + ".db"))
    fixed = c.execute("select exists(select 1 from runs where status = 'fit' and early_stop = 0)").fetchone()[0]
    return {r[0] for r in c.execute("select run_id from runs where status = 'fit' and random_labels = 0 and "
                                    "gap is not null and (early_stop = 0) = ? and data = ? and " + have,
                                    (fixed, data))}
for name, have in (("jacobian-gap", "jac_test_mean > 0"), ("baselines-gap", "n_params > 0 and train_loss > 0")):
    r = rows(name)
    for data in {x[0] for x in r or []}:
        dbs = {x[2] for x in r if x[0] == data}
        assert len(dbs) == 1, (name, data, dbs)
        db = dbs.pop()
        got = sorted(int(x[3]) for x in r if x[0] == data)
        assert got == sorted(pop(db, data, have)), (name, data, db, got)
r = rows("onoff-manifold")
if r is not None:
    hdr = open(os.path.join(rep, "onoff-manifold.dat")).readline().split()
    assert hdr[5:8] == ["jac_median", "jac_q25", "jac_q75"], hdr
    for x in r:
        assert float(x[5]) <= float(x[4]) <= float(x[6]), x
        assert float(x[8]) <= float(x[7]) <= float(x[9]), x
PY
    then ok "$1"; else bad "$1" "a gap figure is not the claim's population of one database, or the profiles are not medians in their quartiles"; fi
}
figcheck report-figures-population "$T/rep" "$T"
gpfail=0
for f in "$T"/rep/*.gp; do  # the scripts are self-contained
    (cd "$T/rep" && gnuplot "$(basename "$f")" >/dev/null 2>&1) || { bad "gp-$(basename "$f")" "gnuplot failed"; gpfail=1; }
done
[ $gpfail -eq 0 ] && ok gp-rerun

# --- a hostile database never runs code ---------------------------------------------
# Every text a report reads from a database (dataset name, activation, optimizer,
# preprocessing, config strings, spec metadata, trajectory kinds) set to shell
# payloads in the forms gnuplot would run: backquotes inside a double- or
# single-quoted string, a quote that closes the string and calls system(), a
# line break that starts a '!' shell line, a macro. Neither the report nor a
# rerun of its scripts may create any PWNED file.
cp "$T/a.db" "$T/evil.db"
if $PY - "$T/evil.db" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
P = ["`touch PWNED1`", "x\" . system('touch PWNED2') . \"", "x' . system('touch PWNED3') . '",
     "x\n!touch PWNED4\n", "@x`touch PWNED5`", "$(touch PWNED6)", "x\"\n!touch PWNED7 #"]
ids = [r[0] for r in db.execute("select run_id from runs order by run_id")]
for k, rid in enumerate(ids):
    p = P[k % len(P)]
    cfg = json.loads(db.execute("select config from runs where run_id = ?", (rid,)).fetchone()[0])
    cfg["data"] = cfg["act"] = cfg["opt"] = p
    db.execute("update runs set data = ?, act = ?, opt = ?, preprocess = ?, config = ? where run_id = ?",
               (p, p, p, p, json.dumps(cfg), rid))
db.execute("update meta set value = ? where key like '%name%'", (P[0],))
db.execute("update trajectories set kind = ? where run_id = ? and i = 0 and kind = "
           "(select min(kind) from trajectories where run_id = ?)", (P[1], ids[0], ids[0]))
db.commit()
PY
then
    $SENSI report "$T/evil.db" -o "$T/rep-evil" --bootstrap 50 -q >"$T/out" 2>"$T/err" \
        || bad report-evil "$(cat "$T/err")"
    for f in "$T"/rep-evil/*.gp; do
        (cd "$T/rep-evil" && gnuplot "$(basename "$f")" >/dev/null 2>&1)
    done
    pwned=$(find "$T" . -maxdepth 2 -name 'PWNED*' 2>/dev/null)
    if [ -n "$pwned" ]; then bad report-evil-runs-nothing "a database made the report run commands: $pwned"
    else ok report-evil-runs-nothing; fi
    # and no payload survives into a script outside a '#' comment as a live quote
    if grep -h -v '^#' "$T"/rep-evil/*.gp | grep -q '[`$@]'; then
        bad report-evil-scripts "a script holds a backquote, \$ or @ from the database"
    else ok report-evil-scripts; fi
else
    bad report-evil "could not build the hostile database"
fi

# --- degenerate databases ------------------------------------------------------------
$SENSI sweep "$T/spec.json" --db "$T/empty.db" --shard 9/9 -q >/dev/null 2>&1   # no run in this shard
sed 's/"steps": 600/"steps": 1/; s/"eval_every": 50/"eval_every": 1/' "$T/spec.json" >"$T/nofit.json"
$SENSI sweep "$T/nofit.json" --db "$T/nofit.db" --shard 1/4 -q >/dev/null 2>&1
sed 's/"depth": \[2, 3\]/"depth": [2]/; s/"random_labels": \[0, 1\]/"random_labels": [0]/; s/"act": \["relu", "hardsigmoid"\]/"act": ["relu"]/' "$T/spec.json" >"$T/one.json"
$SENSI sweep "$T/one.json" --db "$T/one.db" -q >/dev/null 2>&1
for db in empty nofit one; do
    $SENSI report "$T/$db.db" -o "$T/rep-$db" --bootstrap 50 >"$T/out" 2>"$T/err" || { bad "report-$db" "exit $?: $(cat "$T/err")"; continue; }
    grep -q 'class="missing"' "$T/rep-$db/index.html" && ok "report-$db-says-missing" || bad "report-$db-says-missing" "no figure reported missing"
    check_report "report-$db" "$T/rep-$db"
done
# several databases at once, one of them with metrics missing for its not-fit runs
$SENSI report "$T/a.db" "$T/nofit.db" "$T/one.db" -o "$T/rep-many" --bootstrap 50 -q >"$T/out" 2>"$T/err" \
    && ok report-many || bad report-many "$(cat "$T/err")"
figcheck report-many-figures-population "$T/rep-many" "$T"

# --- bad input -------------------------------------------------------------------------
expect_fail report-no-out "-o DIR is required" $SENSI report "$T/a.db"
expect_fail report-missing-db "no such file" $SENSI report "$T/nope.db" -o "$T/x"
printf 'not a database' >"$T/junk.db"
expect_fail report-junk "junk.db" $SENSI report "$T/junk.db" -o "$T/x"
expect_fail analyze-none "expected one or more databases" $SENSI analyze
expect_fail report-slice "cannot read" $SENSI report "$T/a.db" -o "$T/x" --slice "$T/nope.png"
# a rejected --slice leaves no output folder behind
[ ! -e "$T/x" ] && ok report-slice-no-folder || bad report-slice-no-folder "$T/x was created"


# --all-networks: the label-noise networks appear in the gap figure, by default not
$SENSI report "$T/a.db" -o "$T/rep-all" --all-networks --bootstrap 50 -q >/dev/null 2>"$T/err" || bad report-all-networks "$(cat "$T/err")"
if grep -q "label noise" "$T/rep-all/jacobian-gap.dat" 2>/dev/null && ! grep -q "label noise" "$T/rep/jacobian-gap.dat" 2>/dev/null; then
    ok report-all-networks
else
    bad report-all-networks "label-noise series: $(grep -c 'label noise' "$T/rep-all/jacobian-gap.dat" 2>&1) with the option, $(grep -c "label noise" "$T/rep/jacobian-gap.dat" 2>&1) without"
fi


# outputs are written atomically and never through links: links planted at
# every output name are replaced, their targets untouched
mkdir -p "$T/links"
for f in jacobian-gap.svg jacobian-gap.png jacobian-gap.dat jacobian-gap.gp index.html report.json; do
    echo keep >"$T/victim-$f"
    ln -s "$T/victim-$f" "$T/links/$f"
done
$SENSI report "$T/a.db" -o "$T/links" --bootstrap 50 -q >/dev/null 2>"$T/err" || bad report-links "$(cat "$T/err")"
why=""
for f in jacobian-gap.svg jacobian-gap.png jacobian-gap.dat jacobian-gap.gp index.html report.json; do
    [ "$(cat "$T/victim-$f")" = keep ] || why="$why $f followed;"
    [ -f "$T/links/$f" ] && [ ! -L "$T/links/$f" ] && [ -s "$T/links/$f" ] || why="$why $f not a regular file;"
done
[ -z "$why" ] && ok report-no-follow || bad report-no-follow "$why"
# gnuplot failing after it opened its output leaves no empty drawing, no
# temporary file: a gnuplot that errs right after each `set output`
mkdir -p "$T/fakebin"
cat >"$T/fakebin/gnuplot" <<'SH'
#!/bin/sh
n=$#; i=0; args=""
for a; do
    i=$((i + 1))
    if [ $i -lt $n ]; then args="$args '$(printf %s "$a" | sed "s/'/'\\\\''/g")'"; else s=$a; fi
done
sed 's/^\(set output .*\)$/\1\nplot undefined_function_xyz(x)/' "$s" >"$s.broken"
eval "exec /usr/bin/gnuplot $args \"\$s.broken\""
SH
chmod +x "$T/fakebin/gnuplot"
cp -r "$T/rep" "$T/rep-fail"
PATH="$T/fakebin:$PATH" $SENSI report "$T/a.db" -o "$T/rep-fail" --bootstrap 50 -q >/dev/null 2>"$T/err"
rc=$?
empty=$(find "$T/rep-fail" -name '*.svg' -size 0 -o -name '*.png' -size 0 | head -3)
tmps=$(find "$T/rep-fail" -name '*.tmp.*' | head -3)
if [ $rc -eq 2 ] && grep -q "gnuplot failed" "$T/err" && [ -z "$empty" ] && [ -z "$tmps" ]; then
    ok report-failed-gnuplot-clean
else
    bad report-failed-gnuplot-clean "exit $rc, empty: $empty, temporaries: $tmps, $(cat "$T/err")"
fi

# --- make demo over a database of an older schema: kept aside, swept afresh ---
mkdir -p "$T/demospecs" "$T/demo"
cat >"$T/demospecs/tiny.json" <<'JSON'
{"name": "tiny", "description": "e2e: two tiny networks", "seed": 5,
 "fixed": {"data": "fashion-mnist", "train_size": 200, "test_size": 200, "width": 16,
           "steps": 100, "eval_every": 50, "opt": "adam", "lr": 0.002},
 "grid": {"depth": [2, 3]}}
JSON
$SENSI sweep "$T/demospecs/tiny.json" --db "$T/demo/tiny.db" -q >/dev/null 2>"$T/err" &&
    $PY tests/sweep_check.py v3 "$T/demo/tiny.db" >/dev/null 2>>"$T/err" ||
    bad demo-old-schema-setup "$(cat "$T/err")"
cp "$T/demo/tiny.db" "$T/tiny-v3.db"
SENSI=$SENSI SENSI_DEMO_SPECS="$T/demospecs" SENSI_DEMO_STUDIES=tiny SENSI_DEMO_OUT="$T/demo" \
    sh scripts/demo.sh >"$T/out" 2>"$T/err"
rc=$?
ver=$($PY -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select value from meta where key = '"'schema_version'"'").fetchone()[0])' "$T/demo/tiny.db" 2>/dev/null)
if [ $rc -eq 0 ] && cmp -s "$T/demo/tiny.old-schema.db" "$T/tiny-v3.db" && [ "$ver" = 4 ] &&
    grep -q "older sensi" "$T/out" && [ -s "$T/demo/report/index.html" ]; then
    ok demo-old-schema-kept
else
    bad demo-old-schema-kept "exit $rc, schema of the new db '$ver', $(tail -3 "$T/err")"
fi

[ $FAILS -eq 0 ] || exit 1
