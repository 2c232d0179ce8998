# docs/scaling.md's model of a data-parallel training step, as a program:
#   T(N) = T_compute(b) + T_exposed(N)
# with the gradients summed by a ring allreduce in the buckets nnlua makes
# (src/model/grad_sync.c: an array of at least 8192 floats is its own bucket,
# started as soon as its layer's backward is done; smaller ones are staged
# and go together at the end), one bucket at a time on the wire, a bucket of
# S bytes over N ranks costing
#   t(S) = 2 (N - 1) alpha + 2 (N - 1) / N * S / bandwidth.
# A bucket starts when its layer's backward pass is done (overlap) or when
# the whole backward is (no overlap, NNLUA_DIST_OVERLAP=0); the exposed time
# is how far the last bucket ends after the backward pass; fit's two small
# blocking reductions a step add 2 log2(N) alpha. The timeline of a
# step (forward, each layer's backward, optimizer) is the share of each part
# in the compute step, from bench/cnn_layers for the CNN and from the FLOPs of
# each product for the MLP (see LAYERS).
# Modes:
#   predict: the table of T, speed-up (N T(1) / T(N) in samples/s, per-rank
#     batch fixed) and efficiency for the ranks of --ranks, on a network of
#     --gbit Gb/s at --efficiency of line rate, --alpha-us latency.
#   check LOG: with the constants fitted on this machine (the
#     mpi-allreduce-fit and mpi-iallreduce lines of a bench/dist.sh log) and
#     the compute of one rank's batch alone (nnlua, 1 process, batch 64, 1
#     thread, from the same log), the 2-rank step it predicts (exposed time
#     with and without overlap, log reductions) against the measured one,
#     for the median rounds and for the fastest ones.
# Usage: python3 bench/scaling_model.py predict [--gbit 25] [--alpha-us 25]
#          [--efficiency 0.9] [--ranks 1,2,8,64,512] [--algo ring|rd] [--mlp-ms T] [--cnn-ms T]
#        python3 bench/scaling_model.py check LOG
import argparse, math, statistics, sys

# Per model, the compute step in order: (part, share of the step, floats of
# the buckets that part makes ready). Shares: MLP by the FLOPs of its
# products per sample (forward 2 x 234752; backward of Dense(10) and
# Dense(128) dW + dX, of Dense(256) dW only, its dX unused); CNN from
# `build/bench/cnn_layers --threads 1` (batch 128, 26.06 ms a step: forward
# 9.19, Dense bwd 0.025 + 1.772, Flatten + pool bwd 0.421, Conv2D(64) bwd
# 10.36, Conv2D(32) bwd 4.03, loss + optimizer + gather 0.33).
BIG = 8192
MLP_FLOPS = [("forward", 469504), ("Dense(10) bwd", 5120), ("Dense(128) bwd", 131072),
             ("Dense(256) bwd", 401408)]
LAYERS = {
    "mlp": {
        "params": [("Dense(10) bwd", [1280, 10]), ("Dense(128) bwd", [32768, 128]),
                   ("Dense(256) bwd", [200704, 256])],
        "parts": [(n, f / sum(f for _, f in MLP_FLOPS)) for n, f in MLP_FLOPS] + [("optimizer", 0.0)],
    },
    "cnn": {
        "params": [("Dense(10) bwd", [1280, 10]), ("Dense(128) bwd", [204800, 128]),
                   ("Conv2D(64) bwd", [18432, 64]), ("Conv2D(32) bwd", [288, 32])],
        "parts": [(n, t / 26.06) for n, t in [("forward", 9.19), ("Dense(10) bwd", 0.025),
                                               ("Dense(128) bwd", 1.772), ("pool bwd", 0.421),
                                               ("Conv2D(64) bwd", 10.359), ("Conv2D(32) bwd", 4.031),
                                               ("optimizer", 0.33)]],
    },
}


# fit's blocking reductions a step (the logs' totals, the stop decision):
# a few doubles each, latency only; MPI sums so few bytes by recursive
# doubling, log2 N steps, whatever it does for the buckets.
LOG_REDUCTIONS = 2


