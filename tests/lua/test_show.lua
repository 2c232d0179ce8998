-- nn.show and the REPL's printing of plain tables (as trepl prints them):
-- sorted keys, nesting, short tables on one line, long lists cut with a
-- count and packed, depth limits and cycles marked, tensors and models by
-- a one-line summary inside a table, errors on bad options.
local H = dofile("helper.lua")
local check, checkerr = H.check, H.checkerr

H.test("keys sorted, short tables on one line", function()
  check(nn.show({b = 2, a = 1, [2] = "y", [1] = "x"}) == '{"x", "y", a = 1, b = 2}',
        nn.show({b = 2, a = 1, [2] = "y", [1] = "x"}))
  check(nn.show({}) == "{}", "empty")
  check(nn.show({["not an id"] = true, [10] = 0.5}) == '{[10] = 0.5, ["not an id"] = true}',
        nn.show({["not an id"] = true, [10] = 0.5}))
  check(nn.show({s = "a\nb"}) == '{s = "a\\nb"}', "strings quoted, newlines escaped")
  check(nn.show({x = 0 / 0, y = math.huge, z = 1 / 3}) == "{x = nan, y = inf, z = 0.333333}",
        nn.show({x = 0 / 0, y = math.huge, z = 1 / 3}))
  check(nn.show(5) == "5" and nn.show("s") == "s", "non-tables as tostring")
end)

H.test("nesting, depth and cycles", function()
  local deep = {a = {b = {c = {d = {e = 1}}}}}
  check(nn.show(deep) == "{a = {b = {c = {d = {...}}}}}", nn.show(deep))
  check(nn.show(deep, {depth = 2}) == "{a = {b = {...}}}", nn.show(deep, {depth = 2}))
  local t = {name = "loop"}
  t.self = t
  t.list = {t}
  local s = nn.show(t)
  local _, cycles = s:gsub("<cycle: ", "")
  check(cycles == 2 and s:find('name = "loop"', 1, true), s)
  -- a table seen twice but not inside itself is shown twice
  local shared = {1}
  check(nn.show({a = shared, b = shared}) == "{a = {1}, b = {1}}", "shared is not a cycle")
end)

H.test("long lists cut and packed, wide tables one entry per line", function()
  local list = {}
  for i = 1, 100 do list[i] = i end
  local s = nn.show(list)
  check(s:find("... (60 more)", 1, true), s)
  for line in s:gmatch("[^\n]+") do check(#line <= 78, "a line within 78 columns: " .. line) end
  check(select(2, s:gsub("\n", "")) <= 5, "packed several to a line:\n" .. s)
  check(nn.show(list, {items = 3}) == "{1, 2, 3, ... (97 more)}", nn.show(list, {items = 3}))
  local wide = {first = string.rep("a", 40), second = string.rep("b", 40)}
  check(nn.show(wide) == '{\n  first = "' .. string.rep("a", 40) .. '",\n  second = "' ..
        string.rep("b", 40) .. '"\n}', nn.show(wide))
end)

H.test("tensors and models inside tables: one line each", function()
  local m = nn.Sequential{nn.Dense(2, {input_dim = 3})}
  local s = nn.show({t = nn.ones(2, 3), m = m, v = nn.ones(2)})
  check(s:find("t = nn.Tensor [2x3]", 1, true) and s:find("nn.Sequential 'sequential' (1 layer, 8 params)", 1, true), s)
  check(nn.show(nn.ones(2, 2)) == tostring(nn.ones(2, 2)), "a tensor alone: its own text")
end)

H.test("bad options", function()
  checkerr("nn.show: unknown option 'deep' (valid: depth, items, width)", nn.show, {}, {deep = 1})
  checkerr("nn.show: option 'depth' must be a whole number >= 1, got 0", nn.show, {}, {depth = 0})
  checkerr("nn.show: options must be a table, got number", nn.show, {}, 3)
end)

H.test("the REPL prints plain tables with nn.show, tensors as before", function()
  local bin = os.getenv("NNLUA_BIN") or "nnlua"
  local p = io.popen("printf 'nn.cpu()\\n{b = 1, a = {2}}\\nnn.ones(2)\\n' | '" .. bin ..
                     "' -i 2>&1")
  local out = p:read("a")
  p:close()
  check(not out:find("table: 0x", 1, true), out)
  check(out:find("isa = \"", 1, true) and out:find("{a = {2}, b = 1}", 1, true), out)
  check(out:find(tostring(nn.ones(2)), 1, true), "tensors print as their tostring\n" .. out)
end)

H.done()
