-- docs/tutorial.md and its Chinese translation docs/tutorial.zh.md teach
-- with the same code: their ```lua blocks are byte-identical and in the
-- same order, with the same blocks marked <!-- norun: reason -->; every
-- picture either references exists (a real PNG or GIF), and every picture
-- a block that runs writes is shown. (The blocks themselves run in the docs test and
-- in scripts/tutorial-images.sh.)
local H = require "helper"
local check = H.check

local docs = (os.getenv("NNLUA_SOURCE_DIR") or (io.popen("pwd"):read("l") .. "/../..")) .. "/docs/"

local function read(path)
  local f = assert(io.open(path, "rb"), "cannot open " .. path)
  local s = f:read("a")
  f:close()
  return s
end

-- The ```lua blocks of markdown text, in order: {code, line, norun}. A
-- norun mark belongs to the block right after it (blank lines between).
local function blocks(text)
  local out, inblock, buf, start, mark = {}, false, nil, 0, nil
  local n = 0
  for line in (text .. "\n"):gmatch("(.-)\r?\n") do
    n = n + 1
    if inblock then
      if line:match("^```%s*$") then
        out[#out + 1] = {code = table.concat(buf, "\n"), line = start, norun = mark}
        inblock, mark = false, nil
      else
        buf[#buf + 1] = line
      end
    elseif line:match("^```lua%s*$") then
      inblock, buf, start = true, {}, n
    elseif line:match("^<!%-%- norun:") then
      mark = line:match("^<!%-%- norun:%s*(.-)%s*%-%->") or ""
    elseif line:match("%S") then
      mark = nil
    end
  end
  return out, inblock
end

-- Picture paths of markdown text: ![alt](path).
local function images(text)
  local out = {}
  for path in text:gmatch("!%[[^%]]*%]%(([^)%s]+)%)") do out[#out + 1] = path end
  return out
end

local en, zh = read(docs .. "tutorial.md"), read(docs .. "tutorial.zh.md")

H.test("the block extractor", function()
  local b, open = blocks("x\n```lua\na = 1\n```\n<!-- norun: needs a window -->\n\n```lua\nb = 2\n" ..
                         "c = 3\n```\n```sh\nls\n```\n<!-- norun: x -->\ntext\n```lua\nd = 4\n```\n")
  check(not open and #b == 3, "three lua blocks, got " .. #b)
  check(b[1].code == "a = 1" and not b[1].norun, "block 1")
  check(b[2].code == "b = 2\nc = 3" and b[2].norun == "needs a window", "block 2 and its mark")
  check(b[3].code == "d = 4" and b[3].norun == nil, "a mark followed by text is no mark")
  local _, unclosed = blocks("```lua\na = 1\n")
  check(unclosed, "an unclosed block is seen")
  local im = images("![a](images/x.png) and ![b c](images/tutorial/y.gif)")
  check(#im == 2 and im[1] == "images/x.png" and im[2] == "images/tutorial/y.gif", "images")
end)

local ben, open_en = blocks(en)
local bzh, open_zh = blocks(zh)

H.test("the code is the same in both languages", function()
  check(not open_en and not open_zh, "every block is closed")
  check(#ben >= 30, "the tutorial has its blocks: " .. #ben)
  check(#ben == #bzh, string.format("tutorial.md has %d lua blocks, tutorial.zh.md %d",
                                    #ben, #bzh))
  for i = 1, math.min(#ben, #bzh) do
    check(ben[i].code == bzh[i].code,
          string.format("block %d differs: tutorial.md line %d, tutorial.zh.md line %d",
                        i, ben[i].line, bzh[i].line))
    check((ben[i].norun ~= nil) == (bzh[i].norun ~= nil),
          string.format("block %d is norun in one language only (line %d / %d)",
                        i, ben[i].line, bzh[i].line))
    check(ben[i].norun ~= "", string.format("block %d (line %d): norun without a reason",
                                            i, ben[i].line))
  end
end)

-- A picture shown in the tutorial: a PNG with something drawn on it
-- (H.check_png) or an animated GIF, and small enough for a web page.
local MAX_BYTES = 400000
local function check_picture(path)
  local f = io.open(path, "rb")
  check(f, path .. ": missing")
  local s = f:read("a")
  f:close()
  check(#s <= MAX_BYTES, string.format("%s: %d bytes, more than %d", path, #s, MAX_BYTES))
  if path:match("%.gif$") then
    check(s:sub(1, 6) == "GIF89a" and s:sub(-1) == ";" and #s > 2000, path .. ": not a GIF")
  else
    local st = H.check_png(path)
    check(st.width <= 1200 and st.height <= 900,
          string.format("%s: %dx%d pixels, larger than a page needs", path, st.width, st.height))
  end
end

H.test("every picture shown exists", function()
  for _, text in ipairs{en, zh} do
    local list = images(text)
    check(#list >= 20, "pictures are shown: " .. #list)
    for _, path in ipairs(list) do check_picture(docs .. path) end
  end
  local a, b = images(en), images(zh)
  check(#a == #b, string.format("%d pictures in tutorial.md, %d in tutorial.zh.md", #a, #b))
  for i = 1, math.min(#a, #b) do
    check(a[i] == b[i], "picture " .. i .. ": " .. a[i] .. " vs " .. b[i])
  end
end)

H.test("every picture a block writes is shown", function()
  local shown = {}
  for _, path in ipairs(images(en)) do shown[path] = true end
  local written = 0
  for _, b in ipairs(ben) do
    -- (a norun block draws nothing for scripts/tutorial-images.sh)
    for name in (b.norun and "" or b.code):gmatch('file%s*=%s*"([%w_%-]+%.[pg][ni][gf])"') do
      written = written + 1
      check(shown["images/tutorial/" .. name],
            string.format("block at line %d writes %s, which the tutorial does not show",
                          b.line, name))
    end
  end
  check(written >= 20, "blocks write pictures: " .. written)
end)

H.done()
