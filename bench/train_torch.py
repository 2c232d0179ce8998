# Training throughput of PyTorch for the same network as bench/train.lua,
# with PyTorch at its best on this machine (see docs/performance.md, "Fair
# peers", for the measurements behind each choice):
#   MLP 784-256-128-10 (relu, relu; softmax folded into CrossEntropyLoss,
#   as nnlua fuses softmax + cross-entropy), Glorot-uniform weights and zero
#   biases as Keras, Adam (eps 1e-7 as Keras), batch 128, shuffled, over
#   Fashion-MNIST's training set read from the same idx files (random data
#   of the same shape when they are missing).
# Threads: torch.set_num_threads(n) for its OpenMP pool, threadpoolctl for
# the OpenBLAS (pthreads build) that Debian's torch calls for Linear, and
# OMP_WAIT_POLICY=PASSIVE (set here before torch loads libgomp; an
# environment value wins): with 2 threads, spinning OpenMP workers and
# OpenBLAS's threads fight over the 2 cores.
# The loop is the plain one (zero_grad(set_to_none), forward, loss,
# backward, step): no .item() or argmax per batch. BENCH_METRICS=accuracy
# adds the per-batch accuracy that nnlua's fit computes with
# metrics = {"accuracy"} (bench/train.lua does the same on its side), kept
# as a tensor so it adds no synchronisation.
# Timed: the epochs after BENCH_WARMUP (default 1) untimed warm-up epochs,
# so the first-step costs (Adam's state, allocator, thread start-up) are
# outside the timed region on both sides. Data loading, conversion and model
# construction are outside it too. The loss printed is that of the whole
# training set after training (no_grad, outside the timed region), for a
# sanity check against nnlua's.
# BENCH_FLUSH_DENORMAL=1 makes PyTorch flush denormals (nnlua does not).
# BENCH_BLAS_THREADS=k gives OpenBLAS k threads instead of n (to measure).
# BENCH_OMP_DEFAULT=1 leaves OMP_WAIT_POLICY unset (libgomp's default spin),
# to measure what PASSIVE gains.
# Prints: torch threads=<n> data=<...> samples=<N> seconds=<s> samples_per_s=<r> cpu_s=<c> loss=<l> maxrss_kb=<k>
# (seconds: wall time of the timed epochs; cpu_s: the process's CPU time in
# them, all threads, which a loaded machine disturbs less at 1 thread).
# Usage: /usr/bin/python3 bench/train_torch.py [threads] [epochs]
import gzip, os, resource, sys, time

# glibc's malloc returns the large blocks torch frees after every batch to
# the kernel (mmap/munmap, heap trim) and takes them back with page faults
# on the next batch: about 370 faults a batch on the MLP. Fixed mmap and
# trim thresholds keep them in the heap (the allocator advice of PyTorch's
# CPU tuning guide, without another allocator). Tunables are read when the
# process starts, so the script re-executes itself once with them;
# BENCH_MALLOC_DEFAULT=1 keeps glibc's defaults (to measure).
MALLOC_TUNABLES = "glibc.malloc.mmap_threshold=67108864:glibc.malloc.trim_threshold=1073741824"
if os.environ.get("BENCH_MALLOC_DEFAULT") != "1" and "GLIBC_TUNABLES" not in os.environ:
    os.environ["GLIBC_TUNABLES"] = MALLOC_TUNABLES
    os.execv(sys.executable, [sys.executable] + sys.argv)
if os.environ.get("BENCH_OMP_DEFAULT") == "1":
    os.environ.pop("OMP_WAIT_POLICY", None)
else:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import numpy as np
import torch
import torch.nn as tnn
from threadpoolctl import threadpool_limits

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 1
warmup = int(os.environ.get("BENCH_WARMUP", "1"))
accuracy = os.environ.get("BENCH_METRICS", "") == "accuracy"
torch.set_num_threads(threads)
blas = threadpool_limits(limits=int(os.environ.get("BENCH_BLAS_THREADS", threads)),
                         user_api="blas")
torch.manual_seed(1)
if os.environ.get("BENCH_FLUSH_DENORMAL") == "1":
    torch.set_flush_denormal(True)


def idx(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


d = os.environ.get("NNLUA_DATA", "/usr/share/datasets/fashion-mnist")
try:
    xi = idx(os.path.join(d, "train-images-idx3-ubyte.gz"))
    yi = idx(os.path.join(d, "train-labels-idx1-ubyte.gz"))
    x = torch.tensor(xi.reshape(len(xi), 784).astype(np.float32) / 255.0)
    y = torch.tensor(yi.astype(np.int64))
    source = "fashion"
except OSError:
    x = torch.rand(60000, 784)
    y = torch.randint(0, 10, (60000,))
    source = "random"

layers = []
for a, b in ((784, 256), (256, 128), (128, 10)):
    l = tnn.Linear(a, b)
    tnn.init.xavier_uniform_(l.weight)
    tnn.init.zeros_(l.bias)
    layers += [l, tnn.ReLU()]
model = tnn.Sequential(*layers[:-1])
opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
lossf = tnn.CrossEntropyLoss()
n = len(x)
correct = torch.zeros((), dtype=torch.int64)


def epoch():
    global correct
    perm = torch.randperm(n)
    for i in range(0, n, 128):
        ix = perm[i:i + 128]
        xb, yb = x[ix], y[ix]
        opt.zero_grad(set_to_none=True)
        out = model(xb)
        loss = lossf(out, yb)
        loss.backward()
        opt.step()
        if accuracy:
            correct += (out.detach().argmax(1) == yb).sum()


for _ in range(warmup):
    epoch()
t0, c0 = time.perf_counter(), time.process_time()
for _ in range(epochs):
    epoch()
secs, cpu = time.perf_counter() - t0, time.process_time() - c0
with torch.no_grad():
    final = lossf(model(x), y).item()
print("torch threads=%d data=%s samples=%d seconds=%.3f samples_per_s=%.0f cpu_s=%.3f loss=%.4f maxrss_kb=%d"
      % (threads, source, n * epochs, secs, n * epochs / secs, cpu, final,
         resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
