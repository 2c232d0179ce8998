# Data-parallel peer of bench/dist.lua: PyTorch DistributedDataParallel
# (gloo backend, CPU) at 1 or [ranks] processes on this machine, on the
# Fashion-MNIST MLP of bench/train_torch.py and the CNN of
# bench/train_cnn_torch.py (same layers, Glorot weights, Adam eps 1e-7).
# The global batch is 128 (BENCH_GLOBAL_BATCH): each rank takes its
# 128/ranks rows of every batch of one shuffled order (the same seed on every
# rank, as nnlua's fit), with 2/ranks threads (BENCH_THREADS_TOTAL), so 1
# rank x batch 128 x 2 threads and 2 ranks x batch 64 x 1 thread use the
# same cores for the same work.
#
# What one step is: zero_grad, forward, loss, backward (which, under DDP,
# includes the wait for the gradient allreduce), optimizer step. Timed per
# step with perf_counter on rank 0 after BENCH_WARMUP (10) untimed steps of
# every variant; BENCH_ROUNDS (5) rounds of BENCH_BLOCK (MLP 20, CNN 10) steps of each
# variant in turn, so a burst of load hits them alike; the median over the
# rounds of a round's mean step time is printed (bench/dist.lua times its
# rounds of fit the same way: fit gives no per-step times). Variants at ranks > 1:
#   ddp     the DDP step (allreduce in buckets during backward, overlapped);
#   nosync  the same step under ddp.no_sync(): no communication at all, the
#           compute-only step (each rank then steps its own gradients, which
#           does not change the time);
#   serial  no_sync() and then one blocking dist.all_reduce of all gradients
#           flattened into one buffer after backward: the same communication
#           with no overlap (nnlua's NNLUA_DIST_OVERLAP=0).
# exposed = ddp - nosync is the communication the step pays; serial - nosync
# the whole allreduce; overlap = 1 - exposed / (serial - nosync) the share
# of it hidden behind backward; share = exposed / ddp. Why subtraction and
# not a comm hook timing launch to completion: a hook's interval also
# counts the time a rank waits for the slower rank to finish its backward
# (skew, not communication), and gloo runs completion callbacks on its own
# threads, so the interval overstates the cost; the difference of step
# times is what training actually pays.
# DDP's buckets: torch puts the first 1 MB (dist._DEFAULT_FIRST_BUCKET_BYTES)
# in one bucket and then 25 MB ones; both models' gradients (0.94 MB and
# 0.90 MB: 235,146 and 225,034 floats) fit in the first, so at the defaults DDP sends one bucket after
# the whole backward and cannot overlap. BENCH_DDP_BUCKET_KB=k sets both
# limits to k KB (e.g. 256, nnlua's bucket size) to measure the overlap
# DDP gets with several buckets; the line says which.
#
# Mode "allreduce": a micro-benchmark of dist.all_reduce (sum, float32) at
# [ranks] on sizes 1 KB .. 16 MB and the two gradient sizes, 1 thread per
# rank, median of BENCH_AR_REPS (30) after 5 warm-up calls, each call
# started together (barrier), and a weighted least-squares fit (relative
# error) of t(S) = 2(N-1) alpha + 2(N-1)/N S beta, the ring allreduce cost
# of docs/scaling.md.
#
# Prints one line per (model, ranks) (and per size in mode allreduce):
#   torch-dist model=<mlp|cnn> ranks=<n> threads=<t> batch=<b> global_batch=<g> params=<p> bucket_kb=<default|k> steps=<s> step_ms=<m> [nosync_ms= serial_ms= exposed_ms= comm_ms= overlap= share=] best_ms=<fastest round> [best_nosync_ms= best_serial_ms= best_exposed_ms= best_comm_ms=] loss=<l>
#   torch-allreduce ranks=<n> floats=<f> bytes=<B> ms=<median> min_ms=<a> max_ms=<b>
#   torch-allreduce-fit ranks=<n> alpha_us=<a> beta_ns_per_byte=<b> gbytes_per_s=<1/b>
# Usage: /usr/bin/python3 bench/dist_torch.py [ranks] [mlp|cnn|all|allreduce]
import gzip, os, socket, statistics, sys, time

# Same allocator advice as bench/train_torch.py (see there); the re-exec
# happens once, before the ranks are spawned, so they inherit it.
MALLOC_TUNABLES = "glibc.malloc.mmap_threshold=67108864:glibc.malloc.trim_threshold=1073741824"
if os.environ.get("BENCH_MALLOC_DEFAULT") != "1" and "GLIBC_TUNABLES" not in os.environ:
    os.environ["GLIBC_TUNABLES"] = MALLOC_TUNABLES
    os.execv(sys.executable, [sys.executable] + sys.argv)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as tnn
