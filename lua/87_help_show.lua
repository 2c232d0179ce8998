-- nn.help entry of nn.show (lua/05_show.lua); lua/90_help.lua merges it
-- into nn.help and docs/api.md.
local nn = ...
local add = nn._help_add

add{"runtime", "nn.show", "nn.show(v [, {depth = 4, items = 40, width = 78}]) -> text",
    "v as the REPL prints it: a table nested with sorted keys, short tables on one\n" ..
    "line, long lists cut with a count, deep levels as {...} and cycles marked; a\n" ..
    "tensor or model inside a table as one line. print(nn.show(t)) in a script.",
    example = [[
local x, y = nn.data.xor()
local m = nn.Sequential{nn.Dense(1, {input_dim = 2, activation = "sigmoid"})}
m:compile{loss = "binary_crossentropy", metrics = {"accuracy"}}
local h = m:fit(x, y, {epochs = 3, verbose = 0})
print(nn.show(h.history))
print(nn.show(nn.cpu()))]]}
