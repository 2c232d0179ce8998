# Summary of a bench/dist.sh log: per model, the step time of every run kind
# as the median over the repeats of each run's median (min-max of the run
# medians), the exposed communication and its share of the step, the
# speed-up of 2 ranks over 1 at the same global batch (T(1) / T(2)), nnlua's
# per-step blocking reductions of the logs (reduce_ms), the overlap achieved
# and the nnlua/PyTorch ratios; then the allreduce micro-benchmarks and
# their alpha-beta fits as logged.
#   nnlua overlap = 1 - wait(overlap on) / wait(NNLUA_DIST_OVERLAP=0), medians
#   torch overlap = 1 - (ddp - no_sync) / (serial - no_sync), median of runs
# Usage: /usr/bin/python3 bench/dist_summary.py LOG
import statistics, sys


def parse(line):
    head, *rest = line.split()
    d = {}
    for kv in rest:
        if "=" in kv:
            k, v = kv.split("=", 1)
            try:
                d[k] = float(v)
            except ValueError:
                d[k] = v
    return head, d


def med(v):
    return statistics.median(v) if v else float("nan")


def fmt(v):
    if not v:
        return "-"
    return "%.3f (%.3f-%.3f)" % (med(v), min(v), max(v))


def best(d):
    """The fastest round's step of a run (nnlua: min_ms; torch: best_ms)."""
    return d.get("min_ms", d.get("best_ms", d["step_ms"]))


def exposed(side, v):
    """Per run: the exposed gradient communication (median of rounds), the
    same in the fastest rounds, and nnlua's log reductions."""
    num = lambda d, k: [d[k]] if isinstance(d.get(k), float) else []
    if side == "nnlua":
        return ([x for d in v for x in num(d, "wait_ms")], [x for d in v for x in num(d, "best_wait_ms")],
                [x for d in v for x in num(d, "reduce_ms")])
    return ([x for d in v for x in num(d, "exposed_ms")], [x for d in v for x in num(d, "best_exposed_ms")], [])


def main(path):
    runs, micro, meta = {}, [], []
    for line in open(path):
        line = line.strip()
        if not line:
            continue
        head, d = parse(line)
        if head == "meta":
            meta.append(line)
        elif head == "nnlua-dist":
            key = ("nnlua", d["model"], int(d["ranks"]),
                   ("" if d["threads"] == 2 else "compute of a rank") if d["ranks"] == 1
                   else ("overlap" if d.get("overlap") == 1 else "no overlap")
                   + (", poll" if d.get("progress") == "poll" else ""))
            runs.setdefault(key, []).append(d)
        elif head == "torch-dist":
            b = d.get("bucket_kb")
            key = ("torch", d["model"], int(d["ranks"]),
                   "DDP" + ("" if b == "default" else " %d KB buckets" % b) if d["ranks"] > 1 else "")
            runs.setdefault(key, []).append(d)
        elif head.startswith(("mpi-", "torch-allreduce")):
            micro.append(line)
    for m in meta:
        print(m)
    models = sorted({k[1] for k in runs}, key=lambda s: (s != "mlp", s))
    for model in models:
        print("\n## %s (global batch 128)\n" % model)
        print("| run | ranks x batch x threads | step ms, median (min-max) | fastest round ms | exposed gradient comm ms | ... in fastest rounds | share | log reductions ms | speed-up vs 1 rank (fastest) |")
        print("|---|---|---|---|---|---|---|---|---|")
        base, bbase = {}, {}
        for side in ("nnlua", "torch"):
            one = runs.get((side, model, 1, ""), [])
            base[side] = med([d["step_ms"] for d in one])
            bbase[side] = min([best(d) for d in one] or [float("nan")])
        keys = sorted((k for k in runs if k[1] == model), key=lambda k: (k[0], k[2], k[3] not in ("", "overlap", "DDP"), k[3]))
        for k in keys:
            v = runs[k]
            d0 = v[0]
            step = [d["step_ms"] for d in v]
            fastest = min(best(d) for d in v)
            exp, bexp, red = exposed(k[0], v)
            share = "%.3f" % (med(exp) / med(step)) if exp else "-"
            su = ("%.2f (%.2f)" % (base[k[0]] / med(step), bbase[k[0]] / fastest) if k[2] > 1
                  else "1" if not k[3] else "-")
            print("| %s %s | %d x %d x %d | %s | %.3f | %s | %s | %s | %s | %s |"
                  % (k[0], k[3] or "1 rank", k[2], int(d0["batch"]), int(d0["threads"]),
                     fmt(step), fastest, fmt(exp), "%.3f" % med(bexp) if bexp else "-", share,
                     fmt(red), su))
        print()
        for suffix in ("", ", poll"):
            on = runs.get(("nnlua", model, 2, "overlap" + suffix), [])
            off = runs.get(("nnlua", model, 2, "no overlap" + suffix), [])
            if not (on and off):
                continue
            won, bon, _ = exposed("nnlua", on)
            woff, boff, _ = exposed("nnlua", off)
            if won and woff and med(woff) > 0:
                print("nnlua%s overlap achieved: 1 - %.3f / %.3f ms = %.2f; fastest rounds: 1 - %.3f / %.3f = %.2f"
                      " (buckets a step %s, KB a step %s)"
                      % (suffix, med(won), med(woff), 1 - med(won) / med(woff), med(bon), med(boff),
                         1 - med(bon) / med(boff), on[0].get("buckets_per_step"), on[0].get("kb_per_step")))
        for k in keys:
            if k[0] == "torch" and k[2] > 1:
                v = runs[k]
                ov = [d["overlap"] for d in v if d["overlap"] == d["overlap"]]  # not NaN
                be = med([d["best_exposed_ms"] for d in v if "best_exposed_ms" in d])
                bc = med([d["best_comm_ms"] for d in v if "best_comm_ms" in d])
                print("torch %s: overlap %s (median of runs; min-max %.2f-%.2f), fastest rounds 1 - %.3f / %.3f = %.2f;"
                      " no_sync step %s ms, serial-allreduce step %s ms, allreduce %s ms"
                      % (k[3], "%.2f" % med(ov), min(ov or [float("nan")]), max(ov or [float("nan")]),
                         be, bc, 1 - be / bc if bc == bc and bc > 0 else float("nan"),
                         fmt([d["nosync_ms"] for d in v]), fmt([d["serial_ms"] for d in v]),
                         fmt([d["comm_ms"] for d in v])))
        for r, lab in ((1, ""), (2, "overlap")):
            a = runs.get(("nnlua", model, r, lab if r > 1 else ""), [])
            b = runs.get(("torch", model, r, "DDP" if r > 1 else ""), [])
            if a and b:
                print("torch/nnlua step time at %d rank%s: %.2f (fastest rounds %.2f)"
                      % (r, "s" if r > 1 else "", med([d["step_ms"] for d in b]) / med([d["step_ms"] for d in a]),
                         min(best(d) for d in b) / min(best(d) for d in a)))
    if micro:
        print("\n## allreduce micro-benchmarks (2 ranks)\n")
        for line in micro:
            print(line)


if __name__ == "__main__":
    main(sys.argv[1])