from threadpoolctl import threadpool_limits

GLOBAL = int(os.environ.get("BENCH_GLOBAL_BATCH", "128"))
TOTAL_THREADS = int(os.environ.get("BENCH_THREADS_TOTAL", "2"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
BLOCK = os.environ.get("BENCH_BLOCK")  # default: 20 steps for the MLP, 10 for the CNN
BUCKET_KB = os.environ.get("BENCH_DDP_BUCKET_KB", "")
AR_REPS = int(os.environ.get("BENCH_AR_REPS", "30"))


def idx(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(cnn):
    d = os.environ.get("NNLUA_DATA", "/usr/share/datasets/fashion-mnist")
    try:
        xi = idx(os.path.join(d, "train-images-idx3-ubyte.gz"))
        yi = idx(os.path.join(d, "train-labels-idx1-ubyte.gz"))
        x = torch.from_numpy(xi.astype(np.float32) / 255.0)
        y = torch.from_numpy(yi.astype(np.int64))
    except OSError:
        x = torch.rand(60000, 28, 28)
        y = torch.randint(0, 10, (60000,))
    if cnn:
        x = x.view(len(x), 1, 28, 28).contiguous(memory_format=torch.channels_last)
    else:
        x = x.reshape(len(x), 784)
    return x, y


def glorot(m):
    if isinstance(m, (tnn.Conv2d, tnn.Linear)):
        tnn.init.xavier_uniform_(m.weight)
        tnn.init.zeros_(m.bias)


def build(cnn):
    if cnn:
        m = tnn.Sequential(
            tnn.Conv2d(1, 32, 3), tnn.ReLU(), tnn.MaxPool2d(2),
            tnn.Conv2d(32, 64, 3), tnn.ReLU(), tnn.MaxPool2d(2),
            tnn.Flatten(), tnn.Linear(1600, 128), tnn.ReLU(), tnn.Linear(128, 10))
    else:
        m = tnn.Sequential(tnn.Linear(784, 256), tnn.ReLU(), tnn.Linear(256, 128),
                           tnn.ReLU(), tnn.Linear(128, 10))
    m.apply(glorot)
    if cnn:  # oneDNN's NHWC kernels, as bench/train_cnn_torch.py
        m = m.to(memory_format=torch.channels_last)
    return m


def init(rank, ranks, port, threads):
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    torch.set_num_threads(threads)
    limits = threadpool_limits(limits=threads, user_api="blas")
    dist.init_process_group("gloo", rank=rank, world_size=ranks)
    return limits


def train(rank, ranks, port, model_name):
    threads = max(1, TOTAL_THREADS // ranks)
    _limits = init(rank, ranks, port, threads)
    cnn = model_name == "cnn"
    torch.manual_seed(1)  # the same weights and order on every rank
    x, y = load(cnn)
    net = build(cnn)
    params = sum(p.numel() for p in net.parameters())
    b = GLOBAL // ranks
    lossf = tnn.CrossEntropyLoss()
    if ranks > 1:
        kw = {}
        if BUCKET_KB:
            dist._DEFAULT_FIRST_BUCKET_BYTES = int(BUCKET_KB) * 1024
            kw["bucket_cap_mb"] = int(BUCKET_KB) / 1024.0
        model = tnn.parallel.DistributedDataParallel(net, **kw)
    else:
        model = net
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    perm = torch.randperm(len(x))
    pos = [0]

    def batch():
        i = pos[0]
        if i + GLOBAL > len(x):
            i = 0
        pos[0] = i + GLOBAL
        ix = perm[i + rank * b:i + (rank + 1) * b]
        return x[ix], y[ix]

    def step_plain(xb, yb):
        opt.zero_grad(set_to_none=True)
        loss = lossf(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    def step_nosync(xb, yb):
        opt.zero_grad(set_to_none=True)
        with model.no_sync():
            loss = lossf(model(xb), yb)
            loss.backward()
        opt.step()
        return loss

    grads = [p for p in model.parameters()]

    def step_serial(xb, yb):
        opt.zero_grad(set_to_none=True)
        with model.no_sync():
            loss = lossf(model(xb), yb)
            loss.backward()
        flat = torch.cat([p.grad.reshape(-1) for p in grads])
        dist.all_reduce(flat)
        flat /= ranks
        o = 0
        for p in grads:
            n = p.grad.numel()
            p.grad.copy_(flat[o:o + n].view_as(p.grad))
            o += n
        opt.step()
        return loss

    block = int(BLOCK) if BLOCK else (10 if cnn else 20)
    variants = [("step", step_plain)]
    if ranks > 1:
        variants += [("nosync", step_nosync), ("serial", step_serial)]
    times = {k: [] for k, _ in variants}
    loss = None
    for _, f in variants:
        for _ in range(WARMUP):
            f(*batch())
    for _ in range(ROUNDS):
        for k, f in variants:
            if ranks > 1:
                dist.barrier()
            spent = 0.0
            for _ in range(block):
                xb, yb = batch()
                t0 = time.perf_counter()
                loss = f(xb, yb)
                spent += time.perf_counter() - t0
            times[k].append(spent / block)
    if ranks > 1:
        dist.barrier()
    if rank == 0:
        ms = {k: 1e3 * statistics.median(v) for k, v in times.items()}
        line = ("torch-dist model=%s ranks=%d threads=%d batch=%d global_batch=%d params=%d "
                "bucket_kb=%s steps=%d step_ms=%.3f"
                % (model_name, ranks, threads, b, GLOBAL, params, BUCKET_KB or "default",
                   ROUNDS * block, ms["step"]))
        if ranks > 1:
            exposed = ms["step"] - ms["nosync"]
            comm = ms["serial"] - ms["nosync"]
            overlap = 1 - exposed / comm if comm > 0 else float("nan")
            line += (" nosync_ms=%.3f serial_ms=%.3f exposed_ms=%.3f comm_ms=%.3f overlap=%.3f share=%.3f"
                     % (ms["nosync"], ms["serial"], exposed, comm, overlap, exposed / ms["step"]))
            # The fastest round of each variant: load from other jobs only
            # adds time, so these are the closest to undisturbed ones.
            b = {k: 1e3 * min(v) for k, v in times.items()}
            line += (" best_ms=%.3f best_nosync_ms=%.3f best_serial_ms=%.3f best_exposed_ms=%.3f best_comm_ms=%.3f"
                     % (b["step"], b["nosync"], b["serial"], b["step"] - b["nosync"],
                        b["serial"] - b["nosync"]))
        else:
            line += " best_ms=%.3f" % (1e3 * min(times["step"]))
        print(line + " loss=%.4f" % loss.item(), flush=True)
    # No destroy_process_group(): a rank hung in it once, after its last
    # collective, and held mp.spawn's join; the process exit ends the group.


def grad_sizes():
    return [("mlp", sum(p.numel() for p in build(False).parameters())),
            ("cnn", sum(p.numel() for p in build(True).parameters()))]


def allreduce(rank, ranks, port, _):
    _limits = init(rank, ranks, port, 1)
    sizes = [256 * 4 ** k for k in range(8)]  # floats: 1 KB .. 16 MB
    named = grad_sizes()
    sizes += [n for _, n in named]
    fit = []
    for n in sizes:
        t = torch.ones(n)
        for _ in range(5):
            dist.all_reduce(t)
        ts = []
        for _ in range(AR_REPS if n <= 1 << 20 else max(5, AR_REPS // 3)):
            dist.barrier()
            t0 = time.perf_counter()
            dist.all_reduce(t)
            ts.append(time.perf_counter() - t0)
        med = statistics.median(ts)
        if rank == 0:
            name = [k for k, v in named if v == n]
            print("torch-allreduce ranks=%d floats=%d bytes=%d ms=%.4f min_ms=%.4f max_ms=%.4f%s"
                  % (ranks, n, 4 * n, 1e3 * med, 1e3 * min(ts), 1e3 * max(ts),
                     " grad=" + name[0] if name else ""), flush=True)
        fit.append((4 * n, med))
    if rank == 0 and ranks > 1:
        # t = a * 2(N-1) + beta * 2(N-1)/N * S, minimising relative error.
        A = np.array([[2 * (ranks - 1), 2 * (ranks - 1) / ranks * s] for s, _ in fit])
        t = np.array([m for _, m in fit])
        w = 1 / t
        (alpha, beta), *_ = np.linalg.lstsq(A * w[:, None], t * w, rcond=None)
        print("torch-allreduce-fit ranks=%d alpha_us=%.2f beta_ns_per_byte=%.4f gbytes_per_s=%.2f"
              % (ranks, alpha * 1e6, beta * 1e9, 1e-9 / beta if beta > 0 else float("nan")),
              flush=True)
    # No destroy_process_group(): a rank hung in it once, after its last
    # collective, and held mp.spawn's join; the process exit ends the group.


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ranks = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    what = sys.argv[2] if len(sys.argv) > 2 else "all"
    if what == "allreduce":
        jobs = [(allreduce, None)]
    elif what in ("mlp", "cnn", "all"):
        jobs = [(train, m) for m in (("mlp", "cnn") if what == "all" else (what,))]
    else:
        sys.exit("dist_torch.py: mlp, cnn, all or allreduce, not '%s'" % what)
    for fn, arg in jobs:
        mp.spawn(fn, args=(ranks, free_port(), arg), nprocs=ranks, join=True)


if __name__ == "__main__":
    main()
