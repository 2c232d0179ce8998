# Training throughput of PyTorch for the same network as bench/train.lua:
# MLP 784-256-128-10 (relu, relu; softmax folded into CrossEntropyLoss),
# Adam (eps 1e-7 as Keras), batch 128, shuffled, one epoch over
# Fashion-MNIST's training set read from the same idx files (random data of
# the same shape when they are missing). Times the training loop only.
# Prints: torch threads=<n> data=<...> samples=<N> seconds=<s> samples_per_s=<r> loss=<l>
# Usage: /usr/bin/python3 bench/train_torch.py [threads] [epochs]
import gzip, os, sys, time
import numpy as np
import torch
import torch.nn as tnn

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 1
torch.set_num_threads(threads)
torch.manual_seed(1)
# BENCH_FLUSH_DENORMAL=1: denormals flushed to zero (Adam's second moments
# reach denormal values, which make its divisions slow on x86).
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
t0 = time.perf_counter()
for e in range(epochs):
    perm = torch.randperm(n)
    total, correct = 0.0, 0
    for i in range(0, n, 128):
        ix = perm[i:i + 128]
        xb, yb = x[ix], y[ix]
        opt.zero_grad()
        out = model(xb)
        loss = lossf(out, yb)
        loss.backward()
        opt.step()
        total += loss.item() * len(ix)
        correct += (out.argmax(1) == yb).sum().item()
secs = time.perf_counter() - t0
print("torch threads=%d data=%s samples=%d seconds=%.3f samples_per_s=%.0f loss=%.4f"
      % (threads, source, n * epochs, secs, n * epochs / secs, total / n))
