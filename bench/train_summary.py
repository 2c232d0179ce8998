# Summary of a bench/train.sh log: one markdown table per comparison, ready
# to paste into docs/performance.md.
#
# The log holds the result lines of bench/train.lua, train_torch.py,
# train_cnn.lua and train_cnn_torch.py as they print them, plus lines the
# driver adds: "round r=<i> load=<1-min load average> threads=<t>" before
# each thread count of a round, "meta key=value..." and "gemm <line of
# build/bench/gemm>" (the CNN's product shapes, ours only).
# Per comparison and thread count: median samples/s with min-max over the
# rounds, the ratio of the medians nnlua/PyTorch (above 1: nnlua faster)
# with the min-max of the per-round ratios (the two runs of a round ran
# back to back), the same per CPU-second of the timed region (samples / CPU
# time of the process: steadier than wall time when other jobs share the
# cores), and the median peak RSS of each side with their ratio
# (nnlua/PyTorch: below 1, nnlua uses less; the CNN's is the peak at the end
# of training, with the peak once the data were loaded in brackets).
# CNN: the FLOP-bound ceiling of each round = samples/s if every conv and
# dense product ran at the rate our GEMM measured on its shape in that
# round at that thread count (build/bench/gemm --conv --mlp: conv1 and
# conv2 im2col products for the conv layers, the 1600x128 and 128x10
# products for the dense layers; a bench/gemm without the 1600x128 shape
# has the MLP's 784x256 stand in for it, 8% of the FLOPs), and each side's
# samples/s as % of it.
# Usage: /usr/bin/python3 bench/train_summary.py LOG
import collections, re, statistics, sys

BS = 128
# FLOPs per batch of each product of the CNN (2 m n k) and the gemm shape
# whose measured rate it runs at ("a|b": a, or b when a bench/gemm has no
# a); their sum / 128 is train_flops_per_sample.
CNN_PRODUCTS = [
    (2 * BS * 26 * 26 * 32 * 9, "conv1 fwd"), (2 * BS * 26 * 26 * 32 * 9, "conv1 dW"),
    (2 * BS * 11 * 11 * 64 * 288, "conv2 fwd"), (2 * BS * 11 * 11 * 64 * 288, "conv2 dW"),
    (2 * BS * 11 * 11 * 64 * 288, "conv2 dX"),
    (2 * BS * 1600 * 128, "1600x128 fwd|784x256 fwd"), (2 * BS * 1600 * 128, "1600x128 dW|784x256 dW"),
    (2 * BS * 1600 * 128, "1600x128 dX|784x256 dX"),
    (2 * BS * 128 * 10, "128x10 fwd"), (2 * BS * 128 * 10, "128x10 dW"),
    (2 * BS * 128 * 10, "128x10 dX"),
]
GEMM_ROW = re.compile(r"^gemm (\S+)\s+(\d+)\s+(.+?)\s+\d+\s+\d+\s+\d+\s+([\d.]+)\s")
PEAK = re.compile(r"peak fp32 of one core at (\S+) .*: ([\d.]+) GFLOP/s")


def kv(line):
    return dict(x.split("=", 1) for x in line.split()[1:] if "=" in x)


def med(v):
    return statistics.median(v) if v else float("nan")


def span(v, fmt="%.0f"):
    if not v:
        return "-"
    return (fmt + " (" + fmt + "-" + fmt + ")") % (med(v), min(v), max(v))


