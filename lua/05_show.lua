-- nn.show(v [, opts]): a value as readable text, the way the REPL prints
-- it (as trepl does for Torch7): a table nested with sorted keys, short
-- ones on one line, long lists cut with a count, deep levels and cycles
-- marked instead of followed; a tensor or model by its own tostring
-- (inside a table by a one-line summary); anything else by tostring.
local nn = ...

local defaults = {depth = 4, items = 40, width = 78}

local function is_ident(k)
  return type(k) == "string" and k:match("^[%a_][%w_]*$") ~= nil
end

-- Keys in a fixed order: 1..n of the list part first, then numbers, then
-- strings, then the rest by their text.
local function sorted_keys(t, n)
  local keys = {}
  for k in pairs(t) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  local rank = {number = 1, string = 2}
  table.sort(keys, function(a, b)
    local ra, rb = rank[type(a)] or 3, rank[type(b)] or 3
    if ra ~= rb then return ra < rb end
    if ra == 3 then return tostring(a) < tostring(b) end
    return a < b
  end)
  return keys
end

-- The list part's length, counted by raw access (no __len or __index).
local function list_len(t)
  local n = 0
  while rawget(t, n + 1) ~= nil do n = n + 1 end
  return n
end

local function scalar(v)
  local ty = type(v)
  if ty == "string" then return (string.format("%q", v):gsub("\\\n", "\\n")) end
  if math.type(v) == "float" then
    if v ~= v then return "nan" end
    if v == math.huge then return "inf" elseif v == -math.huge then return "-inf" end
    return string.format("%.6g", v)
  end
  return tostring(v)
end

-- A one-line stand-in for a value with a __tostring of several lines
-- (tensors, models) inside a table.
local function short(v)
  local ok, s = pcall(tostring, v)
  if not ok then return "<" .. type(v) .. ": tostring failed>" end
  local first = s:match("^[^\n]*")
  if first ~= s then
    local mt = getmetatable(v)
    local name = type(mt) == "table" and rawget(mt, "__name")
    if name == "nn.Tensor" and v.shape then
      local ok2, dims = pcall(function() return table.concat({v:shape()}, "x") end)
      if ok2 then return "nn.Tensor [" .. dims .. "]" end
    end
    return first .. " ..."
  end
  return s
end

local function show(v, opts, depth, seen, indent)
  if type(v) ~= "table" then
    if type(v) == "userdata" then return short(v) end
    return scalar(v)
  end
  local mt = getmetatable(v)
  if type(mt) == "table" and rawget(mt, "__tostring") then return short(v) end
  if seen[v] then return "<cycle: " .. tostring(v):gsub("^table: ", "") .. ">" end
  local n = list_len(v)
  local keys = sorted_keys(v, n)
  if n == 0 and #keys == 0 then return "{}" end
  if depth >= opts.depth then return "{...}" end
  seen[v] = true
  local items, shown = {}, 0
  local total = n + #keys
  for i = 1, n do
    if shown >= opts.items then break end
    items[#items + 1] = show(rawget(v, i), opts, depth + 1, seen, indent .. "  ")
    shown = shown + 1
  end
  for _, k in ipairs(keys) do
    if shown >= opts.items then break end
    local ks = is_ident(k) and k or ("[" .. show(k, opts, opts.depth, seen, "") .. "]")
    items[#items + 1] = ks .. " = " .. show(rawget(v, k), opts, depth + 1, seen, indent .. "  ")
    shown = shown + 1
  end
  seen[v] = nil
  if total > shown then items[#items + 1] = string.format("... (%d more)", total - shown) end
  local line = "{" .. table.concat(items, ", ") .. "}"
  if not line:find("\n", 1, true) and #indent + #line <= opts.width then return line end
  local inner = indent .. "  "
  if #keys == 0 and not line:find("\n", 1, true) then
    -- a long list of plain values: as many to a line as fit
    local lines, cur = {}, ""
    for i, it in ipairs(items) do
      local piece = it .. (i < #items and "," or "")
      if cur ~= "" and #inner + #cur + 1 + #piece > opts.width then
        lines[#lines + 1] = cur
        cur = piece
      else
        cur = cur == "" and piece or (cur .. " " .. piece)
      end
    end
    lines[#lines + 1] = cur
    return "{\n" .. inner .. table.concat(lines, "\n" .. inner) .. "\n" .. indent .. "}"
  end
  return "{\n" .. inner .. table.concat(items, ",\n" .. inner) .. "\n" .. indent .. "}"
end

function nn.show(v, opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("nn.show: options must be a table, got " .. type(opts), 2)
  end
  local o = {}
  for k, d in pairs(defaults) do
    local x = opts and opts[k]
    if x ~= nil and (math.type(x) ~= "integer" or x < 1) then
      error(string.format("nn.show: option '%s' must be a whole number >= 1, got %s", k,
                          tostring(x)), 2)
    end
    o[k] = x or d
  end
  for k in pairs(opts or {}) do
    if defaults[k] == nil then
      error(string.format("nn.show: unknown option '%s' (valid: depth, items, width)",
                          tostring(k)), 2)
    end
  end
  if type(v) ~= "table" then
    local ok, s = pcall(tostring, v)
    if ok then return s end
    return short(v)
  end
  local mt = getmetatable(v)
  if type(mt) == "table" and rawget(mt, "__tostring") then return tostring(v) end
  return show(v, o, 0, {}, "")
end
