#!/usr/bin/python3
"""report.py RAW.jsonl RESULTS.json: the table and results.json of bench/run.sh.

Per config (depth L, width H, batch B) from the raw lines of one run:
  sensi steps/s (best of the rounds, one run each), tuned torch steps/s (the
  thread setting with the best median over the rounds, its best round), their
  ratio;
  FLOPs per step = 2BP (forward) + 2BP (weight gradients)
                   + 2B(P - 784H) (input gradients of layers above the first)
                 = 6BP - 2B*784*H, P = 784H + (L-2)H^2 + 10H (no biases);
  sensi GFLOP/s and its fraction of the square SGEMM peak (best of 1024^3 and
  2048^3, best of the start and end measurements);
  the GEMM-only bound: the step time if it were nothing but its GEMMs, each at
  the rate sgemm_peak measured for exactly that shape, and the fraction of it
  sensi reaches.
"""
import json
import sys

D_IN, K = 784, 10
TARGET_RATIO = 1.5
TARGET_PEAK_FRAC = 0.60


def n_params(L, H):
    return D_IN * H + (L - 2) * H * H + H * K


def flops_per_step(L, H, B):
    return 6 * B * n_params(L, H) - 2 * B * D_IN * H


def step_gemms(L, H, B):
    """(m, n, k, ta, tb) of every GEMM in one step, as src/nn/mlp.c calls them."""
    g = [(B, H, D_IN, "N", "T"), (H, D_IN, B, "T", "N")]            # layer 0 fwd, wgrad
    for _ in range(L - 2):                                           # hidden H -> H
        g += [(B, H, H, "N", "T"), (H, H, B, "T", "N"), (B, H, H, "N", "N")]
    g += [(B, K, H, "N", "T"), (K, H, B, "T", "N"), (B, H, K, "N", "N")]  # last layer
    return g


