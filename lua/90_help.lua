-- nn.help: the reference entries of nn, printed on request; the same
-- entries become docs/api.md (lua/91_help_markdown.lua, scripts/gen-api.sh),
-- so that the two cannot disagree.
--   nn.help()            lists the topics
--   nn.help("tensors")   one line per entry of a topic; the topics losses,
--                        metrics, activations, initializers, optimizers and
--                        callbacks list the names nn.registry and
--                        nn.callbacks hold, so a new one appears here unasked
--   nn.help(nn.zeros), nn.help("zeros"), nn.help("t:sum"), nn.help(t.sum)
--                        the entry of a function (found by value or name)
--   nn.help(t)           the topic of a value (a tensor, a model, ...); a layer
--                        gives the entry of its kind
-- The entries are written in lua/79_help_*.lua and lua/8N_help_*.lua (through
-- nn._help_add, lua/79_help_add.lua), beside nothing else; the layer kinds and
-- optimizers come from nn.registry. Runs after the rest of nn (90_) so that nn.data, nn.plot
-- and the rest exist when functions are looked up by value.
-- Hidden helpers for tests and scripts: nn._help_text(x) (the text or nil and
-- why), nn._help_entries() and nn._help_topic_list() (copies, for
-- lua/91_help_markdown.lua and tests/lua/test_help_api.lua).
local nn = ...
local registry = nn.registry

