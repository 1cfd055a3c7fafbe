#!/bin/sh
# e2e_transitions.sh SENSI: end-to-end tests of `sensi transitions` on
# Fashion-MNIST: sampled and exact counts for every trajectory kind, exact >=
# sampled, CSV and profile outputs, trajectory lengths (an ellipse's against
# its perimeter computed from the training images), and the error exits.
# Each check prints "ok NAME" or "FAIL NAME: why"; exit 1 on any failure.
SENSI=${1:-./sensi}
cd "$(dirname "$0")/.." || exit 2
. tests/lib_e2e.sh
e2e_init tr

$SENSI train --train-size 1000 --width 64 --steps 300 -q -o "$T/m.safetensors" >/dev/null 2>"$T/err" \
    || { bad train "$(cat "$T/err")"; exit 1; }
$SENSI transitions --help >"$T/h" && grep -q -- '--samples K.*\[65536\]' "$T/h" && ok help || bad help "defaults not listed"

for kind in ellipse-diff ellipse-same ellipse-random translate; do
    $SENSI transitions "$T/m.safetensors" --trajectory $kind --count 3 --samples 20000 --csv "$T/s.csv" >"$T/out" 2>"$T/err" \
        || bad "sampled-$kind" "exit $?: $(cat "$T/err")"
    cp "$T/out" "$T/s.json"
    pycheck "sampled-$kind" 'j["method"] == "sampled" and j["trajectories"] == 3 and j["mean_transitions"] > 0 and "'$kind'" in j["per_kind"]'
    $SENSI transitions "$T/m.safetensors" --trajectory $kind --count 3 --exact --curvature --csv "$T/x.csv" >"$T/out" 2>"$T/err" \
        || bad "exact-$kind" "exit $?: $(cat "$T/err")"
    pycheck "exact-$kind" 'j["method"] == "exact" and j["mean_transitions"] > 0 and j["mean_curvature"] > 0'
    # per trajectory: same anchors, exact >= sampled, and within 5% at 20000 samples
    if python3 - "$T/s.csv" "$T/x.csv" <<'PY'
import csv, sys
s = list(csv.DictReader(open(sys.argv[1]))); x = list(csv.DictReader(open(sys.argv[2])))
assert len(s) == len(x) == 3
for a, b in zip(s, x):
    assert a["anchors"] == b["anchors"], (a, b)
    ts, tx = int(a["transitions"]), int(b["transitions"])
    assert ts <= tx and ts >= 0.95 * tx, (ts, tx)
PY
    then ok "exact-ge-sampled-$kind"; else bad "exact-ge-sampled-$kind" "$(paste -d' ' "$T/s.csv" "$T/x.csv")"; fi
    # lengths: the JSON's per-kind mean is the CSV's; an ellipse through training
    # images has the perimeter computed here from the images (unit preprocessing,
    # periodic trapezoid rule on |z'(t)|, 4096 points)
    if python3 - "$T/x.csv" "$T/out" "$kind" <<'PY'
import csv, gzip, json, math, struct, sys
x = list(csv.DictReader(open(sys.argv[1]))); j = json.load(open(sys.argv[2]))["per_kind"][sys.argv[3]]
L = [float(r["length"]) for r in x]
assert all(v > 0 for v in L), L
assert abs(j["mean_length"] - sum(L) / 3) <= 1e-6 * j["mean_length"], (j, L)
d = sum(int(r["transitions"]) / v for r, v in zip(x, L)) / 3
assert abs(j["mean_transitions_per_length"] - d) <= 1e-6 * d, (j, d)
if sys.argv[3].startswith("ellipse-") and sys.argv[3] != "ellipse-random":
    f = gzip.open("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")
    _, n, h, w = struct.unpack(">4I", f.read(16)); data = f.read()
    def img(i): return [v / 255.0 for v in data[i * h * w:(i + 1) * h * w]]
    for r, v in zip(x, L):
        p, q, s = (img(int(k)) for k in r["anchors"][len("train:"):].split(";"))
        a = [(2 * pi - qi - si) / 3 for pi, qi, si in zip(p, q, s)]
        b = [(qi - si) / math.sqrt(3) for qi, si in zip(q, s)]
        aa = sum(t * t for t in a); bb = sum(t * t for t in b); ab = sum(t * u for t, u in zip(a, b))
        N = 4096
        per = sum(math.sqrt(max(0.0, aa * math.sin(t) ** 2 + bb * math.cos(t) ** 2
                                - 2 * ab * math.sin(t) * math.cos(t)))
                  for t in (2 * math.pi * k / N for k in range(N))) * 2 * math.pi / N
        assert abs(per - v) <= 1e-6 * per, (r["anchors"], per, v)
PY
    then ok "length-$kind"; else bad "length-$kind" "$(cat "$T/x.csv")"; fi
done
echo "measured: width 64 depth 3, translate: sampled(20000) $(json "$T/s.json" mean_transitions), exact $(json "$T/out" mean_transitions)"

