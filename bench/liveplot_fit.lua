-- One fit of examples/digits.lua's model (30 epochs), with a LivePlot into
-- a PNG at the interval given (or none), for bench/liveplot_cost.sh to
-- count instructions of. Usage: nnlua bench/liveplot_fit.lua none|fit-only|INTERVAL [png]
local mode, png = arg[1] or "none", arg[2] or os.tmpname() .. ".png"
nn.seed(1)
local x, y = nn.data.digits()
x = x / 16
local x_train, y_train = nn.data.split(x, y, 0.8)
local m = nn.Sequential({nn.Dense(64, {input_dim = 64, activation = "relu"}), nn.Dropout(0.2),
                         nn.Dense(10, {activation = "softmax"})})
m:compile{loss = "sparse_categorical_crossentropy", optimizer = "adam", metrics = {"accuracy"}}
if mode == "setup" then return end -- everything but the fit
local cb = {}
if mode ~= "none" then
  cb[1] = nn.callbacks.LivePlot{file = png, interval = assert(tonumber(mode), "bad interval")}
end
m:fit(x_train, y_train, {epochs = 30, batch_size = 32, validation_split = 0.1, verbose = 0,
                         callbacks = cb})
if cb[1] then assert(cb[1]:wait()) end
os.remove(png)
