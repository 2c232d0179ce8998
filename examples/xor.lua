-- XOR: the classic problem a single layer cannot solve; a hidden layer of
-- 8 tanh units learns it. Prints the predictions and the accuracy.
-- Teaches: why hidden layers: a line cannot separate XOR, two layers can.
-- Runs in: about 1 s
nn.seed(42)
local x, y = nn.data.xor()

local model = nn.Sequential()
model:add(nn.Dense(8, {input_dim = 2, activation = "tanh"}))
model:add(nn.Dense(1, {activation = "sigmoid"}))
model:compile{loss = "binary_crossentropy", optimizer = nn.optimizers.Adam{lr = 0.05},
              metrics = {"accuracy"}}
model:fit(x, y, {epochs = 300, batch_size = 4, verbose = 0})

local p = model:predict(x)
for i = 1, 4 do
  print(string.format("%g xor %g -> %.3f (want %g)", x:get(i, 1), x:get(i, 2),
                      p:get(i, 1), y:get(i, 1)))
end
local loss, metrics = model:evaluate(x, y)
print(string.format("xor: loss %.4f, accuracy %.2f", loss, metrics.accuracy))