# translation loops: radius from the model's augmentation (4 without one), or --translate-shift
$SENSI train --train-size 300 --width 32 --steps 100 --augment-shift 2 -q -o "$T/aug.safetensors" >/dev/null 2>"$T/err" \
    || bad train-aug "$(cat "$T/err")"
for case in "aug.safetensors::2" "m.safetensors::4" "m.safetensors:--translate-shift 3:3"; do
    model=${case%%:*} rest=${case#*:} opt=${rest%%:*} want=${rest#*:}
    # shellcheck disable=SC2086
    $SENSI transitions "$T/$model" --trajectory translate --count 1 --samples 2000 $opt --csv "$T/t.csv" >/dev/null 2>"$T/err" \
        || bad "translate-shift-$want" "$(cat "$T/err")"
    if python3 -c 'import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); assert r[0]["anchors"].endswith(" shift " + sys.argv[2]), r' "$T/t.csv" "$want"
    then ok "translate-shift-$want"; else bad "translate-shift-$want" "$(cat "$T/t.csv")"; fi
done
expect_fail translate-shift-too-big "shift 28 is not in .1, 27. (images are 28x28)" $SENSI transitions "$T/m.safetensors" --trajectory translate --translate-shift 28

# user anchors, polygon, profile
$SENSI transitions "$T/m.safetensors" --trajectory ellipse --anchors 0,1,2 --exact --profile "$T/p.csv" >"$T/out" 2>"$T/err" \
    || bad anchors "exit $?: $(cat "$T/err")"
pycheck anchors-ellipse 'j["trajectories"] == 1 and j["mean_transitions"] > 0'
if python3 - "$T/p.csv" "$T/out" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1]))); j = json.load(open(sys.argv[2]))
assert sum(int(r["transitions"]) for r in rows) == j["mean_transitions"]
assert all(r["jac_softmax"] != "" and float(r["jac_softmax"]) >= 0 for r in rows)
PY
then ok profile-exact; else bad profile-exact "profile does not add up"; fi
$SENSI transitions "$T/m.safetensors" --trajectory polygon --anchors 5,6,7,8 --samples 1000 --profile "$T/p.csv" >"$T/out" 2>"$T/err" \
    || bad polygon "exit $?: $(cat "$T/err")"
pycheck polygon 'j["mean_transitions"] > 0'
[ "$(wc -l <"$T/p.csv")" -eq 1002 ] && ok profile-sampled-rows || bad profile-sampled-rows "$(wc -l <"$T/p.csv") lines"
# sampled profile: every row has a finite softmax-Jacobian norm, the rows add up
if python3 - "$T/p.csv" "$T/out" <<'PY'
import csv, json, math, sys
rows = list(csv.DictReader(open(sys.argv[1]))); j = json.load(open(sys.argv[2]))
assert sum(int(r["transitions"]) for r in rows) == j["mean_transitions"]
assert all(r["jac_softmax"] != "" and math.isfinite(float(r["jac_softmax"])) and float(r["jac_softmax"]) > 0 for r in rows)
assert rows[-1]["jac_softmax"] == rows[0]["jac_softmax"]  # u = 1 is the start point
PY
then ok profile-sampled-jac; else bad profile-sampled-jac "empty/non-finite Jacobian or rows do not add up"; fi
# more samples than profile points: at most 4096 + 1 rows, still adding up
$SENSI transitions "$T/m.safetensors" --trajectory ellipse --anchors 0,1,2 --samples 20000 --profile "$T/p.csv" >"$T/out" 2>"$T/err" \
    || bad profile-stride "exit $?: $(cat "$T/err")"
if python3 - "$T/p.csv" "$T/out" <<'PY'
import csv, json, math, sys
rows = list(csv.DictReader(open(sys.argv[1]))); j = json.load(open(sys.argv[2]))
assert 2 <= len(rows) <= 4097, len(rows)
assert sum(int(r["transitions"]) for r in rows) == j["mean_transitions"]
assert all(r["jac_softmax"] != "" and math.isfinite(float(r["jac_softmax"])) for r in rows)
PY
then ok profile-sampled-stride; else bad profile-sampled-stride "$(head -3 "$T/p.csv")"; fi
$SENSI transitions "$T/m.safetensors" --trajectory ellipse --anchors 0,1,2 --samples 20000 --profile "$T/p.csv" --profile-points 50 >"$T/out" 2>"$T/err" \
    || bad profile-points "exit $?: $(cat "$T/err")"
[ "$(wc -l <"$T/p.csv")" -eq 52 ] && ok profile-points || bad profile-points "$(wc -l <"$T/p.csv") lines, expected header + 50 + closing row"
$SENSI transitions "$T/m.safetensors" --trajectory ellipse-diff,translate --count 2 --samples 1000 >"$T/out" 2>"$T/err"
pycheck per-kind 'set(j["per_kind"]) == {"ellipse-diff", "translate"} and j["trajectories"] == 4'
# determinism
$SENSI transitions "$T/m.safetensors" --count 2 --samples 1000 --seed 5 --csv "$T/a.csv" >/dev/null 2>&1
$SENSI transitions "$T/m.safetensors" --count 2 --samples 1000 --seed 5 --csv "$T/b.csv" >/dev/null 2>&1
[ "$(cut -d, -f1-5 "$T/a.csv")" = "$(cut -d, -f1-5 "$T/b.csv")" ] && ok deterministic || bad deterministic "runs differ"

