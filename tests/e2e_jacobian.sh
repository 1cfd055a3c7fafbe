#!/bin/sh
# e2e_jacobian.sh SENSI: end-to-end tests of `sensi jacobian` on real data:
# trains a small Fashion-MNIST network, then checks the per-point CSV (shape,
# header, sane values, consistency with the summary), the JSON summary
# (fields, values recomputed from the CSV: means, M, bounds, AUC), the
# projected estimate, chunk independence, and the error cases (exit 2 with a
# one-line message). Each check prints "ok NAME" or "FAIL NAME: why"; exit 1
# on any failure.
SENSI=${1:-./sensi}
cd "$(dirname "$0")/.." || exit 2
. tests/lib_e2e.sh
e2e_init jac
# csvcheck NAME CSV JSON PYTHON: python statements over rows (list of dicts of
# floats) and j (the JSON summary); they set `why` to a string on failure
csvcheck() {
    if python3 - "$2" "$3" "$4" >"$T/why" 2>&1 <<'EOF'
import csv, json, math, sys
rows = [{k: float(v) for k, v in r.items()} for r in csv.DictReader(open(sys.argv[1]))]
j = json.load(open(sys.argv[2]))
why = None
exec(sys.argv[3])
if why:
    print(why)
    sys.exit(1)
EOF
    then ok "$1"; else bad "$1" "$(cat "$T/why")"; fi
}

# --- help ---
$SENSI jacobian --help >"$T/h" 2>&1 || bad help "exit $?"
missing=""
for o in --data --data-dir --split --points --csv --projections --seed --threads --json --quiet --help; do
    grep -q -- "$o" "$T/h" || missing="$missing $o"
done
grep -q -- '--points N.*\[1000' "$T/h" && grep -q -- '--split S.*\[test\]' "$T/h" || missing="$missing defaults"
[ -z "$missing" ] && ok help || bad help "help lacks:$missing"

# --- a small trained network ---
$SENSI train --data fashion-mnist --train-size 1000 --width 64 --steps 300 --seed 2 -q \
    -o "$T/m.safetensors" >"$T/train.json" 2>"$T/err" || bad train "exit $?: $(cat "$T/err")"

# --- CSV and JSON summary of 200 test points ---
$SENSI jacobian "$T/m.safetensors" --points 200 --csv "$T/j.csv" --json -q >"$T/out" 2>"$T/err" \
    || bad jacobian-runs "exit $?: $(cat "$T/err")"
cp "$T/out" "$T/j.json"
[ "$(head -1 "$T/j.csv")" = "index,label,pred,correct,loss,jac_softmax,jac_logit,jac_y,bound_lower,bound_upper,maxent" ] \
    && ok csv-header || bad csv-header "$(head -1 "$T/j.csv")"
[ "$(wc -l <"$T/j.csv")" -eq 201 ] && ok csv-rows || bad csv-rows "$(wc -l <"$T/j.csv") lines, expected 201"
pycheck json-fields 'all(k in j for k in ("model","data","split","points","jac_softmax_mean","jac_softmax_median","jac_softmax_stderr","jac_logit_mean","jac_logit_median","jac_logit_stderr","M","within_bounds","auc_misclassified","compute_s","wall_s")) and j["points"] == 200 and j["split"] == "test" and j["data"] == "fashion-mnist"'
pycheck json-sane '0 < j["jac_softmax_mean"] < j["jac_logit_mean"] and 0 <= j["within_bounds"] <= 1 and 0.5 < j["auc_misclassified"] <= 1 and 0 < j["compute_s"] <= j["wall_s"]'
csvcheck csv-sane "$T/j.csv" "$T/j.json" '
for i, r in enumerate(rows):
    v = [r[k] for k in r]
    if not all(math.isfinite(x) for x in v): why = "row %d not finite: %s" % (i, r)
    elif r["index"] != i: why = "row %d has index %g (the first points of the split)" % (i, r["index"])
    elif not (0 <= r["label"] <= 9 and 0 <= r["pred"] <= 9): why = "row %d: bad label/pred" % i
    elif r["correct"] != (r["label"] == r["pred"]): why = "row %d: correct column wrong" % i
    elif r["loss"] < 0: why = "row %d: negative loss" % i
    elif not (0 <= r["jac_y"] <= r["jac_softmax"] * (1 + 1e-6) <= 0.5 * r["jac_logit"] * (1 + 1e-5)):
        why = "row %d: expected 0 <= ||J_y|| <= ||J|| <= ||J_f||/2: %s" % (i, r)
    elif not (0 <= r["bound_lower"] <= r["bound_upper"]): why = "row %d: bounds out of order" % i
    if why: break
