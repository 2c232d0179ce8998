-- The image data sets as images: nn.data.digits{flatten = false} and
-- nn.data.fashion_mnist{flatten = false} give n x h x w x 1 tensors
-- (channels last, as nn.Conv2D takes them) holding the same pixels as the
-- flat default; option values that are not booleans and unknown option
-- keys are errors. Fashion-MNIST cases need Debian's dataset-fashion-mnist
-- (or $NNLUA_DATA) and say so when it is not installed.
local H = require "helper"
local T, check, checkerr, shape = H.test, H.check, H.checkerr, H.shape

T("digits: flat by default, 8x8x1 images with flatten = false", function()
  local fx, fy, finfo = nn.data.digits()
  shape(fx, 1797, 64)
  local x, y, info = nn.data.digits{flatten = false}
  shape(x, 1797, 8, 8, 1)
  shape(y, 1797)
  check(H.eq_table(y, fy), "same labels")
  check(#info.classes == 10 and info.classes[10] == finfo.classes[10], "same info")
  -- pixel (r, c) of image i is column (r-1)*8 + c of row i
  for _, i in ipairs{1, 2, 900, 1797} do
    for _, rc in ipairs{{1, 1}, {1, 8}, {4, 5}, {8, 1}, {8, 8}} do
      local r, c = rc[1], rc[2]
      check(x:get(i, r, c, 1) == fx:get(i, (r - 1) * 8 + c),
            string.format("digit %d pixel %d,%d", i, r, c))
    end
  end
  check(x:sum() == fx:sum(), "every pixel")
  -- flatten = true is the default spelled out
  shape(nn.data.digits{flatten = true}, 1797, 64)
  shape(nn.data.digits{}, 1797, 64)
  -- the images are a tensor of their own: reshaping back gives the rows
  check(H.eq_table(x:reshape(1797, 64)[5], fx[5]), "reshape back")
end)

T("digits and iris: bad options", function()
  checkerr("nn.data.digits: option 'flatten' must be true or false, got number",
           nn.data.digits, {flatten = 0})
  checkerr("nn.data.digits: option 'flatten' must be true or false, got string",
           nn.data.digits, {flatten = "false"})
  checkerr("nn.data.digits: unknown option 'flaten' (valid: flatten)",
           nn.data.digits, {flaten = false})
  checkerr("nn.data.digits: options must be a table, got number", nn.data.digits, 8)
  checkerr("nn.data.iris: takes no arguments", nn.data.iris, {flatten = false})
end)

T("fashion_mnist: bad options are refused before any file is read", function()
  checkerr("nn.data.fashion_mnist: option 'flatten' must be true or false, got string",
           nn.data.fashion_mnist, {flatten = "no", path = "/nonexistent"})
  checkerr("nn.data.fashion_mnist: unknown option 'flat' (valid: flatten, path, split)",
           nn.data.fashion_mnist, {flat = false})
  checkerr("nn.data.fashion_mnist: options must be a table, got boolean",
           nn.data.fashion_mnist, false)
  checkerr('nn.data.fashion_mnist: opts.split must be "train" or "test" (or nil for both), got "val"',
           nn.data.fashion_mnist, {split = "val", path = "/nonexistent"})
end)

-- A folder of four small IDX files in the Fashion-MNIST layout (3 training
-- and 2 test images of 28x28, pixel k of image i is (i*7 + k) % 256), so the
-- shapes are tested without the real data set.
local function fake_fashion()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir '" .. dir .. "'"))
  local function be32(v) return string.pack(">I4", v) end
  local function write(name, dims, bytes)
    local f = assert(io.open(dir .. "/" .. name, "wb"))
    f:write("\0\0\8", string.char(#dims))
    for _, d in ipairs(dims) do f:write(be32(d)) end
    f:write(bytes)
    f:close()
  end
  local function images(n)
    local t = {}
    for i = 0, n - 1 do
      for k = 0, 783 do t[#t + 1] = string.char((i * 7 + k) % 256) end
    end
    return table.concat(t)
  end
  write("train-images-idx3-ubyte", {3, 28, 28}, images(3))
  write("train-labels-idx1-ubyte", {3}, "\0\9\4")
  write("t10k-images-idx3-ubyte", {2, 28, 28}, images(2))
  write("t10k-labels-idx1-ubyte", {2}, "\1\2")
  return dir
end

T("fashion_mnist{flatten = false} on a small folder: n x 28 x 28 x 1", function()
  local dir = fake_fashion()
  local flat = nn.data.fashion_mnist{path = dir}
  local img = nn.data.fashion_mnist{path = dir, flatten = false}
  os.execute("rm -rf '" .. dir .. "'")
  shape(flat.x_train, 3, 784)
  shape(flat.x_test, 2, 784)
  shape(img.x_train, 3, 28, 28, 1)
  shape(img.x_test, 2, 28, 28, 1)
  shape(img.y_train, 3)
  shape(img.y_test, 2)
  H.same(img.y_train, {1, 10, 5})
  check(#img.classes == 10 and img.classes[10] == "Ankle boot", "classes")
  for _, s in ipairs{{"x_train", 3}, {"x_test", 2}} do
    local a, b = img[s[1]], flat[s[1]]
    for i = 1, s[2] do
      for _, rc in ipairs{{1, 1}, {1, 28}, {14, 3}, {28, 28}} do
        local r, c = rc[1], rc[2]
        local want = ((i - 1) * 7 + (r - 1) * 28 + c - 1) % 256 / 255
        H.near(a:get(i, r, c, 1), want, 1e-6, s[1] .. " pixel")
        check(a:get(i, r, c, 1) == b:get(i, (r - 1) * 28 + c), "same as flat")
      end
    end
  end
end)

T("fashion_mnist{split = ...} reads only that half of the folder", function()
  local dir = fake_fashion()
  local tr = nn.data.fashion_mnist{path = dir, split = "train", flatten = false}
  local te = nn.data.fashion_mnist{path = dir, split = "test"}
  -- a broken test-image file: the training half still loads, since its
  -- files are the only ones read; both halves, or the test half, fail
  local f = assert(io.open(dir .. "/t10k-images-idx3-ubyte", "wb"))
  f:write("not an idx file")
  f:close()
  local tr2 = nn.data.fashion_mnist{path = dir, split = "train"}
  local ok_all = pcall(nn.data.fashion_mnist, {path = dir})
  local ok_test = pcall(nn.data.fashion_mnist, {path = dir, split = "test"})
  os.execute("rm -rf '" .. dir .. "'")
  shape(tr.x_train, 3, 28, 28, 1)
  shape(tr.y_train, 3)
  check(tr.x_test == nil and tr.y_test == nil, "no test half with split = train")
  shape(te.x_test, 2, 784)
  H.same(te.y_test, {2, 3})
  check(te.x_train == nil and te.y_train == nil, "no training half with split = test")
  check(#tr.classes == 10 and #te.classes == 10, "classes either way")
  shape(tr2.x_train, 3, 784)
  check(not ok_all, "loading both halves reads the broken file")
  check(not ok_test, "the test half reads the broken file")
end)

local have_fashion, d = pcall(nn.data.fashion_mnist, {flatten = false})
if have_fashion then
  T("fashion_mnist{flatten = false}: the installed data set", function()
    shape(d.x_train, 60000, 28, 28, 1)
    shape(d.x_test, 10000, 28, 28, 1)
    shape(d.y_train, 60000)
    shape(d.y_test, 10000)
    check(d.x_train:max() <= 1 and d.x_train:min() >= 0, "pixels in 0..1")
    -- the flat default is the same pixels (one load only: the set is large;
    -- the small folder above compares both forms)
    local f = d.x_train:reshape(60000, 784)
    check(f:get(1, 29) == d.x_train:get(1, 2, 1, 1), "row 2 of image 1")
    check(f:get(60000, 784) == d.x_train:get(60000, 28, 28, 1), "last pixel")
  end)
  d = nil
else
  print("test_data_images: Fashion-MNIST is not installed (apt-get install " ..
        "dataset-fashion-mnist); the case on the real data set is skipped")
end

H.done()