# --profile and --csv are written atomically: an existing file stays whole
# until the new one replaces it, a failed run leaves it as it was and no
# temporary behind
printf 'old profile\n' >"$T/keep.csv"
expect_fail fail-keeps-old "position 5000 is out of range" $SENSI transitions "$T/m.safetensors" --trajectory ellipse --anchors 0,1,5000 --profile "$T/keep.csv"
[ "$(cat "$T/keep.csv")" = "old profile" ] && ok failed-run-keeps-profile || bad failed-run-keeps-profile "$(head -c 100 "$T/keep.csv")"
# an interrupted run (SIGINT or SIGTERM) writes nothing and removes its temporaries
for sig in INT TERM; do
    printf 'old csv\n' >"$T/keep2.csv"
    $SENSI transitions "$T/m.safetensors" --count 100000 --samples 20000 --csv "$T/keep2.csv" --profile "$T/keep3.csv" >"$T/out" 2>"$T/err" &
    pid=$!
    sleep 2
    # while it runs, the old file is whole (not truncated at the start)
    [ "$(cat "$T/keep2.csv")" = "old csv" ] && ok "running-keeps-csv-$sig" || bad "running-keeps-csv-$sig" "$(head -c 100 "$T/keep2.csv")"
    signal_wait $pid $sig
    if [ $rc -eq 130 ] && [ "$(cat "$T/keep2.csv")" = "old csv" ] && [ ! -e "$T/keep3.csv" ] \
        && ! ls "$T" | grep -q '\.tmp\.'; then
        ok "interrupt-leaves-old-$sig"
    else
        bad "interrupt-leaves-old-$sig" "exit $rc: $(ls "$T" | grep keep) $(cat "$T/err")"
    fi
done
# a completed run replaces the file whole
$SENSI transitions "$T/m.safetensors" --count 2 --samples 1000 --csv "$T/keep2.csv" >/dev/null 2>"$T/err"
[ "$(wc -l <"$T/keep2.csv")" -eq 3 ] && ! ls "$T" | grep -q '\.tmp\.' && ok csv-replaced || bad csv-replaced "$(cat "$T/keep2.csv")"
# outputs are checked before the work
expect_fail profile-is-dir "is a directory" $SENSI transitions "$T/m.safetensors" --count 1 --samples 100 --profile "$T"
expect_fail csv-empty "output path is empty" $SENSI transitions "$T/m.safetensors" --count 1 --samples 100 --csv ""
expect_fail csv-checked-first "cannot write the CSV" $SENSI transitions "$T/m.safetensors" --count 1 --samples 100 --csv "$T/nodir/t.csv" --data-dir "$T/nowhere"
expect_fail profile-csv-same "same file" $SENSI transitions "$T/m.safetensors" --count 1 --samples 100 --csv "$T/same.csv" --profile "$T/same.csv"
# --curvature is measured by the exact walk only: alone it is an error, not ignored
expect_fail curvature-needs-exact "--curvature needs --exact" $SENSI transitions "$T/m.safetensors" --count 1 --samples 100 --curvature
expect_fail anchor-hex "not an integer" $SENSI transitions "$T/m.safetensors" --trajectory ellipse --anchors 0,1,0x2
expect_fail anchor-empty-item "comma-separated" $SENSI transitions "$T/m.safetensors" --trajectory ellipse --anchors 0,,1,2

# errors
expect_fail anchor-range "out of range" $SENSI transitions "$T/m.safetensors" --trajectory ellipse --anchors 0,1,5000
expect_fail anchor-count "3 training positions" $SENSI transitions "$T/m.safetensors" --trajectory ellipse --anchors 0,1
expect_fail samples-small "out of range" $SENSI transitions "$T/m.safetensors" --samples 1
expect_fail bad-kind "ellipse-diff" $SENSI transitions "$T/m.safetensors" --trajectory circle
$SENSI train --train-size 300 --width 16 --steps 50 --act tanh -q -o "$T/tanh.safetensors" >/dev/null 2>&1
expect_fail tanh-needs-code "tanh-code sign" $SENSI transitions "$T/tanh.safetensors" --samples 100
$SENSI transitions "$T/tanh.safetensors" --samples 1000 --tanh-code sign --count 2 >"$T/out" 2>"$T/err"
pycheck tanh-sign 'j["mean_transitions"] > 0'
mkdir -p "$T/cifar"
python3 -c 'import sys,os
for f in ["data_batch_%d.bin" % i for i in range(1,6)] + ["test_batch.bin"]:
    open(os.path.join(sys.argv[1], f), "wb").write(bytes((i % 10 if j == 0 else (i * 7 + j) % 256) for i in range(200) for j in range(3073)))' "$T/cifar"
expect_fail model-data-mismatch "inputs" $SENSI transitions "$T/m.safetensors" --data cifar10 --data-dir "$T/cifar"

echo "e2e_transitions: $FAILS failed"
[ "$FAILS" -eq 0 ]
