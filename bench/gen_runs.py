#!/usr/bin/python3
"""gen_runs.py: a synthetic sensi results database of N runs for benchmarking
`sensi analyze` (bench/bench_analyze.sh).

    python3 bench/gen_runs.py TEMPLATE.db OUT.db [-n 100000] [options]

TEMPLATE.db is any database written by `sensi sweep` (a tiny sweep is
enough): its tables and indexes (sqlite_master SQL) and its schema_version
are copied, so OUT.db has sensi's exact schema and `sensi analyze` /
`sensi runs` accept it. The meta rows are rewritten: spec_name (default
"gap-bench"), a spec_json describing the generated grid, its spec_hash, and
total_runs = N.

The runs form what a large gap study would store (docs/schema.md): a full
grid over depth, width, act, opt, lr, batch and train_size, grown axis by
axis until it has ceil(N / replicates) points, each point repeated
`replicates` times (innermost, as sensi numbers runs); per grid point the
dataset (mostly fashion-mnist, some mnist) and random_labels (mostly 0) are
drawn once, so replicates share their config except the seed. Fixed-budget
protocol (early_stop 0). Status fit for most runs, not_fit for some (more
often with label noise, small widths, L-BFGS); not-fit runs have no
measurements (only_fit), as in a real sweep. Fit runs get gap, test_acc,
Jacobian summaries (loosely correlated with the gap), baselines, fit_step,
n_params (exact for the architecture), train_loss and trans_ellipse_diff
(NULL for tanh networks, as without tanh_code). A fraction of the fit runs
get 2 trajectories rows of kind ellipse-diff (their mean is the run's
trans_ellipse_diff; when the template's trajectories table has a length
column, schema version 4, a length around 45, the perimeter of an ellipse
through three Fashion-MNIST training images at unit preprocessing), a few
of them with 24-bin profiles, and a few runs get per-point rows on the test
split.

Debian python3 only (sqlite3, json, random, hashlib); one transaction,
executemany.
"""
import argparse
import hashlib
import json
import math
import os
import random
import sqlite3
import sys
import time

# axes in row-major order (the last varies fastest), each list in the order
# its levels are added while the grid grows
AXES = [
    ("depth", [2, 3, 4, 6, 5, 8]),
    ("width", [128, 512, 64, 1024, 256, 32, 2048]),
    ("act", ["relu", "hardsigmoid", "tanh", "hardtanh", "relu6"]),
    ("opt", ["momentum", "lbfgs", "adam", "sgd", "rmsprop"]),
    ("lr_mult", [1.0, 0.3, 3.0, 0.1]),
    ("batch", [128, 64, 256]),
    ("train_size", [2000, 5000, 1000, 10000, 500, 0]),
]
BASE_LR = {"sgd": 0.05, "momentum": 0.005, "adam": 0.001, "rmsprop": 0.001, "lbfgs": 1.0}
KINKS = {"relu": 1, "relu6": 2, "hardtanh": 2, "hardsigmoid": 2, "tanh": 1}


def grow_grid(points):
    """level counts per axis: add one level at a time to the axis with the
    fewest levels (relative to its maximum) until the product >= points"""
    k = [1] * len(AXES)
    while math.prod(k) < points:
        cand = [i for i in range(len(AXES)) if k[i] < len(AXES[i][1])]
        if not cand:
            sys.exit("gen_runs: %d grid points asked, the grid has at most %d; use more "
                     "--replicates" % (points, math.prod(len(a[1]) for a in AXES)))
        i = min(cand, key=lambda j: (k[j] / len(AXES[j][1]), j))
        k[i] += 1
    return k


def num(x):
    """a JSON number as cJSON prints it (integral values without '.0')"""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int) or (isinstance(x, float) and x.is_integer() and abs(x) < 1e15):
        return str(int(x))
    return repr(float(x))


def hash16(s):
    """16 hex digits identifying a text (sensi uses FNV-1a of its canonical
    JSON; a byte-wise FNV loop in Python would dominate the generator, and
    nothing in the analysis reads the hash's value)"""
    return hashlib.blake2b(s.encode(), digest_size=8).hexdigest()


CONFIG_FMT = ('{"data":"%s","train_size":%d,"test_size":%d,"preprocess":"unit",'
              '"random_labels":%s,"augment_shift":0,"augment_flip":false,"depth":%d,'
              '"width":%d,"act":"%s","bias":false,"sigma_w2":%s,"sigma_b2":0,"opt":"%s",'
              '"lr":%s,"batch":%d,"steps":%d,"momentum":0.9,"beta1":0.9,"beta2":0.999,'
              '"eps":%s,"decay":0.9,"eval_every":%d,"early_stop":false,"seed":"%d"}')


