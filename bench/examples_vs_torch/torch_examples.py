# Same architectures, optimizers, epochs and batch sizes as examples/*.lua,
# in PyTorch, with Keras-like init (glorot uniform, zero bias), eps 1e-7.
# Threads as bench/train_torch.py (docs/performance.md, "Fair peers"):
# torch.set_num_threads(n), threadpoolctl limiting its OpenBLAS to n, and
# OMP_WAIT_POLICY=PASSIVE before torch loads libgomp; n = 1 by default, as
# nnlua_examples.lua (these networks are far too small to gain from more).
# Usage: /usr/bin/python3 torch_examples.py DIR [threads] (DIR written by dump.lua).
import os, sys
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import numpy as np, torch, torch.nn as tnn
from threadpoolctl import threadpool_limits
DIR = sys.argv[1]
THREADS = int(sys.argv[2]) if len(sys.argv) > 2 else 1
torch.set_num_threads(THREADS)
_blas = threadpool_limits(limits=THREADS, user_api="blas")
def load(p): return np.loadtxt(p, delimiter=",", dtype=np.float32, ndmin=1)
def mlp(sizes, acts, drop=None):
    layers = []
    for i in range(len(sizes) - 1):
        l = tnn.Linear(sizes[i], sizes[i+1]); tnn.init.xavier_uniform_(l.weight); tnn.init.zeros_(l.bias)
        layers.append(l)
        if acts[i]: layers.append(acts[i]())
        if drop is not None and i == 0: layers.append(tnn.Dropout(drop))
    return tnn.Sequential(*layers)
def train(model, x, y, lossf, lr, epochs, bs, val_split=0.0):
    n = len(x); ntr = int(np.floor(n * (1 - val_split)))
    x, y = x[:ntr], y[:ntr]
    opt = torch.optim.Adam(model.parameters(), lr=lr, eps=1e-7)
    for e in range(epochs):
        model.train(); perm = torch.randperm(ntr)
        for i in range(0, ntr, bs):
            idx = perm[i:i+bs]; opt.zero_grad(); l = lossf(model(x[idx]), y[idx]); l.backward(); opt.step()
    model.eval()
def run(seed):
    torch.manual_seed(seed); res = {}
    # xor
    x = torch.tensor([[0,0],[0,1],[1,0],[1,1]], dtype=torch.float32); y = torch.tensor([[0],[1],[1],[0]], dtype=torch.float32)
    m = mlp([2, 8, 1], [tnn.Tanh, None]); train(m, x, y, tnn.BCEWithLogitsLoss(), 0.05, 300, 4)
    res["xor"] = ((m(x) > 0).float() == y).float().mean().item()
    # iris
    xtr, ytr = torch.tensor(load(DIR + "/iris_xtr.csv")), torch.tensor(load(DIR + "/iris_ytr.csv")).long() - 1
    xte, yte = torch.tensor(load(DIR + "/iris_xte.csv")), torch.tensor(load(DIR + "/iris_yte.csv")).long() - 1
    m = mlp([4, 16, 3], [tnn.ReLU, None]); train(m, xtr, ytr, tnn.CrossEntropyLoss(), 0.01, 100, 16)
    res["iris"] = (m(xte).argmax(1) == yte).float().mean().item()
    # digits
    xtr, ytr = torch.tensor(load(DIR + "/dig_xtr.csv")), torch.tensor(load(DIR + "/dig_ytr.csv")).long() - 1
    xte, yte = torch.tensor(load(DIR + "/dig_xte.csv")), torch.tensor(load(DIR + "/dig_yte.csv")).long() - 1
    m = mlp([64, 64, 10], [tnn.ReLU, None], drop=0.2); train(m, xtr, ytr, tnn.CrossEntropyLoss(), 0.001, 30, 32, 0.1)
    res["digits"] = (m(xte).argmax(1) == yte).float().mean().item()
    # regression
    x, y = torch.tensor(load(DIR + "/sin_x.csv")).reshape(-1, 1), torch.tensor(load(DIR + "/sin_y.csv")).reshape(-1, 1)
    m = mlp([1, 32, 32, 1], [tnn.Tanh, tnn.Tanh, None]); train(m, x, y, tnn.MSELoss(), 0.01, 200, 32)
    with torch.no_grad():
        res["reg_train_mse"] = ((m(x) - y) ** 2).mean().item(); res["reg_clean_mse"] = ((m(x) - torch.sin(x)) ** 2).mean().item()
    return res
all_ = [run(s) for s in range(5)]
for k in all_[0]:
    v = [r[k] for r in all_]; print(f"{k}: mean {np.mean(v):.4f} min {np.min(v):.4f} max {np.max(v):.4f}")
