-- nn.help for every layer kind comes from the registry (nn.registry.layers):
-- each kind, including ones added after this test was written, has an
-- entry by value (nn.Conv2D), by name ("nn.Conv2D", "Conv2D") and for a
-- layer of that kind, with its help line and every option; and the plot
-- entries name what nn.plot draws for convolutions.
local H = dofile("helper.lua")
local check = H.check

-- The text nn.help prints for x.
local function help(x)
  local saved, lines = print, {}
  print = function(...) lines[#lines + 1] = table.concat({...}, "\t") end
  local ok, err = pcall(nn.help, x)
  print = saved
  assert(ok, err)
  return table.concat(lines, "\n")
end

H.test("every registered layer kind has its entry", function()
  local n = 0
  for name, kind in pairs(nn.registry.layers) do
    n = n + 1
    check(type(nn[name]) == "function", "nn." .. name .. " is a constructor")
    local text = help(nn[name])
    check(text:find("^nn%." .. name .. "%("), "entry of nn." .. name .. ": " .. text)
    -- printed wrapped at 80 columns: compare the words
    local flat = text:gsub("%s+", " ")
    check(flat:find(kind.help:gsub("%s+", " "), 1, true), "nn." .. name .. " shows its help line")
    for line in text:gmatch("[^\n]+") do
      check(#line <= 80, "nn." .. name .. ": a line over 80 columns: " .. line)
    end
    local has_act = false
    for _, o in ipairs(kind.options) do has_act = has_act or o.key == "activation" end
    check(not has_act or flat:find('"relu") = nn.' .. name, 1, true),
          "nn." .. name .. " shows the activation shortcut: " .. text)
    for _, o in ipairs(kind.options) do
      check(text:find("\n    " .. o.key .. " ", 1, true),
            "nn." .. name .. " lists option " .. o.key .. ":\n" .. text)
    end
    for i = 1, kind.npositional do
      check(text:find(kind.options[i].key, #("nn." .. name) + 1, true),
            "positional " .. kind.options[i].key .. " in the usage")
    end
    check(help("nn." .. name) == text, "by full name")
    check(help(name) == text, "by short name")
  end
  check(n >= 8, "the registry lists the kinds")
  check(help("layers"):find("\n  nn.Conv2D(filters, kernel_size, opts)", 1, true),
        "the layers topic lists Conv2D")
end)

H.test("a layer value gives its kind's entry", function()
  check(help(nn.Dense(3)) == help(nn.Dense))
  check(help(nn.Conv2D(4, 3)) == help(nn.Conv2D))
  check(help(nn.MaxPooling2D(2)) == help("MaxPooling2D"))
end)

H.test("plot entries for convolutions", function()
  local fm = help(nn.plot.feature_maps)
  check(fm:find("^nn%.plot%.feature_maps%(model, x, layer, opts%)"), fm)
  check(help("feature_maps") == fm)
  check(help("plots"):find("nn.plot.feature_maps(model, x, layer, opts)", 1, true))
  check(help(nn.plot.weights):find("a row per filter", 1, true))
  check(help(nn.plot.model):find("blocks of feature maps", 1, true))
  check(help("model:predict"):find("opts.upto", 1, true))
end)

H.done()
