-- A layer written in Lua: ScaleShift learns y = gamma * x + beta per feature
-- (a BatchNormalization without the statistics). It goes into a Sequential
-- like any layer, trains with fit (its gradient comes from autograd), shows
-- in the summary, is saved with the model and loaded back by naming its
-- class.
-- Teaches: nn.Layer, build/call/get_config, self:add_weight,
-- custom_objects.
-- Runs in: about 1 s
local ScaleShift = nn.Layer{
  name = "ScaleShift",
  init = function(self, opts) self.init_scale = opts.init_scale or 1 end,
  build = function(self, input_shape)
    local d = input_shape[#input_shape]
    self.gamma = self:add_weight{name = "gamma", shape = {d}, initializer = "ones"}
    self.beta = self:add_weight{name = "beta", shape = {d}, initializer = "zeros"}
    if self.init_scale ~= 1 then
      nn.no_grad(function() self.gamma:fill_(self.init_scale) end)
    end
  end,
  call = function(self, x, training) return x * self.gamma + self.beta end,
  get_config = function(self) return {init_scale = self.init_scale} end,
}

nn.seed(3)
local x, y = nn.data.iris()
local xtr, ytr, xte, yte = nn.data.split(x, y, 0.8)
local model = nn.Sequential{ScaleShift{input_shape = {4}, init_scale = 0.2},
                            nn.Dense(16, {activation = "relu"}),
                            nn.Dense(3, {activation = "softmax"})}
model:summary()
model:compile{loss = "sparse_categorical_crossentropy", optimizer = nn.optimizers.Adam{lr = 0.02},
              metrics = {"accuracy"}}
model:fit(xtr, ytr, {epochs = 60, batch_size = 16, verbose = 0})
local _, m = model:evaluate(xte, yte)
print(string.format("held-out accuracy %.3f", m.accuracy))
print("learned gamma", model.layers[1].gamma)

-- The gradient of the loss with respect to gamma, by hand on one batch:
model:zero_grad()
nn.losses.sparse_categorical_crossentropy(yte, model(xte)):backward()
print("d loss / d gamma", model.layers[1].gamma.grad)

local path = os.tmpname() .. ".safetensors"
model:save(path)
local back = nn.load(path, {custom_objects = {ScaleShift = ScaleShift}})
os.remove(path)
local same = (back:predict(xte) - model:predict(xte)):abs():max()
print(string.format("saved and loaded: predictions differ by %.1e, init_scale %g", same,
                    back.layers[1].init_scale))