def main():
    raw, out = sys.argv[1], sys.argv[2]
    lines = [json.loads(l) for l in open(raw) if l.strip()]
    env = next((d for d in lines if d.get("kind") == "env"), {})
    env_end = next((d for d in lines if d.get("kind") == "env_end"), {})

    shape_s = {}        # (m,n,k,ta,tb) -> best seconds per call
    peak_by_phase = {}
    cores = set()
    for d in lines:
        if d.get("kind") == "sgemm":
            key = (d["m"], d["n"], d["k"], d["ta"], d["tb"])
            shape_s[key] = min(shape_s.get(key, 1e30), d["s_per_call"])
        elif d.get("kind") == "peak":
            peak_by_phase[d.get("phase", "?")] = d["gflops"]
        elif d.get("kind") == "blas":
            cores.add(("sgemm_peak", d["corename"]))
    peak = max(peak_by_phase.values())

    configs = []
    for d in lines:
        if d.get("kind") in ("sensi", "torch"):
            c = (d["depth"], d["width"])
            if c not in configs:
                configs.append(c)
    B = next((d["batch"] for d in lines if d.get("kind") == "torch"), 128)

    rows = []
    for (L, H) in configs:
        s_runs = [d for d in lines if d.get("kind") == "sensi"
                  and (d["depth"], d["width"]) == (L, H)]
        t_runs = [d for d in lines if d.get("kind") == "torch"
                  and (d["depth"], d["width"]) == (L, H)]
        t_vars = [d for d in lines if d.get("kind") == "torch_variant"
                  and (d["depth"], d["width"]) == (L, H)]
        if not s_runs or not t_runs:
            continue
        for d in s_runs:
            cores.add(("sensi", d.get("blas")))
        for d in t_vars:
            cores.add(("torch", d.get("blas_corename")))
        s_best = max(d["steps_per_s"] for d in s_runs)
        # torch's thread setting: the one with the best median over the
        # rounds (not the single luckiest sample), then its best round; sensi
        # and torch thus both count the best of one sample per round
        by_threads = {}
        for d in t_vars:
            by_threads.setdefault(d["threads"], []).append(d)
        def median(v):
            v = sorted(v)
            return 0.5 * (v[(len(v) - 1) // 2] + v[len(v) // 2])
        t_thr = max(by_threads, key=lambda k: median([d["steps_per_s"] for d in by_threads[k]]))
        t_sel = by_threads[t_thr]
        t_best = max(d["steps_per_s"] for d in t_sel)
        # per-round ratio against the chosen setting's run of the same round
        per_round = []
        for d in s_runs:
            t = [x["steps_per_s"] for x in t_sel if x.get("round") == d.get("round")]
            if t:
                per_round.append(d["steps_per_s"] / t[0])
        F = flops_per_step(L, H, B)
        gemm_s = sum(shape_s.get(g, float("nan")) for g in step_gemms(L, H, B))
        bound = 1.0 / gemm_s if gemm_s == gemm_s else float("nan")
        rows.append({
            "depth": L, "width": H, "batch": B, "n_params": n_params(L, H),
            "flops_per_step": F,
            "sensi_steps_per_s": s_best,
            "sensi_steps_per_s_rounds": [d["steps_per_s"] for d in s_runs],
            "sensi_blas_threads": s_runs[0].get("blas_threads"),
            "torch_steps_per_s": t_best,
            "torch_steps_per_s_rounds": [d["steps_per_s"] for d in t_sel],
            "torch_best_threads": t_thr,
            "torch_steps_per_s_by_threads": {k: [d["steps_per_s"] for d in v]
                                             for k, v in sorted(by_threads.items())},
            # the luckiest torch sample of any setting (favours torch under noise)
            "torch_steps_per_s_max_any": max(d["steps_per_s"] for d in t_vars),
            "ratio_sensi_torch": s_best / t_best,
            "ratio_by_round": per_round,
            "sensi_gflops": s_best * F * 1e-9,
            "torch_gflops": t_best * F * 1e-9,
            "sensi_frac_peak": s_best * F * 1e-9 / peak,
            "gemm_bound_steps_per_s": bound,
            "sensi_frac_gemm_bound": s_best / bound,
            # the best ratio any implementation of these GEMMs could reach
            # against this torch: a step that is nothing but its GEMMs
            "gemm_bound_over_torch": bound / t_best,
            "target_ratio_met": s_best / t_best >= TARGET_RATIO,
            "target_peak_met": (s_best * F * 1e-9 / peak >= TARGET_PEAK_FRAC)
                               if H >= 1000 else None,
        })

    hdr = ("depth width | sensi st/s  torch st/s (thr) | sensi/torch  (rounds) | sensi GF/s  "
           "%peak | GEMM-bound st/s  %bound  bound/torch")
    print()
    print("sensi vs tuned PyTorch, batch %d, SGD momentum (SGEMM peak %.1f GFLOP/s: %s)"
          % (B, peak, ", ".join("%s %.1f" % kv for kv in sorted(peak_by_phase.items()))))
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        print("%5d %5d | %10.1f  %10.1f (%-3s)| %9.2fx%s %-11s| %10.1f  %4.0f%%%s | %15.1f  %5.0f%%  %10.2fx"
              % (r["depth"], r["width"], r["sensi_steps_per_s"], r["torch_steps_per_s"],
                 r["torch_best_threads"], r["ratio_sensi_torch"],
                 " " if r["target_ratio_met"] else "!",
                 "(%.2f-%.2f)" % (min(r["ratio_by_round"]), max(r["ratio_by_round"]))
                 if r["ratio_by_round"] else "", r["sensi_gflops"],
                 100 * r["sensi_frac_peak"],
                 "!" if r["target_peak_met"] is False else " ",
                 r["gemm_bound_steps_per_s"], 100 * r["sensi_frac_gemm_bound"],
                 r["gemm_bound_over_torch"]))
    ok_ratio = all(r["target_ratio_met"] for r in rows)
    ok_peak = all(r["target_peak_met"] is not False for r in rows)
    print("targets: sensi/torch >= %.1fx on every config: %s; >= %.0f%% of SGEMM peak at "
          "width 1000: %s   ('!' marks a miss)"
          % (TARGET_RATIO, "met" if ok_ratio else "NOT met", 100 * TARGET_PEAK_FRAC,
             "met" if ok_peak else "NOT met"))
    kernels = sorted({c for c in cores if c[1]})
    print("BLAS kernels: " + ", ".join("%s=%s" % c for c in kernels)
          + ("" if len({c[1] for c in kernels}) <= 1 else "   WARNING: kernels differ"))
    print("load average: %s at start, %s at end (%s CPUs)"
          % (env.get("load_start"), env_end.get("load_end"), env.get("nproc")))

    res = {"env": env, "env_end": env_end, "sgemm_peak_gflops": peak,
           "sgemm_peak_by_phase": peak_by_phase,
           "sgemm_shapes": [{"m": k[0], "n": k[1], "k": k[2], "ta": k[3], "tb": k[4],
                             "s_per_call": v, "gflops": 2.0 * k[0] * k[1] * k[2] / v * 1e-9}
                            for k, v in sorted(shape_s.items())],
           "blas_kernels": {w: c for w, c in kernels},
           "targets": {"ratio": TARGET_RATIO, "peak_frac_width_1000": TARGET_PEAK_FRAC,
                       "ratio_met": ok_ratio, "peak_met": ok_peak},
           "configs": rows}
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
        f.write("\n")
    print("wrote " + out)


if __name__ == "__main__":
    main()
