#!/bin/sh
# demo.sh: the `make demo` job for now: train one network on Fashion-MNIST
# (10000 training images, depth 3, width 500, ReLU, momentum) with a progress
# bar, save it, evaluate it, and print its accuracies.
set -e
cd "$(dirname "$0")/.."
mkdir -p demo-out
echo "demo: training a depth-3, width-500 ReLU network on 10000 Fashion-MNIST images"
./sensi train --data fashion-mnist --train-size 10000 --depth 3 --width 500 --act relu \
    --opt momentum --lr 0.005 --batch 128 --steps 20000 --eval-every 500 --seed 1 \
    -o demo-out/net.safetensors >demo-out/train.json
echo "demo: evaluating the saved model"
./sensi eval demo-out/net.safetensors >demo-out/eval.json
python3 - <<'PY'
import json
t = json.load(open("demo-out/train.json"))
e = json.load(open("demo-out/eval.json"))
print(f"status {t['status']} after {t['steps']} steps ({t['wall_s']:.1f} s, {t['steps_per_s']:.0f} steps/s)")
print(f"train accuracy {e['train_acc']:.4f}  test accuracy {e['test_acc']:.4f}  generalization gap {e['gap']:.4f}")
print("model: demo-out/net.safetensors   metrics: demo-out/train.json")
PY
