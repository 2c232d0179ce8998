# The PyTorch peer of bench/conv: torch.nn.functional.conv2d on the
# Fashion-MNIST CNN's two convolutions at batch 128 (conv1: 32 3x3 filters
# on 28x28x1, conv2: 64 3x3 filters on 13x13x32), forward and backward
# (dW and db, and dx for conv2 only, as in a network where conv1 is the
# first layer), timed like bench/conv: the median of REPS calls after two
# warm-up calls, with the min and max. The backward is timed alone: each
# repetition runs a forward first (untimed), then torch.autograd.grad.
#
# PyTorch at its best here: torch.set_num_threads(threads), threadpoolctl
# limiting its BLAS to the same count, OMP_WAIT_POLICY=PASSIVE in the
# environment at 2 threads (bench/conv.sh sets it: without it idle OpenMP
# threads spin and, on 2 shared cores, ran several times slower), and the
# faster of NCHW and channels_last memory formats (--format picks one).
#
# Prints the same lines as bench/conv with who = torch-<format>.
# Usage: /usr/bin/python3 bench/conv_torch.py [threads] [reps] [--format nchw|nhwc|both]
import sys
import time

import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_limits

args = [a for a in sys.argv[1:] if not a.startswith("--")]
threads = int(args[0]) if args else 1
reps = int(args[1]) if len(args) > 1 else 21
fmt = "both"
if "--format" in sys.argv:
    fmt = sys.argv[sys.argv.index("--format") + 1]
torch.set_num_threads(threads)
torch.manual_seed(7)

LAYERS = [("conv1", 28, 28, 1, 32, 0), ("conv2", 13, 13, 32, 64, 1)]
BATCH = 128


def timed(fn, pre=None):
    """Median, min, max seconds of fn over reps calls (pre runs untimed)."""
    t = []
    for r in range(reps + 2):
        if pre:
            pre()
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        if r >= 2:
            t.append(dt)
    t.sort()
    med = t[len(t) // 2] if len(t) % 2 else 0.5 * (t[len(t) // 2 - 1] + t[len(t) // 2])
    return med, t[0], t[-1]


def report(who, name, op, res, flops):
    med, lo, hi = res
    print("%s threads=%d layer=%s op=%s ms=%.4f min=%.4f max=%.4f gflops=%.2f" %
          (who, threads, name, op, med * 1e3, lo * 1e3, hi * 1e3, flops / med * 1e-9),
          flush=True)


def run(memfmt, tag):
    for name, h, w, cin, cout, need_dx in LAYERS:
        x = torch.rand(BATCH, cin, h, w).contiguous(memory_format=memfmt)
        wt = (torch.rand(cout, cin, 3, 3) - 0.5).contiguous(memory_format=memfmt)
        b = torch.rand(cout) - 0.5
        oh, ow = h - 2, w - 2
        flops = 2.0 * BATCH * oh * ow * 9 * cin * cout
        with torch.no_grad():
            report(tag, name, "fwd", timed(lambda: F.conv2d(x, wt, b)), flops)
        xg = x.clone().requires_grad_(bool(need_dx))
        wg = wt.clone().requires_grad_(True)
        bg = b.clone().requires_grad_(True)
        dy = (torch.rand(BATCH, cout, oh, ow) - 0.5).contiguous(memory_format=memfmt)
        inputs = [wg, bg] + ([xg] if need_dx else [])
        state = {}

        def forward():
            state["y"] = F.conv2d(xg, wg, bg)

        def backward():
            torch.autograd.grad(state["y"], inputs, dy)

        report(tag, name, "bwd", timed(backward, forward), flops * (2 if need_dx else 1))


with threadpool_limits(limits=threads):
    if fmt in ("nchw", "both"):
        run(torch.contiguous_format, "torch-nchw")
    if fmt in ("nhwc", "both"):
        run(torch.channels_last, "torch-nhwc")
