-- Writes model files of format_version 1 (run with the nnlua of commit ed69539,
-- before the table of layer kinds) and the predictions they must give, for
-- tests/lua/test_modelfile_compat.lua: nnlua make.lua <this folder>
local dir = arg[1]
nn.seed(42)
local x = nn.rand(6, 4)
local m = nn.Sequential{
  nn.Dense(5, {input_dim = 4, activation = "leaky_relu", kernel_regularizer = {l1 = 0.001, l2 = 0.01}, name = "d1"}),
  nn.BatchNormalization{momentum = 0.9, epsilon = 0.01},
  nn.Dropout(0.25),
  nn.Activation("elu", {alpha = 0.5}),
  nn.Dense(3, {activation = "softmax", use_bias = true, kernel_initializer = "he_normal"}),
}
m:compile{loss = "sparse_categorical_crossentropy", optimizer = nn.optimizers.Adam{lr = 0.01}, metrics = {"accuracy"}}
m:fit(x, nn.tensor{1, 2, 3, 1, 2, 3}, {epochs = 3, batch_size = 2, verbose = 0})
m:save(dir .. "/mlp.safetensors")
local f = io.open(dir .. "/mlp.expected.lua", "w")
f:write("return {\n")
local p = m:predict(x):totable()
for _, row in ipairs(p) do
  f:write("  {")
  for _, v in ipairs(row) do f:write(string.format("%.9g, ", v)) end
  f:write("},\n")
end
f:write("}\n")
f:close()
-- an unbuilt, uncompiled model, and a flatten model
local u = nn.Sequential{nn.Dense(2, {activation = "relu"}), nn.Dense(1)}
u:save(dir .. "/unbuilt.safetensors")
local fl = nn.Sequential{nn.Flatten{input_shape = {2, 3}}, nn.Dense(2, {use_bias = false})}
fl:compile{loss = "mse", optimizer = "sgd"}
fl:save(dir .. "/flatten.safetensors")
local xs = nn.rand(3, 2, 3)
f = io.open(dir .. "/flatten.expected.lua", "w")
f:write("return {x = {")
for i = 1, 3 do f:write("{") for j = 1, 2 do f:write("{") for k = 1, 3 do f:write(string.format("%.9g, ", xs:get(i, j, k))) end f:write("}, ") end f:write("}, ") end
f:write("}, y = {")
for _, row in ipairs(fl:predict(xs):totable()) do f:write("{") for _, v in ipairs(row) do f:write(string.format("%.9g, ", v)) end f:write("}, ") end
f:write("}}\n")
f:close()
-- the x of mlp
f = io.open(dir .. "/mlp.x.lua", "w")
f:write("return {")
for _, row in ipairs(x:totable()) do f:write("{") for _, v in ipairs(row) do f:write(string.format("%.9g, ", v)) end f:write("}, ") end
f:write("}\n")
f:close()
print("ok")
