#!/usr/bin/python3
"""torch_train.py: the PyTorch baseline for bench/run.sh.

Trains the same network as `sensi train` (fully connected, no biases, ReLU,
depth L = number of Linear layers, width H, 784 inputs, 10 classes, SGD with
momentum 0.9, softmax cross-entropy, batch 128) on Fashion-MNIST, and prints
one JSON line with the training-loop throughput in steps/s.

The timed loop is the whole step as sensi times it: epoch-wise reshuffling
(torch.randperm when an epoch runs out), the index gather of the batch
(index_select into preallocated buffers), forward, loss, backward and the
optimizer step. Warm-up steps are excluded. Data loading is not timed.

Threads: OpenBLAS and libgomp read their settings when torch is imported, so
every thread setting runs in a fresh process. With --threads 1,2,1x2 (the
default) the script runs one child per setting and reports each
("kind":"torch_variant") and the fastest ("kind":"torch"):
  1  : OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1, torch.set_num_threads(1)
  2  : OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 OMP_WAIT_POLICY=passive
       (libgomp's spinning workers otherwise compete with OpenBLAS's own
       pthread pool for the same two cores: "2spin" measures that, 2-4x slower)
  1x2: torch's own (OpenMP) ops on 1 thread, OpenBLAS GEMMs on 2
Other tuning: SGD(foreach=True), zero_grad(set_to_none=True), in-place ReLU,
batch gathered with index_select into preallocated tensors. fp32 nn.Linear on
CPU goes through addmm to the sgemm of the BLAS torch links (Debian:
libblas.so.3 -> OpenBLAS 0.3.21 pthread), the same library sensi uses; no
torch.backends flag changes that path (oneDNN is used for convolutions and
bf16, not fp32 matmul, in torch 1.13).
OPENBLAS_CORETYPE is passed through unchanged (bench/run.sh decides it).
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import time

DATA_DIR = "/usr/share/datasets/fashion-mnist"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--depth", type=int, default=3, help="number of Linear layers")
    p.add_argument("--width", type=int, default=100)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.005)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--threads", default="1,2,1x2",
                   help="comma-separated thread settings to try, each in its own process: "
                        "N (OpenMP and OpenBLAS N threads, OMP_WAIT_POLICY=passive if N > 1), "
                        "Nspin (the same with libgomp's default spinning), "
                        "NxM (OpenMP N, OpenBLAS M threads, passive)")
    p.add_argument("--seconds", type=float, default=3.0, help="target timed seconds")
    p.add_argument("--steps", type=int, default=0, help="timed steps (0: from --seconds)")
    p.add_argument("--warmup", type=int, default=30, help="untimed warm-up steps")
    p.add_argument("--reps", type=int, default=1,
                   help="timed repetitions within one process; the best is reported")
    p.add_argument("--data-dir", default=os.environ.get("FASHION_MNIST_DIR", DATA_DIR))
    p.add_argument("--foreach", type=int, default=1,
                   help="1: SGD(foreach=bool(args.foreach)), one multi-tensor update; 0: per-parameter loop")
    p.add_argument("--set-to-none", type=int, default=1,
                   help="1: zero_grad(set_to_none=True); 0: zero the gradient tensors")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args()


def parse_spec(spec):
    """'N' -> (N, N, passive if N > 1); 'Nspin' -> (N, N, libgomp default);
    'NxM' -> torch/OpenMP N threads, OpenBLAS M threads (passive)."""
    spin = spec.endswith("spin")
    body = spec[:-4] if spin else spec
    if "x" in body:
        omp, blas = (int(v) for v in body.split("x", 1))
    else:
        omp = blas = int(body)
    return omp, blas, ("" if spin or max(omp, blas) == 1 else "passive")


def thread_env(spec):
    omp, blas, policy = parse_spec(spec)
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(omp)
    env["OPENBLAS_NUM_THREADS"] = str(blas)
    env["MKL_NUM_THREADS"] = str(blas)
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    else:
        env.pop("OMP_WAIT_POLICY", None)
    return env


def parent(args):
    settings = [t.strip() for t in args.threads.split(",") if t.strip()]
    best = None
    variants = {}
    for n in settings:
        cmd = [sys.executable, os.path.abspath(__file__), "--child", "--threads", str(n)]
        for k in ("depth", "width", "batch", "lr", "momentum", "seconds", "steps",
                  "warmup", "reps", "data_dir", "seed", "foreach", "set_to_none"):
            cmd += ["--" + k.replace("_", "-"), str(getattr(args, k))]
        r = subprocess.run(cmd, env=thread_env(n), stdout=subprocess.PIPE, text=True)
        if r.returncode != 0:
            sys.stderr.write("torch_train: child with threads %s failed (exit %d)\n"
                             % (n, r.returncode))
            continue
        line = r.stdout.strip().splitlines()[-1]
        res = json.loads(line)
        res["kind"] = "torch_variant"
        print(json.dumps(res), flush=True)
        variants[n] = res["steps_per_s"]
        if best is None or res["steps_per_s"] > best["steps_per_s"]:
            best = res
    if best is None:
        sys.exit(1)
    best = dict(best)
    best["kind"] = "torch"
    best["variants_steps_per_s"] = variants
    print(json.dumps(best), flush=True)


def read_idx(path, np):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def blas_corename():
    """Kernel of the OpenBLAS that torch's sgemm calls (libblas.so.3 -> OpenBLAS on Debian)."""
    import ctypes
    for name in ("libblas.so.3", "libopenblas.so.0"):
        try:
            lib = ctypes.CDLL(name, mode=os.RTLD_NOLOAD | os.RTLD_GLOBAL)
            f = lib.openblas_get_corename
            f.restype = ctypes.c_char_p
            g = lib.openblas_get_num_threads
            g.restype = ctypes.c_int
            return name, f().decode(), g()
        except (OSError, AttributeError):
            continue
    return None, None, None


