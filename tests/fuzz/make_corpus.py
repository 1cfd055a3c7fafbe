#!/usr/bin/env python3
"""make_corpus.py: regenerate the generated seeds of tests/fuzz/corpus/.

    python3 tests/fuzz/make_corpus.py

Writes the IDX, CIFAR, spec and edit-list seeds (all tiny and synthetic: no
dataset bytes). Not generated here, kept as committed files:
  fuzz_model_io/seed.safetensors   SENSI_FUZZ_SEED=... build-fuzz/fuzz_model_io
  fuzz_store/*.db                  `sensi sweep` of the two specs in SPECS
                                   below, then `PRAGMA journal_mode=delete;
                                   PRAGMA page_size=512; VACUUM` (and one copy
                                   set back to WAL, as a sweep leaves it)
  fuzz_spec/study-*.json           copies of studies/*.json
"""
import gzip
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
C = os.path.join(HERE, "corpus")

SPECS = {
    "sweep4": '{"name": "fz", "seed": 3, "fixed": {"data": "fashion-mnist", "train_size": 40, '
              '"test_size": 20, "steps": 60, "eval_every": 20, "batch": 16, "width": 8, '
              '"depth": 2}, "grid": {"act": ["relu", "tanh"], "lr": [0.01, 0.05]}, '
              '"measure": {"only_fit": false, "jacobian": {"test_points": 4, "train_points": 2, '
              '"per_point": true}, "transitions": {"kinds": ["ellipse-diff", "translate"], '
              '"count": 1, "method": "exact", "profile_bins": 2}}}',
    "fit8": '{"name": "fz-fit", "seed": 5, "paired_seeds": true, "replicates": 2, "fixed": '
            '{"data": "fashion-mnist", "train_size": 20, "test_size": 20, "steps": 300, '
            '"eval_every": 100, "batch": 10, "depth": 2, "lr": 0.05}, "grid": {"width": [8, 16], '
            '"act": ["relu", "tanh"]}, "measure": {"only_fit": true, "jacobian": {"test_points": 4, '
            '"train_points": 2, "per_point": true}, "transitions": {"kinds": ["ellipse-diff"], '
            '"count": 1, "method": "exact", "profile_bins": 2}}}',
}


def put(target, name, data):
    d = os.path.join(C, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def gz(b):
    return gzip.compress(b, mtime=0)


def main():
    r = random.Random(1)
    # IDX: 2 images of 4x4 + 2 labels; input = LE16 image length, images, labels
    img = struct.pack(">IIII", 0x803, 2, 4, 4) + bytes(r.randrange(256) for _ in range(32))
    lab = struct.pack(">II", 0x801, 2) + bytes([3, 7])
    for name, i, l in [("plain", img, lab), ("gz-images", gz(img), lab),
                       ("gz-both", gz(img), gz(lab)), ("swapped", lab, img)]:
        put("fuzz_idx", name + ".bin", struct.pack("<H", len(i)) + i + l)
    img1 = struct.pack(">IIII", 0x803, 1, 2, 3) + bytes(range(6))
    lab1 = struct.pack(">II", 0x801, 1) + bytes([9])
    put("fuzz_idx", "one-2x3.bin", struct.pack("<H", len(img1)) + img1 + lab1)
    # CIFAR: flag byte (bit 0 CIFAR-100, bit 1 two files split at LE16), 2 records
    def rec(labels):
        return bytes(labels) + bytes(r.randrange(256) for _ in range(3072))
    c10 = rec([3]) + rec([9])
    c100 = rec([19, 99]) + rec([0, 5])
    put("fuzz_cifar", "c10.bin", b"\x00" + c10)
    put("fuzz_cifar", "c100.bin", b"\x01" + c100)
    put("fuzz_cifar", "c10-gz.bin", b"\x00" + gz(c10))
    put("fuzz_cifar", "c10-two.bin", b"\x02" + struct.pack("<H", 3073) + c10)
    put("fuzz_cifar", "c100-two-gz.bin", b"\x03" + struct.pack("<H", len(gz(c100[:3074])))
        + gz(c100[:3074]) + c100[3074:])
    # specs beyond the shipped studies: scales, a list of grids, sampling
    put("fuzz_spec", "scales.json", b'{"name": "s", "fixed": {"data": "mnist", "steps": 10}, '
        b'"grid": {"width": [4, 8]}, "scales": {"paper": {"replicates": 3, '
        b'"grid": {"width": [16]}}, "tiny": {"fixed": {"steps": 1}}}}')
    put("fuzz_spec", "grids.json", b'{"name": "g", "seed": 9, "grid": [{"opt": ["sgd"], '
        b'"lr": [0.1]}, {"opt": ["adam"], "lr": [0.001, 0.01], "beta1": [0.9]}], '
        b'"paired_seeds": true, "replicates": 2}')
    put("fuzz_spec", "sample.json", b'{"name": "r", "sample": 5, "grid": {"lr": '
        b'{"log_uniform": [0.001, 0.1]}, "width": {"int_log_uniform": [8, 64]}, '
        b'"momentum": {"uniform": [0, 0.9]}}, "measure": {"jacobian": {"test_points": 10}, '
        b'"transitions": {"kinds": ["ellipse-diff", "translate"], "count": 2, '
        b'"method": "sampled", "samples": 1024}}}')
    put("fuzz_spec", "minimal.json", b'{"name": "m"}')
    # edit lists for fuzz_store_rows (op, table, row, [column], value...)
    edits = {
        "empty": b"",
        "status-all-fit": bytes([3, 1, 0, 0]),   # set one column of all runs (value: NULL)
        "nan-metric": bytes([0, 1, 2, 40, 2, 100]),
        "inf-metric": bytes([0, 1, 3, 41, 2, 80]),
        "long-name": bytes([0, 0, 1, 1, 3, 0xff, 0xff]),
        "delete-run": bytes([1, 1, 4]),
        "copy-run-outside": bytes([2, 1, 0, 1, 7]),
        "copy-point": bytes([2, 2, 5, 1, 1]),
        "text-in-int": bytes([0, 1, 0, 13, 4, 3]) + b"abc",
        "blob": bytes([0, 3, 0, 5, 5, 4]) + b"\x00\x01\x02\x03",
        "meta-hash": bytes([0, 0, 2, 1, 3, 5, 0]),
    }
    for name, b in edits.items():
        put("fuzz_store_rows", name + ".bin", b)


if __name__ == "__main__":
    main()
