# Training throughput and peak memory of PyTorch on the Fashion-MNIST CNN of
# issue 12, the peer of bench/train_cnn.lua:
#   Conv2D(32, 3, relu) -> MaxPool 2 -> Conv2D(64, 3, relu) -> MaxPool 2 ->
#   Flatten -> Dense(128, relu) -> Dense(10) (softmax folded into
#   CrossEntropyLoss, as nnlua fuses softmax + cross-entropy),
# Glorot-uniform weights and zero biases (Keras's defaults), Adam (eps 1e-7
# as Keras), batch 128, shuffled. The data are nnlua's layout, channels
# last {n, 28, 28, 1}, converted once to the NCHW {n, 1, 28, 28} that
# torch's conv2d API expects, outside the timed region (random data of that
# shape when Fashion-MNIST is not installed). Torch's Flatten then
# flattens (c, h, w) where nnlua flattens (h, w, c): the same work.
# Fairness settings as bench/train_torch.py (docs/performance.md, "Fair
# peers"): torch.set_num_threads(n), threadpoolctl limits OpenBLAS to n
# threads, OMP_WAIT_POLICY=PASSIVE (set before torch loads libgomp), a
# plain loop (zero_grad(set_to_none), forward, loss, backward, step; no
# .item() or argmax per batch), BENCH_WARMUP (default 10) untimed warm-up
# batches, then one timed pass over the first [samples] training images.
# BENCH_FLUSH_DENORMAL=1 flushes denormals; BENCH_CHANNELS_LAST=0 keeps
# NCHW memory format instead of torch's channels-last one (the default).
# Prints (the line format bench/train.sh parses):
#   torch-cnn threads=<n> data=<...> format=<nhwc|nchw> samples=<N> seconds=<s> samples_per_s=<r> cpu_s=<c> loss=<l> maxrss_kb=<k> rss_data_kb=<k> rss_eval_kb=<k> train_flops_per_sample=<f>
# maxrss_kb is getrusage's ru_maxrss at the end of training, before the
# untimed evaluation of the loss (peak resident set of the process,
# interpreter and libraries included); rss_data_kb the same peak once the
# data are loaded, before the model exists; rss_eval_kb the peak at the
# end, evaluation (batches of 1024) included. The FLOPs count the
# conv and dense products only (see train_flops below).
# Usage: /usr/bin/python3 bench/train_cnn_torch.py [threads] [samples]
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
samples = int(sys.argv[2]) if len(sys.argv) > 2 else 12800
warmup = int(os.environ.get("BENCH_WARMUP", "10"))
torch.set_num_threads(threads)
blas = threadpool_limits(limits=int(os.environ.get("BENCH_BLAS_THREADS", threads)),
                         user_api="blas")
torch.manual_seed(1)
if os.environ.get("BENCH_FLUSH_DENORMAL") == "1":
    torch.set_flush_denormal(True)
BS = 128


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
    nhwc = torch.from_numpy(xi.copy()).view(len(xi), 28, 28, 1)  # uint8
    del xi
    y = torch.tensor(yi.astype(np.int64))
    source = "fashion"
except OSError:
    nhwc = torch.randint(0, 256, (60000, 28, 28, 1), dtype=torch.uint8)
    y = torch.randint(0, 10, (60000,))
    source = "random"
# Channels last -> NCHW float32 0..1, written once into one buffer (no
# float temporaries, so the peak RSS holds the training set once, as
# nnlua's does).
x = torch.empty((len(nhwc), 1, 28, 28))
x.copy_(nhwc.permute(0, 3, 1, 2)).div_(255.0)
del nhwc
samples = min(samples, len(x))
x, y = x[:samples], y[:samples]
rss_data = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def glorot(m):
    if isinstance(m, (tnn.Conv2d, tnn.Linear)):
        tnn.init.xavier_uniform_(m.weight)
        tnn.init.zeros_(m.bias)


model = tnn.Sequential(
    tnn.Conv2d(1, 32, 3), tnn.ReLU(), tnn.MaxPool2d(2),
    tnn.Conv2d(32, 64, 3), tnn.ReLU(), tnn.MaxPool2d(2),
    tnn.Flatten(), tnn.Linear(1600, 128), tnn.ReLU(), tnn.Linear(128, 10))
model.apply(glorot)
# torch's channels-last memory format for the model and the batches (the
# tensors stay NCHW to torch's API; oneDNN then runs its NHWC kernels):
# 1.7x the samples/s of plain NCHW here and less memory, so it is the
# default; BENCH_CHANNELS_LAST=0 measures plain NCHW.
channels_last = os.environ.get("BENCH_CHANNELS_LAST", "1") == "1"
if channels_last:
    model = model.to(memory_format=torch.channels_last)
    x = x.contiguous(memory_format=torch.channels_last)
opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
lossf = tnn.CrossEntropyLoss()


def conv_out(h, k):
    return h - k + 1  # valid padding, stride 1


def train_flops():
    """FLOPs per training sample of the conv and dense products: each
    product of a layer as a GEMM (conv: M = output pixels, N = filters,
    K = kh * kw * cin) costs 2 M N K forward, the same for dW and the same
    for dX, except the first layer, whose dX nobody needs."""
    h, c, total, first = 28, 1, 0, True
    for f in (32, 64):
        o = conv_out(h, 3)
        mnk = 2 * o * o * f * 3 * 3 * c
        total += mnk * (2 if first else 3)
        first = False
        h, c = o // 2, f
    for a, b in ((h * h * c, 128), (128, 10)):
        total += 3 * 2 * a * b
    return total


def step(xb, yb):
    if channels_last:
        xb = xb.contiguous(memory_format=torch.channels_last)
    opt.zero_grad(set_to_none=True)
    loss = lossf(model(xb), yb)
    loss.backward()
    opt.step()


for i in range(warmup):
    ix = torch.randint(0, samples, (BS,))
    step(x[ix], y[ix])
perm = torch.randperm(samples)
t0, c0 = time.perf_counter(), time.process_time()
for i in range(0, samples, BS):
    ix = perm[i:i + BS]
    step(x[ix], y[ix])
secs, cpu = time.perf_counter() - t0, time.process_time() - c0
rss_train = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with torch.no_grad():
    final = sum(lossf(model(x[i:i + 1024]), y[i:i + 1024]).item() * len(x[i:i + 1024])
                for i in range(0, samples, 1024)) / samples
print("torch-cnn threads=%d data=%s format=%s samples=%d seconds=%.3f samples_per_s=%.0f cpu_s=%.3f loss=%.4f "
      "maxrss_kb=%d rss_data_kb=%d rss_eval_kb=%d train_flops_per_sample=%d"
      % (threads, source, "nhwc" if channels_last else "nchw", samples, secs, samples / secs, cpu, final,
         rss_train, rss_data, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, train_flops()))