def child(args):
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    omp, _, _ = parse_spec(args.threads)
    torch.set_num_threads(omp)
    torch.set_num_interop_threads(1)
    torch.manual_seed(args.seed)

    x8 = read_idx(os.path.join(args.data_dir, "train-images-idx3-ubyte.gz"), np)
    y8 = read_idx(os.path.join(args.data_dir, "train-labels-idx1-ubyte.gz"), np)
    n = x8.shape[0]
    X = torch.from_numpy(x8.reshape(n, -1).astype(np.float32) / 255.0)  # (n, 784) in [0, 1]
    Y = torch.from_numpy(y8.astype(np.int64))
    D, K, B, H, L = X.shape[1], 10, args.batch, args.width, args.depth

    layers = []
    d_in = D
    for l in range(L):
        d_out = K if l == L - 1 else H
        layers.append(nn.Linear(d_in, d_out, bias=False))
        if l < L - 1:
            layers.append(nn.ReLU(inplace=True))
        d_in = d_out
    model = nn.Sequential(*layers)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum,
                          foreach=bool(args.foreach))

    xb = torch.empty(B, D)
    yb = torch.empty(B, dtype=torch.int64)
    state = {"perm": torch.randperm(n), "pos": 0}

    def step():
        pos = state["pos"]
        if pos + B > n:
            state["perm"] = torch.randperm(n)
            pos = 0
        idx = state["perm"][pos:pos + B]
        state["pos"] = pos + B
        torch.index_select(X, 0, idx, out=xb)
        torch.index_select(Y, 0, idx, out=yb)
        opt.zero_grad(set_to_none=bool(args.set_to_none))
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    for _ in range(args.warmup):
        loss = step()
    steps = args.steps
    if steps <= 0:
        t0 = time.perf_counter()
        c = 0
        while c < 10 or time.perf_counter() - t0 < 0.3:
            step()
            c += 1
        rate = c / (time.perf_counter() - t0)
        steps = max(20, int(rate * args.seconds / max(1, args.reps)))
    best = 0.0
    for _ in range(max(1, args.reps)):
        t0 = time.perf_counter()
        for _ in range(steps):
            loss = step()
        dt = time.perf_counter() - t0
        best = max(best, steps / dt)
    final_loss = float(loss)
    lib, core, bthreads = blas_corename()
    params = sum(p.numel() for p in model.parameters())
    print(json.dumps({
        "kind": "torch_child", "depth": L, "width": H, "batch": B, "threads": args.threads,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
        "steps": steps, "steps_per_s": best, "foreach": args.foreach,
        "set_to_none": args.set_to_none, "loss": final_loss, "n_params": params,
        "torch": torch.__version__, "blas_lib": lib, "blas_corename": core,
        "blas_threads": bthreads, "torch_threads": torch.get_num_threads(),
        "openblas_coretype_env": os.environ.get("OPENBLAS_CORETYPE", ""),
    }), flush=True)


def main():
    args = parse_args()
    if args.child:
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
