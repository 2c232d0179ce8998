-- Loss functions: how wrong a prediction is, as one number. Mean squared
-- error and the cross-entropies computed by hand with tensor operations,
-- checked against nn.losses and against model:evaluate on a real model;
-- then each loss drawn as a function of the prediction for a target of 1.
-- Teaches: MSE = mean((y_pred - y)^2), binary cross-entropy =
-- -mean(y log p + (1 - y) log(1 - p)), categorical cross-entropy =
-- -mean(sum(y_onehot * log p)); why cross-entropy punishes a confident
-- wrong answer much harder than MSE does.
-- Runs in: about 1 s
--
--   nnlua examples/loss_functions.lua [dir]    pictures into dir (default out)
local out = "out"
for _, a in ipairs(arg or {}) do
  if a:sub(1, 2) ~= "--" then out = a end
end
os.execute("mkdir -p '" .. out .. "'")

-- A loss from nn.losses is a one-element tensor; a reduction of a plain
-- tensor (mean, sum) is already a number.
local function num(v) return type(v) == "number" and v or v:get(1) end

local function same(what, by_hand, by_nn)
  by_hand, by_nn = num(by_hand), num(by_nn)
  local ok = math.abs(by_hand - by_nn) <= 1e-5 * math.max(1, math.abs(by_nn))
  print(string.format("%-38s by hand %.6f   nnlua %.6f   %s", what, by_hand, by_nn,
                      ok and "same" or "DIFFERENT"))
  if not ok then error(what .. ": the two differ", 0) end
end

-- Regression: four targets and predictions.
local y = nn.tensor{{1.0}, {2.0}, {3.0}, {4.0}}
local p = nn.tensor{{1.5}, {1.5}, {3.0}, {5.0}}
same("mse", ((p - y) ^ 2):mean(), nn.losses.mse(y, p))
same("mae", (p - y):abs():mean(), nn.losses.mae(y, p))

-- Two classes: labels 0/1 and predicted probabilities of class 1.
local yb = nn.tensor{{1}, {0}, {1}, {0}}
local pb = nn.tensor{{0.9}, {0.2}, {0.6}, {0.4}}
local bce = -(yb * pb:log() + (1 - yb) * (1 - pb):log()):mean()
same("binary_crossentropy", bce, nn.losses.binary_crossentropy(yb, pb))

-- Three classes: one-hot targets and softmax rows.
local yc = nn.tensor{{1, 0, 0}, {0, 0, 1}}
local pc = nn.tensor{{0.7, 0.2, 0.1}, {0.1, 0.3, 0.6}}
local cce = -(yc * pc:log()):sum() / 2
same("categorical_crossentropy", cce, nn.losses.categorical_crossentropy(yc, pc))

-- The same on a model: evaluate's loss is the loss of predict's output.
nn.seed(1)
local x, labels = nn.data.moons(64, 0.2)
labels = labels - 1 -- classes 1, 2 as the labels 0, 1 of a sigmoid output
local model = nn.Sequential{
  nn.Dense(8, {input_dim = 2, activation = "tanh"}),
  nn.Dense(1, {activation = "sigmoid"}),
}
model:compile{loss = "binary_crossentropy", optimizer = "adam"}
model:fit(x, labels, {epochs = 5, verbose = 0})
local q = model:predict(x)
local t = labels:reshape(64, 1)
local by_hand = -(t * q:log() + (1 - t) * (1 - q):log()):mean()
same("model:evaluate (binary_crossentropy)", by_hand, (model:evaluate(x, labels)))

-- Each loss of one sample with target 1 as its prediction goes from 0 to 1.
local ps, curves = {}, {{}, {}, {}}
for i = 1, 99 do
  local pr = i / 100
  ps[i] = pr
  local yt, yp = nn.tensor{{1}}, nn.tensor{{pr}}
  curves[1][i] = nn.losses.mse(yt, yp):get(1)
  curves[2][i] = nn.losses.mae(yt, yp):get(1)
  curves[3][i] = nn.losses.binary_crossentropy(yt, yp):get(1)
end
nn.plot.lines(ps, curves, {
  names = {"MSE (1 - p)^2", "MAE |1 - p|", "cross-entropy -log p"},
  title = "loss of one sample whose true label is 1",
  xlabel = "predicted probability p of label 1", ylabel = "loss",
  file = out .. "/losses.png"})
print(string.format("loss_functions: at p = 0.01 MSE is %.2f but cross-entropy is %.2f",
                    curves[1][1], curves[3][1]))
