-- A neural network explained step by step in the terminal: a 2-3-1
-- network (tanh, then sigmoid) on xor. nn.explain.forward shows one sample
-- going through it (z = W x + b and a = f(z) with the numbers),
-- nn.explain.backward the loss and every gradient by the chain rule, and
-- nn.explain.step one SGD update (w - lr * g) as training takes it. Then
-- the network trains and the same sample goes through again.
-- Teaches: forward propagation, backpropagation, gradient descent.
-- Runs in: under 1 s
nn.seed(4)
local x, y = nn.data.xor()

local model = nn.Sequential{nn.Dense(3, {input_dim = 2, activation = "tanh"}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = nn.optimizers.SGD{lr = 0.5}}

-- One sample: x = (0, 1), whose xor is 1.
local sample, target = x[2], y:get(2, 1)

print("== Before training ==\n")
nn.explain.forward(model, sample)
print()
nn.explain.backward(model, sample, target)
print()
nn.explain.step(model, sample, target)

model:fit(x, y, {epochs = 1000, batch_size = 4, verbose = 0})
print("\n== After 1000 epochs ==\n")
nn.explain.forward(model, sample)
local p = model:predict(x)
local right = 0
for i = 1, 4 do
  if (p:get(i, 1) > 0.5 and 1 or 0) == y:get(i, 1) then right = right + 1 end
end
print(string.format("\nxor: %d of 4 right", right))