def floats(model):
    return sum(sum(a) for _, a in LAYERS[model]["params"])


def steps(n, algo):
    """Latency terms of one allreduce over n ranks: a ring's 2 (n - 1)
    neighbour steps, or Rabenseifner's reduce-scatter + allgather by
    recursive halving and doubling, 2 log2 n (same bandwidth term)."""
    return 2 * (n - 1) if algo == "ring" else 2 * math.ceil(math.log2(n))


def exposed(model, tc, n, alpha, bw, overlap=True, nbc=1.0, algo="ring"):
    """Seconds the step waits after its backward pass for its buckets:
    tc the compute step (s), n ranks, alpha (s), bw (bytes/s), nbc the
    nonblocking allreduce's cost over the blocking one's."""
    if n <= 1:
        return 0.0, 0, 0.0
    spec = LAYERS[model]
    ready = {}
    t = 0.0
    for part, share in spec["parts"]:
        t += share * tc
        ready[part] = t
    bwd_end = ready[[p for p, _ in spec["parts"] if p != "optimizer"][-1]]
    buckets, staged = [], 0
    for part, arrays in spec["params"]:
        for a in arrays:
            if a >= BIG:
                buckets.append((ready[part] if overlap else bwd_end, a))
            else:
                staged += a
    buckets.append((bwd_end, staged))

    def cost(f):
        return nbc * (steps(n, algo) * alpha + 2 * (n - 1) / n * 4 * f / bw)

    wire = 0.0
    for start, f in buckets:
        wire = max(wire, start) + cost(f)
    return max(0.0, wire - bwd_end), len(buckets), cost(floats(model)) / nbc


def step_ms_fields(path):
    out = {"fit": None, "nbc": {}, "nnlua": {}}
    for line in open(path):
        w = line.split()
        if not w:
            continue
        d = dict(kv.split("=", 1) for kv in w[1:] if "=" in kv)
        if w[0] == "mpi-allreduce-fit":
            out["fit"] = (float(d["alpha_us"]) * 1e-6, 1e9 / float(d["beta_ns_per_byte"]))
        elif w[0] == "mpi-iallreduce" and float(d["compute_ms"]) == 0:
            out["nbc"][d["grad"]] = float(d["wait_ms"]) / float(d["blocking_ms"])
        elif w[0] == "nnlua-dist" and d["ranks"] == "2" and d.get("wait_ms", "-") != "-":
            mode = d["overlap"] + ("poll" if d.get("progress") == "poll" else "")
            out["nnlua"].setdefault((d["model"], mode), []).append(d)
        elif w[0] == "nnlua-dist" and d["ranks"] == "1" and d["threads"] == "1":
            out["nnlua"].setdefault((d["model"], "alone"), []).append(d)
    return out


def check(path):
    f = step_ms_fields(path)
    if not f["fit"]:
        sys.exit("scaling_model.py: no mpi-allreduce-fit line in %s" % path)
    alpha, bw = f["fit"]
    print("fitted on this machine: alpha %.2f us, bandwidth %.2f GB/s (Open MPI, 2 ranks, shared memory)"
          % (alpha * 1e6, bw / 1e9))
    med = statistics.median
    # The nonblocking call's cost over the blocking one's, the median of the
    # gradient sizes' (both near 0.9 MB; one measurement of each is noisy).
    nbc = statistics.median(f["nbc"].values()) if f["nbc"] else 1.0
    for model in ("mlp", "cnn"):
        alone = f["nnlua"].get((model, "alone"), [])
        for prog in ("", "poll"):
            check_model(f, model, prog, alone, alpha, bw, nbc)


