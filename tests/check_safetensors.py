#!/usr/bin/env python3
"""check_safetensors.py: check a sensi model file independently of the C code.

Usage: python3 tests/check_safetensors.py MODEL.safetensors [--generic]

Parses the safetensors layout with struct + json only (Python 3 standard
library): 8-byte little-endian header length, UTF-8 JSON header padded with
spaces so the byte buffer starts 8-aligned, __metadata__ a string -> string
map, every tensor with a known dtype, a shape of non-negative integers and
data_offsets that are in bounds, match the shape, do not overlap and cover the
byte buffer exactly. Unless --generic is given it also checks the sensi
architecture keys (sensi.act, sensi.depth, sensi.width, sensi.d, sensi.k,
sensi.bias, sensi.sigma_w2) against the tensor names and shapes, and that all
values are finite float32. If torch is importable it rebuilds every tensor with
torch.frombuffer, loads them with load_state_dict(strict=True) into a module
with a `layers` ModuleList of nn.Linear, and, if the safetensors package is
there too, compares with safetensors.torch.load_file. Prints one line per
tensor (name, dtype, shape); problems go to stderr, one per line, and the exit status is 1.

Does not: modify the file, or need torch (the layout checks run without it).
"""
import json
import math
import struct
import sys
from array import array

HEADER_MAX = 100_000_000
DTYPE_SIZE = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2, "U16": 2,
              "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8}
ACTS = ("relu", "relu6", "hardtanh", "hardsigmoid", "tanh")


class Bad(Exception):
    pass