def main(path):
    meta = {}
    rows = collections.defaultdict(list)  # (kind, side, t) -> [(round, kv)]
    gemm = collections.defaultdict(dict)  # (round, t) -> {shape prefix: GFLOP/s}
    peaks = collections.defaultdict(list)
    loads = []
    rnd, t = 0, 1
    for line in open(path):
        line = line.rstrip("\n")
        f = line.split()
        if not f:
            continue
        if f[0] == "meta":  # values have "_" for spaces
            meta.update({k: v.replace("_", " ") for k, v in kv(line).items()})
        elif f[0] == "round":
            d = kv(line)
            rnd, t = int(d["r"]), int(d["threads"])
            loads.append(float(d["load"]))
        elif f[0] == "gemm":
            m = GEMM_ROW.match(line)
            if m and int(m.group(2)) == t:
                gemm[(rnd, t)][m.group(3)] = float(m.group(4))
            p = PEAK.search(line)
            if p and p.group(1) == meta.get("isa"):
                peaks[t].append(float(p.group(2)))
        elif f[0] in ("nnlua", "torch", "nnlua-cnn", "torch-cnn") and "samples_per_s=" in line:
            kind = "cnn" if f[0].endswith("-cnn") else "mlp"
            side = "nnlua" if f[0].startswith("nnlua") else "torch"
            d = kv(line)
            rows[(kind, side, int(d["threads"]))].append((rnd, d))

    def rate_of(shapes, names):  # the first of "a|b" that was measured
        for name in names.split("|"):
            for k, v in shapes.items():
                if k.startswith(name):
                    return v
        return None

    print("Machine: %s, %s; nnlua %s (%s), torch %s; %s; %d rounds; load average "
          "(1 min) before each series %.1f-%.1f on %s CPUs."
          % (meta.get("cpu", "?"), meta.get("date", "?"), meta.get("nnlua", "?"),
             meta.get("isa", "?"), meta.get("torch", "?"), meta.get("build", "?"),
             int(meta.get("rounds", "0")), min(loads or [0]), max(loads or [0]),
             meta.get("ncpu", "?")))
    for t in sorted(peaks):
        print("Measured %s peak of one core (build/bench/gemm, in the %d-thread "
              "series): %s GFLOP/s." % (meta.get("isa"), t, span(peaks[t], "%.0f")))
    titles = {"mlp": "MLP 784-256-128-10, Adam, batch 128, one epoch of Fashion-MNIST "
                     "(bench/train.lua vs bench/train_torch.py)",
              "cnn": "Fashion-MNIST CNN, Adam, batch 128, %s images "
                     "(bench/train_cnn.lua vs bench/train_cnn_torch.py)" % meta.get("cnn_samples", "?")}
    for kind in ("mlp", "cnn"):
        ts = sorted({t for (k, s, t) in rows if k == kind})
        if not ts:
            continue
        print()
        print("#### " + titles[kind])
        print()
        print("| threads | nnlua samples/s | PyTorch samples/s | nnlua/PyTorch (rounds) "
              "| per CPU-second nnlua / PyTorch | ratio | peak RSS nnlua / PyTorch MB | ratio |")
        print("|---|---|---|---|---|---|---|---|")
        ceil_lines = []
        for t in ts:
            a = dict(rows.get((kind, "nnlua", t), []))
            b = dict(rows.get((kind, "torch", t), []))
            ra = [float(d["samples_per_s"]) for d in a.values()]
            rb = [float(d["samples_per_s"]) for d in b.values()]
            ca = [float(d["samples"]) / float(d["cpu_s"]) for d in a.values()]
            cb = [float(d["samples"]) / float(d["cpu_s"]) for d in b.values()]
            ma = [float(d["maxrss_kb"]) / 1024 for d in a.values()]
            mb = [float(d["maxrss_kb"]) / 1024 for d in b.values()]
            da = [float(d["rss_data_kb"]) / 1024 for d in a.values() if "rss_data_kb" in d]
            db = [float(d["rss_data_kb"]) / 1024 for d in b.values() if "rss_data_kb" in d]
            rss_data = " (data loaded: %.0f / %.0f)" % (med(da), med(db)) if da and db else ""
            pairs = [float(a[r]["samples_per_s"]) / float(b[r]["samples_per_s"])
                     for r in a if r in b]
            ratio = "%.2f (%.2f-%.2f)" % (med(ra) / med(rb), min(pairs), max(pairs)) if pairs else "-"
            print("| %d | %s | %s | %s | %s / %s | %.2f | %.0f / %.0f%s | %.2f |"
                  % (t, span(ra), span(rb), ratio, span(ca), span(cb),
                     med(ca) / med(cb) if ca and cb else float("nan"),
                     med(ma), med(mb), rss_data, med(ma) / med(mb) if ma and mb else float("nan")))
            if kind != "cnn":
                continue
            ceil, rates = [], []
            for r in sorted({r for (r, tt) in gemm if tt == t}):
                shapes = gemm[(r, t)]
                need = [(fl, rate_of(shapes, name)) for fl, name in CNN_PRODUCTS]
                if any(g is None for _, g in need):
                    continue
                secs = sum(fl / (g * 1e9) for fl, g in need)
                ceil.append(BS / secs)
                rates.append(sum(fl for fl, _ in need) / secs / 1e9)
            if ceil:
                c = med(ceil)
                # At 1 thread also the rate per CPU-second against it: the
                # GEMM's median batch sees the quiet moments, a long wall
                # clock run does not; CPU time leaves the waits out.
                cpu = ("%.0f%% / %.0f%%" % (100 * med(ca) / c, 100 * med(cb) / c)
                       if t == 1 and ca and cb else "-")
                ceil_lines.append("| %d | %s | %s | %.0f%% | %.0f%% | %s |"
                                  % (t, span(rates, "%.1f"), span(ceil),
                                     100 * med(ra) / c if ra else float("nan"),
                                     100 * med(rb) / c if rb else float("nan"), cpu))
        if ceil_lines:
            flops = sum(fl for fl, _ in CNN_PRODUCTS) / BS
            print()
            print("FLOP-bound ceiling: %.2f MFLOP per training sample (conv and dense products, "
                  "forward and backward) at the rate our GEMM measured on those shapes in the same "
                  "round (build/bench/gemm --conv --mlp --no-openblas):" % (flops / 1e6))
            print()
            print("| threads | GEMM on the CNN's products, GFLOP/s | ceiling samples/s "
                  "| nnlua % of ceiling | PyTorch % of ceiling | per CPU-second, nnlua / PyTorch |")
            print("|---|---|---|---|---|---|")
            for l in ceil_lines:
                print(l)


if __name__ == "__main__":
    main(sys.argv[1])
