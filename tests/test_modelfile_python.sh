#!/bin/sh
# A model file opens in Python with only json, struct and numpy: nnlua saves
# a trained model and lists its weights (name, shape, values); Debian's
# /usr/bin/python3 parses the file by hand and checks the header layout
# (length, padding, contiguous offsets), every name, shape and value, the
# optimizer slots and the metadata JSON. Skips (exit 77) without
# /usr/bin/python3 or numpy.
#   test_modelfile_python.sh path/to/nnlua
set -eu
NNLUA=$1
PY=/usr/bin/python3
if [ ! -x "$PY" ]; then
    echo "SKIP: $PY is missing (apt install python3 python3-numpy)"
    exit 77
fi
if ! "$PY" -c "import numpy" 2>/dev/null; then
    echo "SKIP: numpy is missing for $PY (apt install python3-numpy)"
    exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

cat > "$dir/make.lua" <<'EOF'
local path, list = arg[1], arg[2]
nn.seed(7)
local m = nn.Sequential({nn.Dense(3, {input_dim = 2, activation = "relu"}),
                         nn.BatchNormalization(), nn.Dense(1, {activation = "sigmoid"})},
                        {name = "py"})
m:compile{loss = "binary_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
local x, y = nn.rand(20, 2), nn.rand(20, 1)
m:fit(x, y, {epochs = 2, batch_size = 5, verbose = 0})
m:save(path)
local names = {"layers.0.dense.kernel", "layers.0.dense.bias",
               "layers.1.batch_normalization.gamma", "layers.1.batch_normalization.beta",
               "layers.1.batch_normalization.moving_mean",
               "layers.1.batch_normalization.moving_variance",
               "layers.2.dense.kernel", "layers.2.dense.bias"}
local f = assert(io.open(list, "w"))
for i, w in ipairs(m:get_weights()) do
  local shape, vals = {w:shape()}, {}
  local flat = w:reshape(-1)
  for k = 1, flat:numel() do vals[k] = string.format("%.9g", flat[k]) end
  f:write(names[i], "\t", table.concat(shape, ","), "\t", table.concat(vals, ","), "\n")
end
f:close()
EOF
"$NNLUA" "$dir/make.lua" "$dir/m.safetensors" "$dir/weights.txt"

cat > "$dir/check.py" <<'EOF'
import json, struct, sys
import numpy as np

path, listing = sys.argv[1], sys.argv[2]
raw = open(path, "rb").read()
(n,) = struct.unpack("<Q", raw[:8])
assert n % 8 == 0, "header not padded to 8 bytes: %d" % n
header = json.loads(raw[8:8 + n].decode("utf-8"))
data = raw[8 + n:]

meta = header.pop("__metadata__")
assert all(isinstance(v, str) for v in meta.values()), "metadata values must be strings"
assert meta["format"] == "nnlua" and meta["format_version"] == "2", meta
arch = json.loads(meta["architecture"])
assert arch["name"] == "py", arch["name"]
assert arch["input_shape"] == [2], arch["input_shape"]
assert [l["class"] for l in arch["layers"]] == ["Dense", "BatchNormalization", "Dense"], arch
assert arch["layers"][0]["config"]["units"] == 3
assert arch["layers"][0]["config"]["activation"] == "relu"
comp = json.loads(meta["compile"])
assert comp["loss"] == "binary_crossentropy" and comp["optimizer"]["name"] == "adam", comp
assert comp["metrics"] == ["accuracy"]
train = json.loads(meta["training"])
assert train["optimizer_iterations"] == 8, train  # 2 epochs x 4 batches
assert train["optimizer_slots"] == 6, train

def tensor(name):
    e = header[name]
    assert e["dtype"] == "F32", e
    b, end = e["data_offsets"]
    a = np.frombuffer(data[b:end], dtype="<f4")
    return a.reshape(e["shape"]) if e["shape"] else a

# offsets: contiguous, covering all the data
spans = sorted(tuple(e["data_offsets"]) for e in header.values())
at = 0
for b, end in spans:
    assert b == at, "hole or overlap at %d" % b
    at = end
assert at == len(data), "data not covered"

seen = set()
for line in open(listing):
    name, shape, vals = line.rstrip("\n").split("\t")
    shape = [int(s) for s in shape.split(",")]
    want = np.array([float(v) for v in vals.split(",")], dtype=np.float32).reshape(shape)
    got = tensor(name)
    assert list(got.shape) == shape, (name, got.shape, shape)
    assert np.array_equal(got, want), (name, got, want)
    seen.add(name)
    # trainable weights have Adam's m and v of the same shape
    if "moving_" not in name:
        for s in ("m", "v"):
            slot = tensor("optimizer.%s.%s" % (name, s))
            assert slot.shape == got.shape, (name, s)
            seen.add("optimizer.%s.%s" % (name, s))
    assert np.all(np.isfinite(got))
assert seen == set(header), "unexpected tensors: %s" % (set(header) - seen)
assert np.all(tensor("optimizer.layers.0.dense.kernel.v") >= 0)
print("python read %d tensors: ok" % len(header))
EOF
"$PY" "$dir/check.py" "$dir/m.safetensors" "$dir/weights.txt"