-- The names of a table's keys, sorted.
local function sorted_keys(t)
  local keys = {}
  for k in pairs(t or {}) do
    if type(k) == "string" then keys[#keys + 1] = k end
  end
  table.sort(keys)
  return keys
end

-- The first sentence of a text: the one line a listing shows.
local function first_line(text)
  local joined = text:gsub("\n", " ")
  return joined:match("^(.-%.)%s") or joined
end

-- s broken at spaces into lines of at most n characters (a longer word
-- stays whole).
local function wrap(s, n)
  local lines, line = {}, ""
  for word in s:gmatch("%S+") do
    if line ~= "" and #line + 1 + #word > n then
      lines[#lines + 1] = line
      line = word
    else
      line = line == "" and word or (line .. " " .. word)
    end
  end
  lines[#lines + 1] = line
  return table.concat(lines, "\n")
end

local entries = {}

-- The entry named name (exact), or nil.
local function entry_named(name)
  for _, e in ipairs(entries) do
    if e[2] == name then return e end
  end
end

-- Listings generated from nn.registry and nn.callbacks: rows {name, line,
-- entry}, entry the name of the entry that row stands for (if any); or
-- {name, line, topic = name} for a row that is a topic.
local function with_alias(d)
  return d.alias and (d.name .. " (" .. d.alias .. ")") or d.name
end

local function list_losses()
  local rows = {}
  for _, d in ipairs(registry.losses) do rows[#rows + 1] = {with_alias(d), d.help} end
  return rows
end

local function list_metrics()
  local rows = {}
  for _, d in ipairs(registry.metrics) do rows[#rows + 1] = {d.name, d.help} end
  return rows
end

local function list_activations()
  local rows = {}
  for _, d in ipairs(registry.activations) do
    local line = d.formula
    if d.param then line = line .. string.format(" (%s = %g)", d.param, d.default) end
    rows[#rows + 1] = {with_alias(d), line}
  end
  return rows
end

local function list_initializers()
  local rows = {}
  for _, d in ipairs(registry.initializers) do rows[#rows + 1] = {d.name, d.help} end
  return rows
end

local function list_optimizers()
  local rows = {}
  for _, class in ipairs(sorted_keys(registry.optimizers)) do
    local d = registry.optimizers[class]
    rows[#rows + 1] = {class .. " (\"" .. d.name .. "\")", d.help,
                       "nn.optimizers." .. class}
  end
  return rows
end

-- The layer kinds (their usage and help line); entries are made below.
local function list_layers()
  local rows = {}
  for _, name in ipairs(sorted_keys(registry.layers)) do
    local e = entry_named("nn." .. name)
    if e then rows[#rows + 1] = {e[3], first_line(registry.layers[name].help), e[2]} end
  end
  return rows
end

local function list_callbacks()
  local rows = {}
  for _, name in ipairs(sorted_keys(nn.callbacks)) do
    if type(nn.callbacks[name]) == "function" and not name:find("^_") then
      local full = "nn.callbacks." .. name
      local e = entry_named(full)
      rows[#rows + 1] = {name, e and first_line(e[4]) or "(no entry)", full}
    end
  end
  return rows
end

-- The topics: {name, summary, list = rows function, example = snippet}. A
-- help file adds one with nn._help_add_topic (lua/79_help_add.lua).
local topics = {
  {"tensors", "nn.Tensor: float32 arrays of 1 to 8 dimensions"},
  {"autograd", "gradients of tensor computations: requires_grad, backward, nn.grad"},
  {"runtime", "seed, threads, CPU, version"},
  {"data", "nn.data: loading and making data sets"},
  {"models", "nn.Sequential and its methods"},
  {"layers", "the layer kinds (nn.Dense, ...) and their methods", list = list_layers},
  {"training", "what model:fit is made of: losses, metrics, optimizers, callbacks",
   list = function()
     local rows = {}
     for _, name in ipairs{"losses", "metrics", "optimizers", "callbacks"} do
       rows[#rows + 1] = {"nn.help(\"" .. name .. "\")", "the " .. name, topic = name}
     end
     return rows
   end,
   example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(4, {activation = "tanh", input_dim = 2}),
                            nn.Dense(1, {activation = "sigmoid"})}
model:compile{loss = "binary_crossentropy", optimizer = nn.optimizers.Adam{lr = 0.05},
              metrics = {"accuracy"}}
local h = model:fit(x, y, {epochs = 100, verbose = 0,
                           callbacks = {nn.callbacks.EarlyStopping{monitor = "loss"}}})
print(h)]]},
  {"losses", "what fit minimises: compile{loss = name} and nn.losses.<name>",
   list = list_losses,
   example = [[
local y_true, y_pred = nn.tensor{{1}, {0}}, nn.tensor{{0.9}, {0.2}}
for _, d in ipairs(nn.registry.losses) do
  if d.name == "mse" or d.name == "binary_crossentropy" then
    print(d.name, nn.losses[d.name](y_true, y_pred))
  end
end]]},
  {"metrics", "what fit reports: compile{metrics = {name, ...}}",
   list = list_metrics,
   example = [[
local x, y = nn.data.xor()
local model = nn.Sequential{nn.Dense(1, {activation = "sigmoid", input_dim = 2})}
model:compile{loss = "binary_crossentropy", optimizer = "adam",
              metrics = {"accuracy", "precision", "recall"}}
local loss, metrics = model:evaluate(x, y)
print(loss, metrics.accuracy, metrics.precision, metrics.recall)]]},
  {"activations", "the activation functions of layers' activation = name and t:act(name)",
   list = list_activations,
   example = [[
local x = nn.tensor{-2, -0.5, 0, 0.5, 2}
print(x:act("relu"), x:act("leaky_relu", 0.1), x:act("sigmoid"))
print(nn.Dense(3, {activation = "tanh"})(nn.rand(1, 2)))]]},
  {"initializers", "the starting weights of kernel_initializer = and bias_initializer =",
   list = list_initializers,
   example = [[
nn.seed(1)
local layer = nn.Dense(100, {input_dim = 100, kernel_initializer = "he_normal",
                             bias_initializer = "zeros"})
local model = nn.Sequential{layer}
print(layer:get_weights()[1]:std()) -- about sqrt(2 / 100) = 0.14]]},
  {"optimizers", "nn.optimizers: how fit changes the weights, compile{optimizer = name or object}",
   list = list_optimizers},
  {"callbacks", "nn.callbacks: hooks into model:fit", list = list_callbacks},
  {"plots", "nn.plot: gnuplot drawings"},
}

local function topic_named(name)
  for _, t in ipairs(topics) do
    if t[1] == name then return t end
  end
end

-- Topics added by help files: after the one they name, else at the end.
for _, t in ipairs(nn._help_topics or {}) do
  assert(type(t[1]) == "string" and type(t[2]) == "string",
         "nn._help_add_topic: {name, summary, ...} expected")
  local old = topic_named(t[1])
  if old then
    old[2], old.list, old.example = t[2], t.list or old.list, t.example or old.example
  else
    local at = #topics + 1
    for i, u in ipairs(topics) do
      if t.after and u[1] == t.after then at = i + 1 end
    end
    table.insert(topics, at, t)
  end
end
nn._help_topics = nil

-- The entries of the layer kinds and optimizers, from the C tables
-- (nn.registry): usage, help and every option with its default. First, so
-- that a topic shows the kinds before the methods they share.
local function option_lines(options, skip)
  local lines = {}
  for _, o in ipairs(options) do
    if not (skip and skip[o.key]) then
      local d = o.required and "required" or ("default " .. o.default)
      local line = string.format("  %-26s %s (%s)", o.key, o.help, d)
      if o.alias then line = line .. "; also " .. o.alias:gsub("|", ", ") end
      lines[#lines + 1] = line
      if o.choices then
        -- the names wrapped at 80 columns (printed 2 in) under the option's text
        local line, pad = string.format("  %-26s one of:", ""), string.rep(" ", 29)
        for name in o.choices:gmatch("[^,]+") do
          name = name:gsub("^%s+", "")
          if #line + #name + 2 > 78 then
            lines[#lines + 1] = line
            line = pad .. name
          else
            line = line .. " " .. name
          end
          line = line .. ","
        end
        lines[#lines + 1] = line:gsub(",$", "")
      end
    end
  end
  return lines
end

for _, name in ipairs(sorted_keys(registry.layers)) do
  local k = registry.layers[name]
  local args = {}
  for i = 1, k.npositional do args[#args + 1] = k.options[i].key end
  args[#args + 1] = "opts"
  local text = {k.help, "Options (also name, input_shape or input_dim):"}
  for _, l in ipairs(option_lines(k.options)) do text[#text + 1] = l end
  for _, o in ipairs(k.options) do
    if o.key == "activation" then
      -- the shortcut every layer with an activation takes
      local pos = {}
      for i = 1, k.npositional do pos[i] = k.options[i].key end
      local args = #pos > 0 and (table.concat(pos, ", ") .. ", ") or ""
      text[#text + 1] = string.format("Shortcut: the activation as a string after the " ..
                                      "arguments,\n  nn.%s(%s\"relu\") = nn.%s(%s" ..
                                      "{activation = \"relu\"})", name, args, name, args)
    end
  end
  entries[#entries + 1] = {"layers", "nn." .. name,
                           "nn." .. name .. "(" .. table.concat(args, ", ") .. ")",
                           table.concat(text, "\n"), example = k.example}
end

for _, class in ipairs(sorted_keys(registry.optimizers)) do
  local d = registry.optimizers[class]
  local defs = {}
  for _, o in ipairs(d.options) do defs[#defs + 1] = o.key .. "=" .. o.default end
  local text = {d.help .. " (compile{optimizer = \"" .. d.name .. "\"} takes the defaults.)"}
  for _, l in ipairs(option_lines(d.options)) do text[#text + 1] = l end
  local example = string.format([[
nn.seed(1)
local x = nn.rand(64, 2)
local y = x:sum(2, true) -- learn y = x1 + x2
local model = nn.Sequential{nn.Dense(1, {input_dim = 2})}
model:compile{loss = "mse", optimizer = nn.optimizers.%s{lr = 0.05}}
local h = model:fit(x, y, {epochs = 20, verbose = 0})
print(h.history.loss[1], h.history.loss[20])]], class)
  entries[#entries + 1] = {"optimizers", "nn.optimizers." .. class,
                           "nn.optimizers." .. class .. "{" .. table.concat(defs, ", ") .. "}",
                           table.concat(text, "\n"), example = example}
end

-- The entries of the parts of nn (lua/79_help_*.lua and lua/8N_help_*.lua
-- append {topic, name, usage, text, example = ...} to nn._help_extra). Every
-- nn.callbacks.X is in the callbacks topic, whatever its file said, since
-- that topic lists nn.callbacks.
for _, e in ipairs(nn._help_extra or {}) do
  if e[2]:find("^nn%.callbacks%.") then e[1] = "callbacks" end
  entries[#entries + 1] = e
end
nn._help_extra = nil

-- A topic an entry names but no file declared (nn._help_add_topic) still
-- gets a section, so that no entry is lost from nn.help and docs/api.md.
local function ensure_topic(name)
  if not topic_named(name) then
    topics[#topics + 1] = {name, type(nn[name]) == "table" and "nn." .. name or name}
  end
end
for _, e in ipairs(entries) do ensure_topic(e[1]) end
nn._plotkit = nil

-- The short name of an entry: what follows the last '.' or ':'.
local function short(name)
  return name:match("[.:]([%w_]+)$") or name
end

local function indent(text, by)
  return by .. text:gsub("\n", "\n" .. by)
end

local function format_entry(e)
  local s = e[3] .. "\n" .. indent(e[4], "  ")
  if e.example then s = s .. "\n  Example:\n" .. indent(e.example, "    ") end
  return s
end

-- The rows of a topic's listing and the set of entry names they stand for.
local function topic_rows(t)
  local rows, covered = t.list and t.list() or {}, {}
  for _, r in ipairs(rows) do
    if r[3] then covered[r[3]] = true end
  end
  return rows, covered
end

local function format_topic(name)
  local t = topic_named(name)
  local lines = {name .. ": " .. t[2]}
  local rows, covered = topic_rows(t)
  -- name and line side by side, the line wrapped to 80 columns; under its
  -- name when the names are too long for that
  local width = 0
  for _, r in ipairs(rows) do width = math.max(width, #r[1]) end
  for _, r in ipairs(rows) do
    if width <= 32 then
      local text = wrap(r[2], 80 - width - 4):gsub("\n", "\n" .. string.rep(" ", width + 4))
      lines[#lines + 1] = string.format("  %-" .. width .. "s  %s", r[1], text)
    else
      lines[#lines + 1] = "  " .. r[1] .. "\n      " .. wrap(r[2], 74):gsub("\n", "\n      ")
    end
  end
  for _, e in ipairs(entries) do
    if e[1] == name and not covered[e[2]] then lines[#lines + 1] = "  " .. e[3] end
  end
  if t.example then lines[#lines + 1] = "  Example:\n" .. indent(t.example, "    ") end
  return table.concat(lines, "\n")
end

local function format_topics()
  local lines = {"nn " .. tostring(nn.version) .. ": nn.help(x) for any function, name or value.",
                 "Topics (nn.help(\"topic\")):"}
  for _, t in ipairs(topics) do
    lines[#lines + 1] = string.format("  %-13s %s", t[1], t[2])
  end
  return table.concat(lines, "\n")
end

-- Where nn keeps its functions, and the prefix of their entries' names.
-- nn.fit is model:fit (every model method is also nn.f).
local function places()
  local p = {{nn.Model, "model:"}, {nn, "nn."}, {nn.Tensor, "Tensor:"}, {nn.data, "nn.data."},
             {nn.plot, "nn.plot."}, {nn.optimizers, "nn.optimizers."},
             {nn.callbacks, "nn.callbacks."}, {nn.losses, "nn.losses."},
             {nn.explain, "nn.explain."}, {nn.dist, "nn.dist."}, {nn.History, "history:"}}
  local ok, opt = pcall(function() return getmetatable(nn.optimizers.SGD{}).__index end)
  if ok and type(opt) == "table" then p[#p + 1] = {opt, "Optimizer:"} end
  local mt = debug.getmetatable(nn.Dense(1))
  if mt and type(mt.__methods) == "table" then p[#p + 1] = {mt.__methods, "layer:"} end
  return p
end

-- The full name ("nn.zeros", "Tensor:sum", "nn.data.csv", "model:fit") of
-- function f: the first place holding it whose name has an entry, else the
-- first place holding it.
local function name_of(f)
  local first
  for _, p in ipairs(places()) do
    if type(p[1]) == "table" then
      for k, v in pairs(p[1]) do
        if rawequal(v, f) and type(k) == "string" then
          if entry_named(p[2] .. k) then return p[2] .. k end
          if p[2] == "nn." and entry_named("model:" .. k) then return "model:" .. k end
          first = first or p[2] .. k
        end
      end
    end
  end
  return first
end

-- The entries matching a name given by the user: exact, or by short name
-- ("zeros", "t:sum", "Tensor.sum", "fit").
local function find(name)
  local e = entry_named(name)
  if e then return {e} end
  local s = short(name)
  local found = {}
  for _, e in ipairs(entries) do
    if short(e[2]) == s then found[#found + 1] = e end
  end
  return found
end

local function is_a(x, mtname)
  local mt = debug.getmetatable(x)
  return mt ~= nil and mt.__name == mtname
end

-- The help text for x, or nil and a reason.
local function help_text(x)
  if x == nil then return format_topics() end
  if type(x) == "string" then
    if topic_named(x) then return format_topic(x) end
  elseif type(x) == "function" then
    local n = name_of(x)
    if not n then return nil, "no help for this function (not part of nn)" end
    x = n
  elseif is_a(x, "nn.Tensor") then
    return format_topic("tensors")
  elseif rawequal(x, nn) then
    return format_topics()
  elseif rawequal(x, nn.data) then
    return format_topic("data")
  elseif rawequal(x, nn.plot) then
    return format_topic("plots")
  elseif rawequal(x, nn.optimizers) then
    return format_topic("optimizers")
  elseif rawequal(x, nn.callbacks) then
    return format_topic("callbacks")
  elseif rawequal(x, nn.losses) then
    return format_topic("losses")
  elseif nn.explain and rawequal(x, nn.explain) and topic_named("explain") then
    return format_topic("explain")
  elseif is_a(x, "nn.Layer") then
    x = "nn." .. x.type -- a layer: its kind's entry (from nn.registry.layers)
  elseif type(x) == "table" or type(x) == "userdata" then
    local s = tostring(x)
    if s:find("Sequential") or s:find("Model") then return format_topic("models") end
    return nil, "no help for " .. type(x) .. " values; nn.help() lists the topics"
  else
    return nil, "no help for " .. type(x) .. " values; nn.help() lists the topics"
  end
  local loss = x:match("^nn%.losses%.([%w_]+)$")
  if loss then
    for _, d in ipairs(registry.losses) do
      if d.name == loss or d.alias == loss then
        return "nn.losses." .. with_alias(d) .. "(y_true, y_pred): " .. d.help .. "\n\n" ..
               format_entry(entry_named("nn.losses"))
      end
    end
  end
  local found = find(x)
  if #found == 0 then
    return nil, "no help for '" .. x .. "'; nn.help() lists the topics"
  end
  local parts = {}
  for i, e in ipairs(found) do parts[i] = format_entry(e) end
  return table.concat(parts, "\n\n")
end

-- nn.help([x]): prints the entry, topic or topic list; returns nothing so
-- that the REPL does not print it twice.
-- Lines longer than 80 columns broken at a space, the rest indented under
-- the line's text (help is read in an 80-column terminal).
local function wrap80(text)
  local out = {}
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    local lead = #line:match("^ *") + 2
    while #line > 80 do
      local cut = 81
      while cut > lead + 10 and line:sub(cut, cut) ~= " " do cut = cut - 1 end
      if cut <= lead + 10 then break end -- one long word: left as it is
      out[#out + 1] = line:sub(1, cut - 1)
      line = string.rep(" ", lead) .. line:sub(cut + 1)
    end
    out[#out + 1] = line
  end
  return table.concat(out, "\n")
end

function nn.help(x)
  local text, why = help_text(x)
  print(wrap80(text or why))
end

nn._help_text = help_text

-- A help file loaded later (a user's module) still adds entries and topics.
function nn._help_add(e)
  if e[2]:find("^nn%.callbacks%.") then e[1] = "callbacks" end
  entries[#entries + 1] = e
  ensure_topic(e[1])
end
function nn._help_add_topic(t) topics[#topics + 1] = t end

-- Copies for tests: every entry (topic, name, usage, text, example) and every
-- topic with its listing's rows.
function nn._help_entries()
  local copy = {}
  for i, e in ipairs(entries) do
    copy[i] = {topic = e[1], name = e[2], usage = e[3], text = e[4], example = e.example}
  end
  return copy
end

function nn._help_topic_list()
  local copy = {}
  for i, t in ipairs(topics) do
    copy[i] = {name = t[1], summary = t[2], rows = (topic_rows(t)), example = t.example}
  end
  return copy
end