def check_model(f, model, prog, alone, alpha, bw, nbc):
    """check's lines for one model and progress mode ("" the progress
    thread, "poll" NNLUA_DIST_PROGRESS=poll)."""
    med = statistics.median
    if True:
        on = f["nnlua"].get((model, "1" + prog), [])
        off = f["nnlua"].get((model, "0" + prog), [])
        if not on:
            return
        # Medians of the runs' medians, and of the runs' fastest rounds.
        for label, sk, wk, rk in (("median rounds", "step_ms", "wait_ms", "reduce_ms"),
                                  ("fastest rounds", "min_ms", "best_wait_ms", "best_reduce_ms")):
            if any(wk not in d for d in on) or not alone:
                continue
            step = med([float(d[sk]) for d in on])
            wait_on = med([float(d[wk]) for d in on])
            red = med([float(d[rk]) for d in on])
            tc = med([float(d[sk]) for d in alone]) / 1e3  # one rank's batch, alone
            e_on, nb, full = exposed(model, tc, 2, alpha, bw, True, nbc)
            e_off, _, _ = exposed(model, tc, 2, alpha, bw, False, nbc)
            logs = LOG_REDUCTIONS * 1 * alpha  # log2 2 = 1 step each
            line = ("%s%s, %s: compute %.3f ms (a rank's batch alone), %d buckets, one blocking allreduce of "
                    "all %.3f ms, nonblocking factor %.2f; PREDICTED exposed %.3f ms with overlap, %.3f "
                    "without, log reductions %.3f, step %.3f; MEASURED exposed %.3f"
                    % (model, " (progress poll)" if prog else "", label, tc * 1e3, nb, full * 1e3, nbc, e_on * 1e3, e_off * 1e3,
                       logs * 1e3, (tc + e_on + logs) * 1e3, wait_on))
            if off and all(wk in d for d in off):
                line += ", %.3f without" % med([float(d[wk]) for d in off])
            print(line + ", log reductions %.3f, step %.3f (its compute: %.3f)"
                  % (red, step, step - wait_on - red))


def predict(a):
    bw = a.gbit * 1e9 / 8 * a.efficiency
    alpha = a.alpha_us * 1e-6
    print("network: %g Gb/s at %.0f%% of line rate = %.2f GB/s, latency alpha %g us a ring step; "
          "per-rank batch fixed (weak scaling); PREDICTIONS, not measurements"
          % (a.gbit, 100 * a.efficiency, bw / 1e9, a.alpha_us))
    print("allreduce: %s" % ("ring, 2 (N - 1) latency steps" if a.algo == "ring"
                              else "recursive halving/doubling, 2 log2 N latency steps"))
    print("| model | ranks | compute ms | one allreduce of all gradients ms | buckets | exposed ms | log reductions ms | step ms | speed-up | efficiency |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for model, tc_ms in (("mlp", a.mlp_ms), ("cnn", a.cnn_ms)):
        tc = tc_ms / 1e3
        for n in [int(r) for r in a.ranks.split(",")]:
            e, nb, full = exposed(model, tc, n, alpha, bw, True, 1.0, a.algo)
            logs = LOG_REDUCTIONS * math.ceil(math.log2(n)) * alpha if n > 1 else 0.0
            t = tc + e + logs
            print("| %s | %d | %.2f | %.2f | %d | %.2f | %.2f | %.2f | %.1f | %.0f%% |"
                  % (model, n, tc_ms, full * 1e3, nb, e * 1e3, logs * 1e3, t * 1e3, n * tc / t,
                     100 * tc / t))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["predict", "check"])
    p.add_argument("log", nargs="?")
    p.add_argument("--gbit", type=float, default=25)
    p.add_argument("--efficiency", type=float, default=0.9)
    p.add_argument("--alpha-us", type=float, default=25)
    p.add_argument("--ranks", default="1,2,8,64,512")
    p.add_argument("--algo", choices=["ring", "rd"], default="ring")
    p.add_argument("--mlp-ms", type=float, default=1.1)
    p.add_argument("--cnn-ms", type=float, default=13.0)
    a = p.parse_args()
    if a.mode == "check":
        if not a.log:
            sys.exit("scaling_model.py check LOG")
        check(a.log)
    else:
        predict(a)


if __name__ == "__main__":
    main()
