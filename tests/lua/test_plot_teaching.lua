-- Every teaching plot (issue 14) renders a picture that is not blank
-- (H.check_png: size, colours, drawn pixels) and a text version that
-- draws something: the pictures of activations, loss surfaces (of a
-- function and of a model), neurons, the autograd graph, gradient norms,
-- and the training pictures they sit beside.
local H = dofile("helper.lua")
local check = H.check

if not os.execute("command -v gnuplot >/dev/null 2>&1") then
  print("test_plot_teaching: gnuplot missing, skipped")
  return
end

local base = os.tmpname()
local made = {base}
local function tmp(ext)
  local p = base .. ext
  made[#made + 1] = p
  return p
end
local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

nn.seed(11)
local x, y = nn.data.moons(60, 0.15)
local model = nn.Sequential{nn.Dense(4, {input_dim = 2, activation = "tanh"}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = nn.optimizers.Adam{lr = 0.05}}
local grads = nn.callbacks.GradientLogger()
local hist = model:fit(x, y - 1, {epochs = 4, batch_size = 16, verbose = 0, callbacks = {grads}})
local t = nn.randn(3, 2):requires_grad()
local l = t:act("relu"):sum()
l:backward(nil, {retain_graph = true})

local plots = {
  {"activations", function(o) nn.plot.activations({"sigmoid", "relu"}, o) end, "sigmoid"},
  {"loss_surface of a function", function(o)
     nn.plot.loss_surface(function(a, b) return a * a + 3 * b * b end,
                          {start = {1.5, 1}, steps = 10, file = o.file})
   end, "w1"},
  {"loss_surface of a model", function(o)
     nn.plot.loss_surface(model, {x = x, y = y - 1, resolution = 9, file = o.file})
   end, nil},
  {"graph", function(o) nn.plot.graph(l, o) end, "relu"},
  {"gradients", function(o) nn.plot.gradients(grads, o) end, "gradient norm"},
  {"history", function(o) nn.plot.history(hist, o) end, "loss"},
  {"decision_boundary", function(o) nn.plot.decision_boundary(model, x, y, o) end, nil},
  {"model", function(o) nn.plot.model(model, o) end, "network"},
  {"weights", function(o) nn.plot.weights(model.layers[1], o) end, "weights"},
}
if nn.plot.neurons then
  plots[#plots + 1] = {"neurons", function(o) nn.plot.neurons(model, x, y, o) end, nil}
end

for _, p in ipairs(plots) do
  H.test(p[1] .. ": a picture and a text version", function()
    local png = tmp("." .. p[1]:gsub("%W", "_") .. ".png")
    p[2]({file = png})
    local st = H.check_png(png)
    check(st.width >= 300 and st.height >= 200, p[1] .. ": a picture's size")
    local txt = tmp("." .. p[1]:gsub("%W", "_") .. ".txt")
    p[2]({file = txt})
    local text = slurp(txt)
    local ink = select(2, text:gsub("[^%s]", ""))
    check(ink > 100, p[1] .. ": the text version draws something:\n" .. text)
    if p[3] then check(text:find(p[3], 1, true), p[1] .. " text names '" .. p[3] .. "'") end
  end)
end

for _, f in ipairs(made) do os.remove(f) end
H.done()
