-- Lua-side helpers of nn.Tensor (the C side is src/bind/lnn_tensor.c).
local nn = ...

-- t:size(): the shape as a table {d1, d2, ...}.
function nn.Tensor.size(t)
  return {t:shape()}
end
