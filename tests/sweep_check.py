"""sweep_check.py: helpers for tests/e2e_sweep.sh (stdlib only).

  python3 tests/sweep_check.py same A.db B.db     the two databases hold the same runs
                                                   with the same results (every column
                                                   but timings/host/time), points and
                                                   trajectories
  python3 tests/sweep_check.py flags DB ID        `sensi train` options reproducing run ID
  python3 tests/sweep_check.py get DB SQL         print the one value SQL selects
  python3 tests/sweep_check.py v3 DB              rewrite DB (schema version 4) as a
                                                   version-3 database: no
                                                   trajectories.length, meta version 3
                                                   (what sensi wrote before lengths)

`same` compares every column both files have, trajectories.length included
(a deterministic function of the anchors).
"""
import sqlite3
import sys

VOLATILE = {"train_s", "measure_s", "wall_s", "host", "finished_at", "seconds"}


def rows(db, table, order):
    c = sqlite3.connect(db)
    cur = c.execute(f"select * from {table} order by {order}")
    names = [d[0] for d in cur.description]
    keep = [i for i, n in enumerate(names) if n not in VOLATILE]
    return [names[i] for i in keep], [tuple(r[i] for i in keep) for r in cur]


def same(a, b):
    for table, order in (("runs", "run_id"), ("points", "run_id, split, idx"),
                         ("trajectories", "run_id, kind, i")):
        na, ra = rows(a, table, order)
        nb, rb = rows(b, table, order)
        if na != nb or len(ra) != len(rb):
            sys.exit(f"{table}: {len(ra)} rows in {a}, {len(rb)} in {b}")
        for x, y in zip(ra, rb):
            if x != y:
                diff = [(n, p, q) for n, p, q in zip(na, x, y) if p != q]
                sys.exit(f"{table}: rows differ: {diff[:5]}")
    ok = sqlite3.connect(a).execute("pragma integrity_check").fetchone()[0]
    if ok != "ok":
        sys.exit(f"{a}: integrity_check: {ok}")


def flags(db, run_id):
    import json
    c = sqlite3.connect(db)
    cfg = json.loads(c.execute("select config from runs where run_id = ?", (run_id,)).fetchone()[0])
    out = []
    for k, v in cfg.items():
        opt = "--" + k.replace("_", "-")
        if k == "data":
            opt = "--data"
        if isinstance(v, bool):
            if k == "early_stop":
                if not v:
                    out.append("--no-early-stop")
            elif v:
                out.append(opt)
            continue
        out += [opt, str(v)]
    print(" ".join(out))


def v3(db):
    c = sqlite3.connect(db, isolation_level=None)
    c.execute("pragma journal_mode = delete")
    ver = c.execute("select value from meta where key = 'schema_version'").fetchone()[0]
    if ver != "4":
        sys.exit(f"{db}: schema version {ver}, expected 4")
    c.execute("alter table trajectories drop column length")
    c.execute("update meta set value = '3' where key = 'schema_version'")
    c.close()


if __name__ == "__main__":
    if sys.argv[1] == "same":
        same(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "flags":
        flags(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "v3":
        v3(sys.argv[2])
    elif sys.argv[1] == "get":
        r = sqlite3.connect(sys.argv[2]).execute(sys.argv[3]).fetchone()
        print("" if r is None else r[0])
