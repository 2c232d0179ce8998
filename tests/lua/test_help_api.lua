-- nn.help and docs/api.md are one text: docs/api.md is what
-- nn._help_markdown() writes (scripts/gen-api.sh); every public function of
-- nn has an entry; every name of nn.registry and nn.callbacks is in its
-- topic's listing (a new one too); and every entry's example runs.
local H = dofile("helper.lua")
local check = H.check

local entries = nn._help_entries()
local topics = nn._help_topic_list()

local function topic_text(name)
  local text, why = nn._help_text(name)
  return assert(text, why)
end

-- Names (a list) that failed, as one message.
local function none(list, what)
  table.sort(list)
  check(#list == 0, #list .. " " .. what .. ":\n  " .. table.concat(list, "\n  "))
end

H.test("docs/api.md is the generated reference", function()
  local dir = os.getenv("NNLUA_SOURCE_DIR") or "../.."
  local f = assert(io.open(dir .. "/docs/api.md", "rb"))
  local have = f:read("a")
  f:close()
  local want = nn._help_markdown()
  if have ~= want then
    local n = 1
    local hl, wl = have:gmatch("([^\n]*)\n"), want:gmatch("([^\n]*)\n")
    while true do
      local a, b = hl(), wl()
      if a ~= b then
        error(string.format("docs/api.md differs at line %d (run scripts/gen-api.sh):\n" ..
                            "  file:      %s\n  generated: %s", n, tostring(a), tostring(b)))
      end
      if a == nil then break end
      n = n + 1
    end
  end
  check(want:find("\n## Contents\n", 1, true) and want:find("\n## tensors\n", 1, true))
  check(want:find("\n### `nn.Dense`\n", 1, true) and want:find("```lua\n", 1, true))
end)

H.test("every entry is in a topic, has a name once, and an example", function()
  local known, seen = {}, {}
  for _, t in ipairs(topics) do known[t.name] = true end
  local bad, twice, noex = {}, {}, {}
  for _, e in ipairs(entries) do
    if not known[e.topic] then bad[#bad + 1] = e.name .. " (topic " .. e.topic .. ")" end
    if seen[e.name] then twice[#twice + 1] = e.name end
    seen[e.name] = true
    if type(e.example) ~= "string" or e.example == "" then noex[#noex + 1] = e.name end
  end
  none(bad, "entries in no topic")
  none(twice, "names with two entries")
  none(noex, "entries without an example")
  check(#entries > 200, "entries: " .. #entries)
end)

-- Every public function (its name not starting with _) of the places nn
-- keeps them, with the prefix of its entry's name. A function has an entry
-- under its own name or (the same value elsewhere) another's: nn.fit is
-- model:fit.
H.test("every public function has an entry", function()
  local by_name = {}
  for _, e in ipairs(entries) do by_name[e.name] = true end
  local layer_mt = debug.getmetatable(nn.Dense(1))
  local model_mt = debug.getmetatable(nn.Sequential())
  local places = {
    {nn, "nn."}, {nn.data, "nn.data."}, {nn.plot, "nn.plot."},
    {nn.callbacks, "nn.callbacks."}, {nn.optimizers, "nn.optimizers."},
    {nn.losses, "nn.losses."}, {nn.explain, "nn.explain."}, {nn.dist, "nn.dist."},
    {nn.Tensor, "Tensor:"}, {nn.Model, "model:"}, {model_mt.__methods, "model:"},
    {layer_mt.__methods, "layer:"}, {nn.History, "history:"},
    {getmetatable(nn.optimizers.SGD{}).__index, "Optimizer:"},
  }
  -- the names each function value has an entry under
  local has = {}
  for _, p in ipairs(places) do
    for k, v in pairs(p[1] or {}) do
      if type(v) == "function" and by_name[p[2] .. k] then has[v] = true end
    end
  end
  local loss_names = {}
  for _, d in ipairs(nn.registry.losses) do
    loss_names[d.name] = true
    if d.alias then loss_names[d.alias] = true end
  end
  local missing, n = {}, 0
  for _, p in ipairs(places) do
    for k, v in pairs(p[1] or {}) do
      if type(k) == "string" and type(v) == "function" and not k:find("^_") then
        n = n + 1
        -- nn.losses.<name> are the registry's losses, listed by the losses
        -- topic; nn.fit and the like are model:fit
        local listed = p[2] == "nn.losses." and loss_names[k] or
                       p[2] == "nn." and by_name["model:" .. k]
        if not (has[v] or listed) then missing[#missing + 1] = p[2] .. k end
        local text = nn._help_text(v)
        if not text then missing[#missing + 1] = p[2] .. k .. " (not found by value)" end
      end
    end
  end
  none(missing, "public functions without an entry")
  check(n > 200, "functions walked: " .. n)
end)

-- The listing of topic `name` holds every row name.
local function check_listed(topic, names)
  local text = topic_text(topic)
  local md = nn._help_markdown()
  local missing = {}
  for _, name in ipairs(names) do
    if not text:find("\n  " .. name, 1, true) then missing[#missing + 1] = name .. " (nn.help)" end
    if not md:find("| `" .. name, 1, true) and not md:find("[`" .. name, 1, true) then
      missing[#missing + 1] = name .. " (docs/api.md)"
    end
  end
  none(missing, "names missing from topic " .. topic)
end

H.test("every registry name is in its topic", function()
  for _, kind in ipairs{"losses", "metrics", "activations", "initializers"} do
    local names = {}
    for _, d in ipairs(nn.registry[kind]) do
      check(type(d.name) == "string" and type(d.help or d.formula) == "string",
            kind .. " entries have a name and a line")
      names[#names + 1] = d.name
    end
    check(#names >= 5, kind)
    check_listed(kind, names)
  end
  local opts = {}
  for class in pairs(nn.registry.optimizers) do opts[#opts + 1] = class end
  check_listed("optimizers", opts)
  local layers, missing = topic_text("layers"), {}
  for name in pairs(nn.registry.layers) do
    if not layers:find("\n  nn." .. name .. "(", 1, true) then missing[#missing + 1] = name end
  end
  none(missing, "layer kinds missing from topic layers")
  local cbs = {}
  for name, v in pairs(nn.callbacks) do
    if type(v) == "function" and not name:find("^_") then cbs[#cbs + 1] = name end
  end
  check(#cbs >= 7)
  check_listed("callbacks", cbs)
  check(not topic_text("callbacks"):find("(no entry)", 1, true), topic_text("callbacks"))
  check(topic_text("activations"):find("\n  relu%s+max%(0, x%)"), "a formula per activation")
  check(topic_text("initializers"):find("\n  he_normal%s+truncated normal"), "a line per initializer")
end)

H.test("a new registry name or callback appears without editing help", function()
  local losses = nn.registry.losses
  losses[#losses + 1] = {name = "made_up_loss", help = "a loss only this test knows"}
  local ok, text = pcall(topic_text, "losses")
  losses[#losses] = nil
  check(ok, text)
  check(text:find("\n  made_up_loss%s+a loss only this test knows"), text)
  nn.callbacks.MadeUp = function() return {} end
  ok, text = pcall(topic_text, "callbacks")
  nn.callbacks.MadeUp = nil
  check(ok, text)
  check(text:find("\n  MadeUp%s+%(no entry%)"), "an undocumented callback is flagged:\n" .. text)
end)

H.test("a help file adds a topic and entries", function()
  nn._help_add_topic{"made_up", "a topic only this test knows", example = "print(1)"}
  nn._help_add{"made_up", "nn.made_up_fn", "nn.made_up_fn(x)", "Does nothing.",
               example = "print(2)"}
  check(topic_text():find("\n  made_up%s+a topic only this test knows"), topic_text())
  local t = topic_text("made_up")
  check(t:find("^made_up: a topic only this test knows\n  nn.made_up_fn%(x%)"), t)
  check(nn._help_text("made_up_fn"):find("Does nothing.", 1, true))
  check(nn._help_markdown():find("\n## made_up\n", 1, true))
  -- an entry of a topic nobody declared is not lost
  nn._help_add{"undeclared", "nn.undeclared_fn", "nn.undeclared_fn()", "Nothing.",
               example = "print(3)"}
  check(topic_text("undeclared"):find("\n  nn.undeclared_fn()", 1, true))
  check(nn._help_markdown():find("\n### `nn.undeclared_fn`\n", 1, true))
end)

H.test("nn.help prints the example", function()
  local text = nn._help_text(nn.zeros)
  check(text:find("\n  Example:\n    print(nn.zeros(2, 3))", 1, true), text)
  check(nn._help_text(nn.Conv2D):find("\n  Example:\n    local conv = nn.Conv2D", 1, true))
  check(nn._help_text("nn.optimizers.Adam"):find("nn.optimizers.Adam{lr = 0.05}", 1, true))
end)

-- Runs each example in its own environment with print captured; the names
-- of those that fail.
H.test("every example runs", function()
  local failed, n = {}, 0
  local function run(name, code)
    n = n + 1
    local out, made = {}, {}
    -- os.tmpname makes the file; an example adds an extension and removes
    -- only its own file, so the bare names are removed here
    local tmp_os = setmetatable({tmpname = function()
      local n = os.tmpname()
      made[#made + 1] = n
      return n
    end}, {__index = os})
    local env = setmetatable({print = function(...)
      local parts = table.pack(...)
      for i = 1, parts.n do parts[i] = tostring(parts[i]) end
      out[#out + 1] = table.concat(parts, "\t", 1, parts.n)
    end, os = tmp_os}, {__index = _G})
    local saved = print
    print = env.print -- nn.help and model:summary print through the global
    local f, err = load(code, "=example of " .. name, "t", env)
    local ok = f ~= nil
    if f then ok, err = pcall(f) end
    print = saved
    nn.set_grad_enabled(true)
    for _, n in ipairs(made) do os.remove(n) end
    if not ok then failed[#failed + 1] = name .. ": " .. tostring(err) end
  end
  for _, e in ipairs(entries) do run(e.name, e.example or "") end
  for _, t in ipairs(topics) do
    if t.example then run("topic " .. t.name, t.example) end
  end
  none(failed, "examples that fail")
  check(n > 200, "examples run: " .. n)
end)

H.done()
