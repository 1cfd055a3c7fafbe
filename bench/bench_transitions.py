#!/usr/bin/env python3
"""bench_transitions.py: PyTorch baseline for sampled transition counts.

Usage: bench_transitions.py MODEL.safetensors ANCHORS K THREADS [DATA_DIR]

ANCHORS is "i;j;k" (positions in the Fashion-MNIST training file, as sensi's
--csv prints them). Samples the ellipse through the three images at K equally
spaced angles in blocks of 4096 (points built in float64, cast to float32),
runs the hidden layers as float32 nn.Linear-style matmuls, takes the code
(piece index; ReLU: a > 0) of every hidden neuron and counts the neurons whose
code differs between consecutive samples, closing pair included. Prints one
JSON line: transitions, seconds (sampling only), gflops.
Only ReLU / piecewise-linear nets without tanh; no float64 fallback (so it
may flicker, which is part of what is compared)."""
import gzip, json, math, struct, sys, time
import numpy as np
import torch

path, anchors, K, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
data_dir = sys.argv[5] if len(sys.argv) > 5 else "/usr/share/datasets/fashion-mnist"
if threads.isdigit():
    torch.set_num_threads(int(threads))
raw = open(path, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
hdr = json.loads(raw[8:8 + n])
meta = hdr.pop("__metadata__", {})
base = 8 + n
L = int(meta["sensi.depth"])
act = meta["sensi.act"]
kinks = {"relu": [0.0], "relu6": [0.0, 6.0], "hardtanh": [-1.0, 1.0], "hardsigmoid": [-2.5, 2.5]}[act]
W, B = [], []
for l in range(L):
    t = hdr["layers.%d.weight" % l]
    a, b = t["data_offsets"]
    W.append(torch.frombuffer(bytearray(raw[base + a:base + b]), dtype=torch.float32).reshape(t["shape"]))
    tb = hdr.get("layers.%d.bias" % l)
    B.append(None if tb is None else torch.frombuffer(bytearray(raw[base + tb["data_offsets"][0]:base + tb["data_offsets"][1]]), dtype=torch.float32))
f = data_dir + "/train-images-idx3-ubyte.gz"
img = np.frombuffer(gzip.open(f).read()[16:], dtype=np.uint8).reshape(-1, 784)
idx = [int(v) for v in anchors.split(";")]
x1, x2, x3 = (img[i].astype(np.float64) / 255.0 for i in idx)
c = (x1 + x2 + x3) / 3
av = (2 * x1 - x2 - x3) / 3
bv = (x2 - x3) / math.sqrt(3)
c, av, bv = (torch.from_numpy(v) for v in (c, av, bv))
blk = 4096
total = 0
prev = first = None
flops = 0
t0 = time.perf_counter()
with torch.no_grad():
    for i0 in range(0, K, blk):
        n_ = min(blk, K - i0)
        th = 2 * math.pi * torch.arange(i0, i0 + n_, dtype=torch.float64) / K
        x = (c + torch.cos(th)[:, None] * av + torch.sin(th)[:, None] * bv).float()
        h = x
        codes = []
        for l in range(L - 1):
            a = h @ W[l].T
            if B[l] is not None:
                a += B[l]
            flops += 2 * n_ * W[l].shape[0] * W[l].shape[1]
            code = sum((a > k).to(torch.uint8) for k in kinks)
            codes.append(code)
            h = torch.relu(a) if act == "relu" else {"relu6": lambda v: v.clamp(0, 6), "hardtanh": lambda v: v.clamp(-1, 1), "hardsigmoid": lambda v: (0.2 * v + 0.5).clamp(0, 1)}[act](a)
        cd = torch.cat(codes, 1)
        total += int((cd[1:] != cd[:-1]).sum())
        if prev is not None:
            total += int((cd[0] != prev).sum())
        else:
            first = cd[0].clone()
        prev = cd[-1].clone()
    total += int((prev != first).sum())
dt = time.perf_counter() - t0
print(json.dumps({"impl": "torch", "threads": threads, "k": K, "transitions": total, "seconds": dt, "gflops": flops / dt / 1e9}))