acc = sum(r["correct"] for r in rows) / len(rows)
if not why and not 0.6 < acc < 1: why = "accuracy %g of a trained network is not plausible" % acc
'
csvcheck summary-matches-csv "$T/j.csv" "$T/j.json" '
n = len(rows); K = 10
close = lambda a, b: abs(a - b) <= 1e-6 * abs(b) + 1e-12
js = sorted(r["jac_softmax"] for r in rows); jl = [r["jac_logit"] for r in rows]
mean = sum(js) / n; med = (js[n//2 - 1] + js[n//2]) / 2
se = math.sqrt(sum((x - mean) ** 2 for x in js) / (n - 1) / n)
M = sum(x * x for x in jl) / n / K
within = sum(r["bound_lower"] <= r["jac_y"] <= r["bound_upper"] for r in rows) / n
pos = [r["jac_softmax"] for r in rows if not r["correct"]]; neg = [r["jac_softmax"] for r in rows if r["correct"]]
auc = sum((p > q) + 0.5 * (p == q) for p in pos for q in neg) / (len(pos) * len(neg))
for name, got, want in (("jac_softmax_mean", j["jac_softmax_mean"], mean), ("jac_softmax_median", j["jac_softmax_median"], med),
                        ("jac_softmax_stderr", j["jac_softmax_stderr"], se), ("jac_logit_mean", j["jac_logit_mean"], sum(jl) / n),
                        ("M", j["M"], M), ("within_bounds", j["within_bounds"], within), ("auc", j["auc_misclassified"], auc)):
    if not close(got, want): why = "%s: JSON %r, from the CSV %r" % (name, got, want)
for r in rows:
    p = math.exp(-r["loss"]); f = p * (1 - p)
    lo = math.sqrt(K * M / (K - 1)) * f; up = math.sqrt(2 * M) * f
    me = math.sqrt(M) / (K - 1) * (1 - p) * math.sqrt(K * K * p * p + K - 2)
    if not (close(r["bound_lower"], lo) and close(r["bound_upper"], up) and close(r["maxent"], me)):
        why = "bounds of row %d: %r vs %r" % (r["index"], (r["bound_lower"], r["bound_upper"], r["maxent"]), (lo, up, me))
        break
'

# --- defaults, chunk independence, threads, train split, projections ---
$SENSI jacobian "$T/m.safetensors" -q >"$T/out" 2>"$T/err" || bad default-run "exit $?: $(cat "$T/err")"
cp "$T/out" "$T/all.json"
pycheck default-points-json 'j["points"] == 1000 and j["split"] == "test"' # JSON when stdout is not a terminal
echo "measured: jacobian of 1000 Fashion-MNIST test points, depth 3 width 64: mean ||J||_F $(json "$T/all.json" jac_softmax_mean), AUC $(json "$T/all.json" auc_misclassified), within bounds $(json "$T/all.json" within_bounds), $(json "$T/all.json" compute_s) s"
$SENSI jacobian "$T/m.safetensors" --points 1 --threads 1 --csv "$T/one.csv" -q >/dev/null 2>"$T/err" \
    || bad one-point "exit $?: $(cat "$T/err")"
csvcheck one-point-same "$T/one.csv" "$T/j.json" '
first = [{k: float(v) for k, v in r.items()} for r in csv.DictReader(open(sys.argv[1].replace("one.csv", "j.csv")))][0]
for k, v in rows[0].items():  # bounds and maxent use M, the mean over the chosen points
    if k not in ("bound_lower", "bound_upper", "maxent") and abs(v - first[k]) > 1e-5 * abs(first[k]) + 1e-7 * first["jac_logit"]: why = "%s: alone %r, among 200 %r" % (k, v, first[k])
'
$SENSI jacobian "$T/m.safetensors" --split train --points 300 --csv "$T/tr.csv" -q >"$T/out" 2>"$T/err" \
    || bad train-split "exit $?: $(cat "$T/err")"
pycheck train-split-json 'j["split"] == "train" and j["points"] == 300'
csvcheck train-split-csv "$T/tr.csv" "$T/out" '
acc = sum(r["correct"] for r in rows) / len(rows)
if len(rows) != 300 or [r["index"] for r in rows] != list(range(300)): why = "rows/index wrong"
elif not acc > 0.8: why = "training accuracy %g too low for points the network was trained on" % acc
'
$SENSI jacobian "$T/m.safetensors" --points 100 --projections 400 --seed 3 -q >"$T/out" 2>"$T/err" \
    || bad projections "exit $?: $(cat "$T/err")"
pycheck projections-estimate 'j["projections"] == 400 and 0 < j["proj_jac_softmax_sq_stderr"] < 0.1 * j["jac_softmax_sq_mean"] and abs(j["proj_jac_softmax_sq_mean"] - j["jac_softmax_sq_mean"]) <= 4 * j["proj_jac_softmax_sq_stderr"]'
$SENSI jacobian "$T/m.safetensors" --points 100 --csv "$T/j.csv" -q >/dev/null 2>&1
[ "$(wc -l <"$T/j.csv")" -eq 101 ] && ! ls "$T"/j.csv.tmp* >/dev/null 2>&1 && ok csv-overwritten \
    || bad csv-overwritten "CSV not replaced atomically"

# --- errors: exit 2, one line ---
expect_fail missing-model "cannot open" $SENSI jacobian "$T/none.safetensors"
expect_fail no-model "exactly one model" $SENSI jacobian
expect_fail points-zero "out of range" $SENSI jacobian "$T/m.safetensors" --points 0
expect_fail points-bad "not an integer" $SENSI jacobian "$T/m.safetensors" --points ten
expect_fail points-too-many "exceeds" $SENSI jacobian "$T/m.safetensors" --split train --points 1001
expect_fail split-bogus "not a split" $SENSI jacobian "$T/m.safetensors" --split bogus
expect_fail projections-negative "out of range" $SENSI jacobian "$T/m.safetensors" --projections -1
expect_fail unknown-option "unknown" $SENSI jacobian "$T/m.safetensors" --frobnicate
expect_fail csv-unwritable "nodir" $SENSI jacobian "$T/m.safetensors" --points 5 --csv "$T/nodir/x.csv" -q
# the CSV is checked before the work: a directory, an empty path, a missing
# folder fail at once (before the data is even looked for)
expect_fail csv-is-dir "is a directory" $SENSI jacobian "$T/m.safetensors" --points 5 --csv "$T" -q
expect_fail csv-empty "output path is empty" $SENSI jacobian "$T/m.safetensors" --points 5 --csv "" -q
expect_fail csv-checked-first "cannot write the CSV" $SENSI jacobian "$T/m.safetensors" --points 5 --csv "$T/nodir/x.csv" --data-dir "$T/nowhere" -q
# a CIFAR-10 directory in the binary format, 1000 training images (the model's
# metadata asks for a 1000-image training subset) and 20 test images
mkdir -p "$T/cifar"
python3 -c 'import sys,os
rec = lambda n: bytes((i % 10 if j == 0 else (i * 7 + j) % 256) for i in range(n) for j in range(3073))
b = rec(200)
for i in range(1, 6): open(os.path.join(sys.argv[1], "data_batch_%d.bin" % i), "wb").write(b)
open(os.path.join(sys.argv[1], "test_batch.bin"), "wb").write(rec(20))' "$T/cifar"
expect_fail shape-mismatch "inputs" $SENSI jacobian "$T/m.safetensors" --data cifar10 --data-dir "$T/cifar"
printf 'not a model at all' >"$T/junk.safetensors"
expect_fail junk-model "junk.safetensors" $SENSI jacobian "$T/junk.safetensors"

echo "e2e_jacobian: $FAILS failed"
[ "$FAILS" -eq 0 ]
