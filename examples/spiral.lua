-- Teaches: how a network bends its decision boundary while it trains.
-- Three interleaved spirals cannot be told apart by straight lines; a small
-- network of two hidden relu layers learns to, and nn.callbacks.Animate
-- records its class regions every other epoch into an animated GIF: the
-- first frames cut the plane with nearly straight lines, which then curl
-- around the arms as the loss falls (each frame's title: epoch, loss,
-- accuracy).
-- Runs in: about 5 s (the GIF is drawn by gnuplot at the end).
-- Usage: nnlua examples/spiral.lua [output dir, default "out"]
nn.seed(7)
local dir = arg and arg[1] or "out"
os.execute("mkdir -p '" .. dir:gsub("'", "'\\''") .. "'")

-- 300 points on 3 spirals (x: n x 2 coordinates, y: classes 1..3)
local x, y = nn.data.spiral(300, 3)

local model = nn.Sequential{
  nn.Dense(32, "relu", {input_dim = 2}),
  nn.Dense(32, "relu"),
  nn.Dense(3, "softmax"),
}
model:compile{optimizer = nn.optimizers.Adam{learning_rate = 0.02},
              loss = "sparse_categorical_crossentropy", metrics = {"accuracy"}}

local gif = dir .. "/spiral.gif"
local animate = nn.callbacks.Animate{file = gif, plot = "decision_boundary", x = x, y = y,
                                     every = 2, delay = 20}
model:fit(x, y, {epochs = 60, batch_size = 32, verbose = 0, callbacks = {animate}})

local loss, metrics = model:evaluate(x, y)
print(string.format("spiral: %d frames in %s", animate.frames, gif))
print(string.format("spiral: loss %.4f, accuracy %.4f", loss, metrics.accuracy))