def config_json(c):
    """the config JSON as sensi stores it (key order and number forms of the
    template's config column)"""
    return CONFIG_FMT % (c["data"], c["train_size"], c["test_size"], num(c["random_labels"]),
                         c["depth"], c["width"], c["act"], num(c["sigma_w2"]), c["opt"],
                         num(c["lr"]), c["batch"], c["steps"], num(c["eps"]), c["eval_every"],
                         c["seed"])


def clamp(x, lo, hi):
    return lo if x < lo else hi if x > hi else x


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("template", help="a database written by sensi sweep (schema source)")
    ap.add_argument("out", help="the database to create (replaced if it exists)")
    ap.add_argument("-n", type=int, default=100000, help="runs [100000]")
    ap.add_argument("--replicates", type=int, default=4, help="runs per grid point [4]")
    ap.add_argument("--seed", type=int, default=1, help="generator seed [1]")
    ap.add_argument("--name", default="gap-bench", help="spec_name [gap-bench]")
    ap.add_argument("--traj-frac", type=float, default=0.1,
                    help="fraction of fit, non-tanh runs with 2 trajectories rows [0.1]")
    ap.add_argument("--profiles", type=int, default=50,
                    help="runs whose trajectories carry 24-bin profiles [50]")
    ap.add_argument("--point-runs", type=int, default=8, help="runs with per-point rows [8]")
    ap.add_argument("--points", type=int, default=1000, help="per-point rows per such run [1000]")
    a = ap.parse_args()
    t0 = time.time()
    rnd = random.Random(a.seed)
    R = max(1, a.replicates)
    G = (a.n + R - 1) // R
    levels = grow_grid(G)
    axes = [(name, vals[:k]) for (name, vals), k in zip(AXES, levels)]

    tpl = sqlite3.connect("file:%s?mode=ro" % a.template, uri=True)
    schema = [r[0] for r in tpl.execute(
        "select sql from sqlite_master where sql is not null and type in ('table', 'index') "
        "order by type = 'index', rowid")]
    meta = dict(tpl.execute("select key, value from meta"))
    cols = [r[1] for r in tpl.execute("pragma table_info(runs)")]
    tcols = [r[1] for r in tpl.execute("pragma table_info(trajectories)")]
    tpl.close()
    has_len = "length" in tcols
    if "schema_version" not in meta or not schema:
        sys.exit("gen_runs: %s is not a sensi results database" % a.template)

    for suf in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(a.out + suf):
            os.remove(a.out + suf)
    db = sqlite3.connect(a.out, isolation_level=None)
    db.execute("pragma journal_mode = off")
    db.execute("pragma synchronous = off")
    db.execute("begin")
    for s in schema:
        db.execute(s)
    spec = {"name": a.name, "seed": a.seed, "description":
            "synthetic runs from bench/gen_runs.py (not trained)",
            "fixed": {"test_size": 10000, "steps": 20000, "eval_every": 500, "early_stop": False},
            "grid": {name: vals for name, vals in axes}, "replicates": R,
            "generated": {"n": a.n, "traj_frac": a.traj_frac, "profiles": a.profiles,
                          "point_runs": a.point_runs, "points": a.points}}
    spec_json = json.dumps(spec, sort_keys=True, separators=(",", ":"))
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    db.executemany("insert into meta(key, value) values (?, ?)", [
        ("schema_version", meta["schema_version"]), ("spec_name", a.name),
        ("spec_hash", hash16(spec_json)), ("spec_json", spec_json),
        ("total_runs", str(a.n)), ("created_at", now)])

    rows, trajs, fit_ids = [], [], []
    empty = dict.fromkeys(cols)
    point_rows = 0
    for run in range(a.n):
        g, rep = divmod(run, R)
        # grid point g, row-major (last axis fastest)
        v, rest = {}, g
        for name, vals in reversed(axes):
            rest, i = divmod(rest, len(vals))
            v[name] = vals[i]
        if rep == 0:  # drawn once per grid point: its replicates share them
            data = "mnist" if rnd.random() < 0.2 else "fashion-mnist"
            u = rnd.random()
            rl = 0.0 if u < 0.88 else 0.2 if u < 0.94 else 0.5 if u < 0.98 else 1.0
        depth, width, act, opt = v["depth"], v["width"], v["act"], v["opt"]
        ts = v["train_size"]
        c = {"data": data, "train_size": ts, "test_size": 10000, "preprocess": "unit",
             "random_labels": rl, "augment_shift": 0, "augment_flip": False, "depth": depth,
             "width": width, "act": act, "bias": False,
             "sigma_w2": 2.0 if act in ("relu", "relu6") else 1.0, "sigma_b2": 0.0, "opt": opt,
             "lr": round(BASE_LR[opt] * v["lr_mult"], 10), "batch": v["batch"],
             "steps": 2000 if opt == "lbfgs" else 20000, "momentum": 0.9, "beta1": 0.9,
             "beta2": 0.999, "eps": 1e-10 if opt == "rmsprop" else 1e-8, "decay": 0.9,
             "eval_every": 500, "early_stop": False,
             "seed": rnd.getrandbits(53)}
        cfg = config_json(c)
        nparams = 784 * width + (depth - 2) * width * width + 10 * width
        ntrain = ts if ts > 0 else 60000
        # fit: harder with label noise, many examples, small nets, lbfgs
        logit = 3.0 - 4.0 * rl - 0.5 * math.log10(ntrain / 1000 + 0.1) \
            + 0.4 * math.log2(width / 64) - (0.8 if opt == "lbfgs" else 0)
        fit = rnd.random() < 1 / (1 + math.exp(-logit))
        steps = c["steps"]
        r = dict(empty)
        r.update(run_id=run, config_hash=hash16(cfg), replicate=rep, seed=c["seed"], config=cfg,
                 data=data, train_size=ts, test_size=10000, preprocess="unit", random_labels=rl,
                 augment_shift=0, augment_flip=0, depth=depth, width=width, act=act, bias=0,
                 sigma_w2=c["sigma_w2"], sigma_b2=0.0, opt=opt, lr=c["lr"], batch=c["batch"],
                 steps_budget=steps, momentum=0.9, beta1=0.9, beta2=0.999, eps=c["eps"],
                 decay=0.9, eval_every=500, early_stop=0, steps=steps, n_params=nparams,
                 host="bench", version="0.1.0", blas="Zen", threads=1, finished_at=now)
        base_acc = (0.985 if data == "mnist" else 0.89) - 0.05 * math.log10(60000 / ntrain)
        test_acc = clamp(base_acc * (1 - rl) + 0.1 * rl + rnd.gauss(0, 0.015), 0.05, 0.995)
        train_s = nparams * c["batch"] * steps * 6e-9 * (0.5 + rnd.random())
        r.update(train_s=train_s, wall_s=train_s * 1.05 + 0.5)
        if not fit:
            train_acc = clamp(0.9 - 0.5 * rl + rnd.gauss(0, 0.05), 0.1, 0.999)
            r.update(status="not_fit", fit_step=-1, train_acc=train_acc,
                     train_loss=0.1 + rnd.random(), test_acc=test_acc,
                     test_loss=1.0 + rnd.random(), gap=train_acc - test_acc, measure_s=0.0)
            rows.append(tuple(map(r.get, cols)))
            continue
        fit_ids.append(run)
        gap = 1.0 - test_acc
        z = rnd.gauss(0, 1)  # the Jacobian's part of the gap (loose correlation)
        jac = math.exp(-0.2 + 2.5 * gap + 0.15 * math.log2(depth) + 0.35 * z)
        jlog = jac * (12 + 4 * rnd.random()) * (1.5 if act in ("relu", "relu6") else 1)
        pmax = clamp(0.99 - 0.5 * gap + rnd.gauss(0, 0.01), 0.3, 0.9999)
        fit_step = min(steps, 500 * max(1, int(rnd.lognormvariate(1.5 + 2 * rl, 0.6))))
        test_loss = -math.log(test_acc) * (1.5 + rnd.random())
        r.update(status="fit", fit_step=fit_step, train_acc=1.0,
                 train_loss=math.exp(rnd.gauss(-7, 1.2)), test_acc=test_acc,
                 test_loss=test_loss, gap=gap,
                 jac_test_n=1000, jac_test_mean=jac, jac_test_median=jac * 0.4,
                 jac_test_stderr=jac * (0.03 + 0.02 * rnd.random()), jac_logit_test_mean=jlog,
                 jac_logit_test_median=jlog * 0.95, jac_logit_test_stderr=jlog * 0.01,
                 jac_test_acc=clamp(test_acc + rnd.gauss(0, 0.01), 0, 1),
                 jac_test_loss=test_loss, jac_test_M=jlog * jlog / 10,
                 jac_test_within_bounds=clamp(0.5 + rnd.gauss(0, 0.1), 0, 1),
                 jac_test_auc=clamp(0.8 + rnd.gauss(0, 0.05), 0, 1),
                 jac_test_top_decile_err=clamp(gap * 4 + rnd.gauss(0, 0.05), 0, 1),
                 jac_test_pmax=pmax, jac_test_entropy=(1 - pmax) * 1.8 + abs(rnd.gauss(0, 0.02)),
                 jac_test_margin=max(0.1, 12 * pmax - 5 + rnd.gauss(0, 0.5)),
                 jac_test_auc_pmax=clamp(0.82 + rnd.gauss(0, 0.05), 0, 1),
                 jac_test_auc_entropy=clamp(0.82 + rnd.gauss(0, 0.05), 0, 1),
                 jac_test_auc_margin=clamp(0.81 + rnd.gauss(0, 0.05), 0, 1),
                 measure_s=0.2 + nparams * 2e-7)
        if act != "tanh":
            neurons = (depth - 1) * width
            lam = neurons * KINKS[act] * 0.6 * math.exp(rnd.gauss(0, 0.3))
            if rnd.random() < a.traj_frac:
                t = [max(0, int(rnd.gauss(lam, 0.1 * lam + 1))) for _ in range(2)]
                prof = len(trajs) // 2 < a.profiles
                for i, tr in enumerate(t):
                    pj = pt = None
                    if prof:
                        bins = [0] * 24
                        for _ in range(min(tr, 5000)):
                            bins[rnd.randrange(24)] += 1
                        bins[0] += tr - sum(bins)
                        pt = json.dumps(bins, separators=(",", ":"))
                        pj = json.dumps([round(jac * (0.6 if b % 8 == 0 else 1.0) *
                                               math.exp(rnd.gauss(0, 0.2)), 6)
                                         for b in range(24)], separators=(",", ":"))
                    row = (run, "ellipse-diff", i, "train:%d;%d;%d" % (
                        rnd.randrange(ntrain), rnd.randrange(ntrain), rnd.randrange(ntrain)),
                        "exact", tr, tr, tr, None, tr * 2e-5, pj, pt)
                    if has_len:
                        row += (round(rnd.lognormvariate(math.log(45), 0.08), 6),)
                    trajs.append(row)
                lam = sum(t) / 2
            else:
                lam = float(round(lam))
            r.update(trans_ellipse_diff=lam, regions_ellipse_diff=lam)
        rows.append(tuple(map(r.get, cols)))

    q = "insert into runs(%s) values (%s)" % (",".join(cols), ",".join("?" * len(cols)))
    db.executemany(q, rows)
    tnames = ["run_id", "kind", "i", "anchors", "method", "transitions", "regions", "samples",
              "curvature", "seconds", "profile_jac", "profile_trans"] + (["length"] if has_len
                                                                            else [])
    db.executemany("insert into trajectories (%s) values (%s)" % (
        ",".join(tnames), ",".join("?" * len(tnames))), trajs)

    # per-point rows for a few fit runs, spread over the ids
    step = max(1, len(fit_ids) // max(1, a.point_runs))
    for rid in fit_ids[::step][:a.point_runs]:
        acc, M = rows[rid][cols.index("test_acc")], rows[rid][cols.index("jac_test_M")]
        pts = []
        for idx in range(a.points):
            label = rnd.randrange(10)
            ok = rnd.random() < acc
            pred = label if ok else (label + 1 + rnd.randrange(9)) % 10
            p_label = clamp(rnd.betavariate(20, 1) if ok else rnd.betavariate(1, 3), 1e-6,
                            1 - 1e-9)
            loss = -math.log(p_label)
            el = math.exp(-loss)
            jy = math.sqrt(M) * el * (1 - el) * math.exp(rnd.gauss(0.2, 0.3))
            js = jy * (1.3 + 0.3 * rnd.random()) + (0.5 * rnd.random() if not ok else 0)
            pmax = max(p_label, rnd.uniform(0.3, 1.0)) if not ok else p_label
            pts.append((rid, "test", idx, label, pred, int(ok), loss, js,
                        js * 15 * math.exp(rnd.gauss(0, 0.1)), jy, pmax,
                        max(0.0, (1 - pmax) * 2 + rnd.gauss(0, 0.05)),
                        max(0.0, 10 * pmax - 3 + rnd.gauss(0, 0.5))))
        db.executemany("insert into points values (?,?,?,?,?,?,?,?,?,?,?,?,?)", pts)
        point_rows += len(pts)
    db.execute("commit")
    db.execute("pragma journal_mode = wal")  # as sensi writes them
    db.close()
    nfit = len(fit_ids)
    print(json.dumps({"db": a.out, "runs": a.n, "fit": nfit, "grid_points": G,
                      "grid": {n: len(v) for n, v in axes}, "trajectories": len(trajs),
                      "points": point_rows, "seconds": round(time.time() - t0, 2)}))


if __name__ == "__main__":
    main()