def no_duplicates(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise Bad("duplicate JSON key %r" % k)
        d[k] = v
    return d


def is_uint(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def parse(raw):
    """(metadata, tensors, data, header_len) or raise Bad."""
    if len(raw) < 8:
        raise Bad("file too short (%d bytes) for the 8-byte header length" % len(raw))
    (n,) = struct.unpack("<Q", raw[:8])
    if n >= HEADER_MAX:
        raise Bad("header length %d over the 100 MB limit" % n)
    if n > len(raw) - 8:
        raise Bad("header length %d beyond the end of the file (%d bytes)" % (n, len(raw)))
    if (8 + n) % 8 != 0:
        raise Bad("byte buffer starts at %d, not 8-byte aligned (header not padded)" % (8 + n))
    hb = raw[8:8 + n]
    try:
        text = hb.decode("utf-8")
    except UnicodeDecodeError as ex:
        raise Bad("header is not valid UTF-8: %s" % ex)
    if not text.startswith("{"):
        raise Bad("header does not start with '{'")
    body = text.rstrip(" ")
    if len(text) - len(body) >= 8:
        raise Bad("header has %d padding spaces (more than alignment needs)"
                  % (len(text) - len(body)))
    try:
        hdr = json.loads(body, object_pairs_hook=no_duplicates)
    except ValueError as ex:
        raise Bad("header is not valid JSON: %s" % ex)
    if not isinstance(hdr, dict):
        raise Bad("header is not a JSON object")
    meta = hdr.pop("__metadata__", {})
    if not isinstance(meta, dict):
        raise Bad("__metadata__ is not an object")
    for k, v in meta.items():
        if not isinstance(v, str):
            raise Bad("metadata value of %r is not a string" % k)
    data = raw[8 + n:]
    spans = []
    for name, t in hdr.items():
        if not isinstance(t, dict) or set(t) != {"dtype", "shape", "data_offsets"}:
            raise Bad("tensor %s: expected exactly dtype, shape, data_offsets" % name)
        dt, shape, offs = t["dtype"], t["shape"], t["data_offsets"]
        if dt not in DTYPE_SIZE:
            raise Bad("tensor %s: unknown dtype %r" % (name, dt))
        if not isinstance(shape, list) or not all(is_uint(s) for s in shape):
            raise Bad("tensor %s: shape %r is not a list of non-negative integers" % (name, shape))
        if not (isinstance(offs, list) and len(offs) == 2 and all(is_uint(o) for o in offs)):
            raise Bad("tensor %s: data_offsets %r are not two non-negative integers" % (name, offs))
        b, e = offs
        if not b <= e <= len(data):
            raise Bad("tensor %s: data_offsets [%d,%d] out of bounds (buffer %d bytes)"
                      % (name, b, e, len(data)))
        numel = math.prod(shape)
        if e - b != numel * DTYPE_SIZE[dt]:
            raise Bad("tensor %s: %d bytes for shape %s of %s (expected %d)"
                      % (name, e - b, shape, dt, numel * DTYPE_SIZE[dt]))
        spans.append((b, e, name))
    pos = 0
    prev = None
    for b, e, name in sorted(spans):
        if b < pos:
            raise Bad("tensors %s and %s overlap" % (prev, name))
        if b > pos:
            raise Bad("gap in the byte buffer: bytes [%d,%d) before %s" % (pos, b, name))
        pos, prev = e, name
    if pos != len(data):
        raise Bad("%d bytes after the last tensor belong to no tensor" % (len(data) - pos))
    return meta, hdr, data, n


def meta_int(meta, key, lo, hi):
    if key not in meta:
        raise Bad("metadata key %s missing" % key)
    v = meta[key]
    if not v.isdigit() or not v.isascii():
        raise Bad("metadata %s = %r is not a non-negative integer" % (key, v))
    v = int(v)
    if not lo <= v <= hi:
        raise Bad("metadata %s = %d out of range (%d..%d)" % (key, v, lo, hi))
    return v


def check_sensi(meta, tensors, data):
    act = meta.get("sensi.act")
    if act is None:
        raise Bad("metadata key sensi.act missing (not a sensi model?)")
    if act not in ACTS:
        raise Bad("unknown activation %r" % act)
    depth = meta_int(meta, "sensi.depth", 1, 1000)
    width = meta_int(meta, "sensi.width", 1 if depth > 1 else 0, 1 << 20)
    d = meta_int(meta, "sensi.d", 1, 1 << 20)
    k = meta_int(meta, "sensi.k", 1, 1 << 20)
    if meta.get("sensi.bias") not in ("0", "1"):
        raise Bad("metadata sensi.bias = %r is not \"0\" or \"1\"" % meta.get("sensi.bias"))
    bias = meta["sensi.bias"] == "1"
    try:
        s2 = float(meta.get("sensi.sigma_w2", "x"))
    except ValueError:
        raise Bad("metadata sensi.sigma_w2 = %r is not a number" % meta.get("sensi.sigma_w2"))
    if not (math.isfinite(s2) and s2 > 0):
        raise Bad("metadata sensi.sigma_w2 = %r is not finite and > 0" % s2)
    dims = [d] + [width] * (depth - 1) + [k]
    want = {}
    for li in range(depth):
        want["layers.%d.weight" % li] = [dims[li + 1], dims[li]]
        if bias:
            want["layers.%d.bias" % li] = [dims[li + 1]]
    for name in tensors:
        if name not in want:
            raise Bad("unknown tensor %s" % name)
    for name, shape in want.items():
        if name not in tensors:
            raise Bad("tensor %s missing" % name)
        t = tensors[name]
        if t["dtype"] != "F32":
            raise Bad("tensor %s has dtype %s, expected F32" % (name, t["dtype"]))
        if t["shape"] != shape:
            raise Bad("tensor %s has shape %s, expected %s" % (name, t["shape"], shape))
        b, e = t["data_offsets"]
        vals = array("f")
        vals.frombytes(data[b:e])
        if sys.byteorder == "big":
            vals.byteswap()
        for i, v in enumerate(vals):
            if not math.isfinite(v):
                raise Bad("tensor %s has a non-finite value %r at element %d" % (name, v, i))
    return dims, bias


def check_torch(path, tensors, data, dims=None, bias=False):
    try:
        import torch
    except ImportError:
        return "torch not importable: tensors not rebuilt"
    dt = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16,
          "BF16": torch.bfloat16, "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8}
    buf = bytearray(data)
    built = {}
    for name, t in tensors.items():
        b, e = t["data_offsets"]
        if t["dtype"] not in dt:
            continue
        x = torch.frombuffer(buf, dtype=dt[t["dtype"]], count=(e - b) // DTYPE_SIZE[t["dtype"]],
                             offset=b) if e > b else torch.empty(0, dtype=dt[t["dtype"]])
        if sys.byteorder == "big":
            raise Bad("torch check on a big-endian host is not supported")
        x = x.reshape(t["shape"])
        if x.is_floating_point() and not bool(torch.isfinite(x).all()):
            raise Bad("torch: tensor %s has non-finite values" % name)
        built[name] = x
        print("torch %s %s %s" % (name, str(x.dtype).replace("torch.", ""), tuple(x.shape)))
    if dims is not None:  # the state dict of a `layers` ModuleList of nn.Linear
        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = torch.nn.ModuleList(
                    torch.nn.Linear(dims[i], dims[i + 1], bias=bias) for i in range(len(dims) - 1))
        try:
            Net().load_state_dict(built, strict=True)
        except RuntimeError as ex:
            raise Bad("torch: load_state_dict(strict=True) failed: %s"
                      % str(ex).replace("\n", " "))
        print("torch: load_state_dict(strict=True) into layers of nn.Linear %s: ok" % dims)
    try:
        from safetensors.torch import load_file
    except ImportError:
        return "torch: %d tensors rebuilt (safetensors package not importable)" % len(built)
    ref = load_file(path)
    if set(ref) != set(built):
        raise Bad("safetensors.torch.load_file sees tensors %s" % sorted(ref))
    for name, x in built.items():
        if not torch.equal(ref[name], x):
            raise Bad("safetensors.torch.load_file disagrees on %s" % name)
    return "torch: %d tensors rebuilt, identical to safetensors.torch.load_file" % len(built)


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    generic = "--generic" in argv[1:]
    if len(args) != 1 or any(a not in ("--generic",) for a in argv[1:] if a.startswith("--")):
        print("usage: check_safetensors.py MODEL.safetensors [--generic]", file=sys.stderr)
        return 2
    path = args[0]
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as ex:
        print("%s: cannot read: %s" % (path, ex), file=sys.stderr)
        return 1
    try:
        meta, tensors, data, n = parse(raw)
        dims, bias = check_sensi(meta, tensors, data) if not generic else (None, False)
        print("%s: %d bytes, header %d bytes, data at %d, %d tensors, %d metadata keys"
              % (path, len(raw), n, 8 + n, len(tensors), len(meta)))
        for name, t in sorted(tensors.items(), key=lambda kv: kv[1]["data_offsets"][0]):
            print("tensor %s %s %s [%d,%d)" % (name, t["dtype"], tuple(t["shape"]),
                                               t["data_offsets"][0], t["data_offsets"][1]))
        print(check_torch(path, tensors, data, dims, bias))
    except Bad as ex:
        print("%s: %s" % (path, ex), file=sys.stderr)
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
