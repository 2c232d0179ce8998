-- nn.plot for convolutional networks: nn.plot.weights of conv layers
-- (filters as tiles, their values taken from get_weights), feature maps
-- (the values model:predict{upto} gives), the diagram's blocks of maps;
-- their errors; text drawn by gnuplot when installed (characters by
-- value, tile numbers); odd arguments never crash.
local H = dofile("helper.lua")
local check, checkerr = H.check, H.checkerr

local base = os.tmpname()
local made = {}
local function tmp(suffix)
  local p = base .. suffix
  made[#made + 1] = p
  return p
end
local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end
local function has(text, piece)
  if not text:find(piece, 1, true) then
    error("script lacks '" .. piece .. "':\n" .. text:sub(1, 3000), 2)
  end
end
local gnuplot = false
pcall(function()
  local p = io.popen("command -v gnuplot")
  gnuplot = p:read("l") ~= nil
  p:close()
end)

-- Script only (render = false).
local function script_of(fn, ...)
  local gp = tmp(".gp")
  local args = table.pack(...)
  local opts = args[args.n] or {}
  opts.script, opts.render = gp, false
  opts.file = opts.file or tmp(".png")
  args[args.n] = opts
  fn(table.unpack(args, 1, args.n))
  return slurp(gp)
end

-- The rows of $tiles that hold a tile, as lists of strings.
local function tile_rows(s)
  local block = s:match("%$tiles << EOD\n(.-)EOD\n")
  assert(block, "no $tiles block")
  local rows = {}
  for line in block:gmatch("[^\n]+") do
    if line:find("%d") then rows[#rows + 1] = line end
  end
  return rows
end
local function num(v) return string.format("%.9g", v) end

nn.seed(11)
local model = nn.Sequential({
  nn.Conv2D(3, 2, {activation = "relu", input_shape = {5, 5, 1}}),
  nn.MaxPooling2D(2),
  nn.Conv2D(2, 1, {}),
  nn.Flatten(),
  nn.Dense(4, {activation = "softmax"}),
})
local x = nn.rand(5, 5, 1)

H.test("filters of one input channel: a tile each, values from the kernel", function()
  local k = model.layers[1]:get_weights()[1] -- {2, 2, 1, 3}
  local s = script_of(nn.plot.weights, model.layers[1], {})
  has(s, "set title 'conv2d: 3 filters (2x2)'")
  local rows = tile_rows(s)
  -- 2 tiles a row: filters 1 and 2, then 3
  check(#rows == 4, "two rows of tiles, two pixels each: " .. #rows)
  check(rows[1] == table.concat({num(k:get(1, 1, 1, 1)), num(k:get(1, 2, 1, 1)), "NaN",
                                 num(k:get(1, 1, 1, 2)), num(k:get(1, 2, 1, 2))}, " "), rows[1])
  check(rows[4] == table.concat({num(k:get(2, 1, 1, 3)), num(k:get(2, 2, 1, 3)), "NaN", "NaN",
                                 "NaN"}, " "), rows[4])
  has(s, "set label '3'")
  -- the model's first layer with a kernel is the conv layer
  check(script_of(nn.plot.weights, model, {}):find("conv2d: 3 filters", 1, true))
end)

H.test("filters of several channels: rows, or the mean", function()
  local l = model.layers[3] -- {1, 1, 3, 2}
  local k = l:get_weights()[1]
  local s = script_of(nn.plot.weights, l, {})
  has(s, "'" .. l.name .. ": 2 filters (1x1), a row each, by input channel'")
  local rows = tile_rows(s)
  check(#rows == 2 and rows[2] == table.concat({num(k:get(1, 1, 1, 2)), "NaN",
        num(k:get(1, 1, 2, 2)), "NaN", num(k:get(1, 1, 3, 2))}, " "), rows[2])
  has(s, "set label 'filter 2'")
  has(s, "set label 'ch 3'")
  s = script_of(nn.plot.weights, model, {layer = 2, channels = "mean"})
  has(s, "mean over 3 input channels")
  local mean = (k:get(1, 1, 1, 1) + k:get(1, 1, 2, 1) + k:get(1, 1, 3, 1)) / 3
  local first = tile_rows(s)[1]:match("^(%S+)")
  H.near(tonumber(first), mean, 1e-6, "the first tile is filter 1's mean")
  s = script_of(nn.plot.weights, l, {max_channels = 2, max_tiles = 1})
  has(s, "filters 1-1 of 2 (1x1), a row each, by input channel (1-2 of 3)")
  -- a 4-D tensor is a kernel too
  s = script_of(nn.plot.weights, k, {})
  has(s, "set title 'filters: 2 filters (1x1), a row each, by input channel'")
  -- the Dense layer is the third with a kernel
  check(script_of(nn.plot.weights, model, {layer = 3}):find("weights (8 inputs x 4 units)", 1,
                                                           true))
end)

H.test("weights errors", function()
  checkerr("nn.plot.weights: a MaxPooling2D layer has no kernel to draw", nn.plot.weights,
           model.layers[2])
  checkerr("a Flatten layer has no kernel to draw", nn.plot.weights, model.layers[4])
  checkerr("the layer is not built yet", nn.plot.weights, nn.Conv2D(2, 3))
  checkerr("channels must be \"each\" or \"mean\", got 'rgb'", nn.plot.weights,
           model.layers[3], {channels = "rgb"})
  checkerr("image is for Dense layers", nn.plot.weights, model.layers[1], {image = {2, 2}})
  checkerr("the model has 3 layers with a kernel to draw (Dense or convolution), asked for " ..
           "number 4", nn.plot.weights, model, {layer = 4})
  checkerr("max_tiles must be an integer in 1..100000", nn.plot.weights, model.layers[1],
           {max_tiles = 0, render = false})
end)

H.test("feature maps: the layer's output for one input", function()
  local out = model:predict(x:reshape(1, 5, 5, 1), {upto = 1}) -- {1, 4, 4, 3}
  local s = script_of(nn.plot.feature_maps, model, x, 1, {})
  has(s, "set title 'conv2d (Conv2D): 3 feature maps (4x4) of one input'")
  local rows = tile_rows(s)
  check(#rows == 8, "two rows of 4x4 tiles: " .. #rows)
  local want = {}
  for j = 1, 4 do want[#want + 1] = num(out:get(1, 2, j, 2)) end
  -- row 2 of map 2: after map 1's row 2 and the gap
  check(rows[2]:match("NaN (.*)$") == table.concat(want, " "), rows[2])
  has(s, "set label '3'")
  -- the same by layer object, and from a batch of one
  local s2 = script_of(nn.plot.feature_maps, model, x:reshape(1, 5, 5, 1), model.layers[1], {})
  check(table.concat(tile_rows(s2), "\n") == table.concat(rows, "\n"), "same maps")
  -- pooling: 2x2 maps; a table input works too
  s = script_of(nn.plot.feature_maps, model, x:totable(), 2, {max_tiles = 2})
  has(s, "max_pooling2d (MaxPooling2D): feature maps 1-2 of 3 (2x2) of one input")
  local p = model:predict(x:reshape(1, 5, 5, 1), {upto = 2})
  check(tile_rows(s)[1] == table.concat({num(p:get(1, 1, 1, 1)), num(p:get(1, 1, 2, 1)), "NaN",
                                          num(p:get(1, 1, 1, 2)), num(p:get(1, 1, 2, 2))}, " "),
        tile_rows(s)[1])
end)

H.test("feature maps errors", function()
  local fm = nn.plot.feature_maps
  checkerr("nn.plot.feature_maps: layer 4 'flatten' (Flatten) has no feature maps; the " ..
           "model's layers with maps: 1 'conv2d', 2 'max_pooling2d', 3 '", fm, model, x, 4)
  checkerr("layer 5 'dense' (Dense) has no feature maps", fm, model, x, model.layers[5])
  checkerr("layer 0 is out of range (the model has 5 layers)", fm, model, x, 0)
  checkerr("layer 6 is out of range (the model has 5 layers)", fm, model, x, 6)
  checkerr("a layer index must be a whole number, got 1.5", fm, model, x, 1.5)
  checkerr("layer 9007199254740992 is out of range", fm, model, x, 2.0 ^ 53)
  checkerr("layer must be a layer of the model or its index, got string", fm, model, x, "conv")
  checkerr("layer must be a layer of the model or its index, got nil", fm, model, x)
  local other = nn.Sequential({nn.Conv2D(1, 1, {input_shape = {5, 5, 1}})})
  checkerr("is not a layer of this model", fm, model, x, other.layers[1])
  checkerr("x has shape {5, 5}; the model takes {5, 5, 1} (or a batch {1, 5, 5, 1})", fm,
           model, nn.rand(5, 5), 1)
  checkerr("x has shape {1, 4, 4, 1}; the model takes {5, 5, 1}", fm, model, nn.rand(1, 4, 4, 1), 1)
  checkerr("x holds 2 inputs; give one (x[i], or x:rows(i))", fm, model, nn.rand(2, 5, 5, 1), 1)
  checkerr("x must be one input (an nn.Tensor {h, w, channels}), got number", fm, model, 3, 1)
  checkerr("expected a model, got table", fm, {}, x, 1)
  checkerr("unknown option 'colour'", fm, model, x, 1, {colour = 1})
  local dense = nn.Sequential({nn.Dense(2, {input_dim = 3})})
  checkerr("the model has no convolution or pooling layer", fm, dense, nn.ones(3), 1)
  check(not select(2, pcall(fm, model, x, 0)):find("30_plot", 1, true), "no internal positions")
end)

H.test("the diagram: blocks of maps with their shapes", function()
  local s = script_of(nn.plot.model, model, {})
  has(s, "set title 'network 5x5x1-4x4x3-2x2x3-2x2x2-4'")
  has(s, "set label '4x4x3'.\"\\012\".'conv2d 3 2x2 relu'")
  has(s, "set label '2x2x3'.\"\\012\".'max pooling2d 2x2'")
  has(s, "'2x2x2'.\"\\012\".'conv2d 2 1x1'.\"\\012\".'flatten'")
  has(s, "set label '5x5x1 input'")
  has(s, "'4 units'.\"\\012\".'softmax + bias'")
  -- input 1 sheet, 3 channels: 1 + round(log2 3) = 3 sheets, 2 channels: 2
  local _, objects = s:gsub("set object %d+ rectangle", "")
  check(objects == 1 + 3 + 3 + 2, "sheets: " .. objects)
  local edges = s:match("%$edges1 << EOD\n(.-)EOD") .. s:match("%$edges4 << EOD\n(.-)EOD")
  check(edges == "", "no weight edges out of a block")
  has(s, "$links using 1:2:3:4 with vectors nohead")
  local unbuilt = nn.Sequential({nn.Conv2D(2, 3), nn.Flatten()})
  checkerr("the model's input size is unknown", nn.plot.model, unbuilt)
end)

H.test("sequences, global pooling and reshape", function()
  nn.seed(5)
  local seq = nn.Sequential({nn.Conv1D(3, 2, {activation = "relu", input_shape = {6, 2}}),
                             nn.MaxPooling1D(2), nn.Flatten(), nn.Dense(2)})
  local s = script_of(nn.plot.model, seq, {})
  has(s, "set title 'network 6x2-5x3-2x3-2'")
  has(s, "set label '5x3'.\"\\012\".'conv1d 3 2 relu'")
  -- Conv1D's kernel {k, in, out}: a row per filter, tiles of 1 x k
  local k = seq.layers[1]:get_weights()[1]
  s = script_of(nn.plot.weights, seq.layers[1], {})
  has(s, "3 filters (1x2), a row each, by input channel")
  check(tile_rows(s)[1] == table.concat({num(k:get(1, 1, 1)), num(k:get(2, 1, 1)), "NaN",
                                         num(k:get(1, 2, 1)), num(k:get(2, 2, 1))}, " "),
        tile_rows(s)[1])
  -- 1-D maps: a strip per channel, numbered on the left
  local x1 = nn.rand(6, 2)
  local out = seq:predict(x1:reshape(1, 6, 2), {upto = 1})
  s = script_of(nn.plot.feature_maps, seq, x1, 1, {})
  has(s, "conv1d (Conv1D): 3 feature maps (5 steps) of one input")
  local rows = tile_rows(s)
  check(#rows == 3, "a strip per channel")
  local want = {}
  for t = 1, 5 do want[t] = num(out:get(1, t, 2)) end
  check(rows[2] == table.concat(want, " "), rows[2])
  has(s, "set label '3' at -0.5,")
  -- global pooling (fewer values): a column of units; reshape to maps: a block
  local g = nn.Sequential({nn.Reshape({4, 4, 1}, {input_shape = {16}}),
                           nn.Conv2D(2, 3, {activation = "relu"}), nn.GlobalAveragePooling2D(),
                           nn.Dense(3, {activation = "softmax"})})
  s = script_of(nn.plot.model, g, {})
  has(s, "set title 'network 16-4x4x1-2x2x2-2-3'")
  has(s, "'4x4x1'.\"\\012\".'reshape 4x4x1'")
  has(s, "'2 units'.\"\\012\".'global average pooling2d'")
  -- the Dense after the pooled column has its weight edges again
  local e = s:match("%$edges1 << EOD\n(.-)EOD") .. s:match("%$edges2 << EOD\n(.-)EOD") ..
            s:match("%$edges3 << EOD\n(.-)EOD") .. s:match("%$edges4 << EOD\n(.-)EOD")
  local _, n = e:gsub("\n", "")
  check(n == 2 * 3, "2 x 3 weight edges: " .. n)
  checkerr("layer 3 'global_average_pooling2d' (GlobalAveragePooling2D) has no feature maps",
           nn.plot.feature_maps, g, nn.rand(16), 3)
end)

if gnuplot then
  H.test("text drawn by gnuplot", function()
    local f = tmp(".txt")
    nn.plot.weights(model.layers[1], {file = f})
    local t = slurp(f)
    check(t:find("conv2d: 3 filters (2x2)", 1, true) and
          t:find("# + positive, - = negative", 1, true), t)
    check(t:find("#", 1, true) or t:find("=", 1, true), "weights drawn as characters")
    for i = 1, 3 do check(t:find("%s" .. i .. "%s"), "tile number " .. i .. ":\n" .. t) end
    nn.plot.feature_maps(model, x, 1, {file = f})
    t = slurp(f)
    check(t:find("3 feature maps (4x4) of one input", 1, true) and
          t:find("# highest", 1, true), t)
    check(t:find("#", 1, true), "the largest values as #:\n" .. t)
    nn.plot.model(model, {file = f})
    t = slurp(f)
    check(t:find("4x4x3", 1, true) and t:find("+--", 1, true), "blocks as outlines:\n" .. t)
    local png = tmp(".png")
    nn.plot.feature_maps(model, x, 2, {file = png})
    H.check_png(png)
  end)
end

H.test("odd arguments never crash", function()
  local odd = {false, 0, -1, 7, 1.5, 0 / 0, "", "x", {}, {1}, {{1, 2}}, nn.zeros(1),
               nn.ones(5, 5, 1), nn.ones(1, 5, 5, 1), nn.ones(2, 5, 5, 1), nn.zeros(3, 3, 3),
               model, model.layers[1], model.layers[4], print}
  local n = 0
  for i = 0, #odd do
    for j = 0, #odd do
      for _, fn in ipairs({"feature_maps", "weights"}) do
        local ok, err
        if fn == "weights" then
          ok, err = pcall(nn.plot.weights, odd[i], {render = false, script = tmp(".gp"),
                                                   channels = j % 2 == 0 and "mean" or nil})
        else
          ok, err = pcall(nn.plot.feature_maps, model, odd[i], odd[j],
                          {render = false, script = tmp(".gp")})
        end
        if not ok then
          check(tostring(err):find("nn.plot." .. fn, 1, true) or
                tostring(err):find("bad argument", 1, true), fn .. ": " .. tostring(err))
        end
        n = n + 1
      end
    end
  end
  check(n > 100, "calls made")
end)

for _, p in ipairs(made) do os.remove(p) end
os.remove(base)
H.done()
