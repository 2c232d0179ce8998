-- H.check_png and tests/tools/pngstat: a real plot passes, a blank
-- picture, a one-colour image and a file that is not a PNG fail, and the
-- figures pngstat prints (size, colours, non-background share) are right.
local H = dofile("helper.lua")
local check, checkerr = H.check, H.checkerr

local base = os.tmpname()
local function tmp(ext) return base .. ext end
local made = {}
local function file(ext, bytes)
  local p = tmp(ext)
  made[#made + 1] = p
  if bytes then
    local f = assert(io.open(p, "wb"))
    f:write(bytes)
    f:close()
  end
  return p
end

local have_tool = os.getenv("NNLUA_PNGSTAT") ~= nil
local gnuplot = os.execute("command -v gnuplot >/dev/null 2>&1")

H.test("not a PNG", function()
  checkerr("is not a PNG", H.check_png, file(".a.png", "GIF89a and more bytes"))
  checkerr("no PNG at", H.check_png, "/nonexistent-nnlua/x.png")
end)

if have_tool then
  H.test("pngstat figures of a generated 4x2 RGB image", function()
    -- row 1 white, white, white, red; row 2 by the Up filter (adds row 1)
    local function chunk(t, d)
      return string.pack(">I4", #d) .. t .. d .. string.pack(">I4", 0) -- crc is not checked
    end
    -- a stored (uncompressed) zlib stream: header, one final block, adler32
    local raw = "\0" .. ("\255\255\255"):rep(3) .. "\255\0\0" ..
                "\2" .. ("\0\0\0"):rep(1) .. "\0\0\0" .. "\0\0\0" .. "\0\255\0"
    local function adler(s)
      local a, b = 1, 0
      for i = 1, #s do a = (a + s:byte(i)) % 65521; b = (b + a) % 65521 end
      return b * 65536 + a
    end
    local z = "\120\1" .. "\1" .. string.pack("<I2I2", #raw, ~#raw & 0xffff) .. raw ..
              string.pack(">I4", adler(raw))
    local png = "\137PNG\r\n\26\n" ..
                chunk("IHDR", string.pack(">I4I4BBBBB", 4, 2, 8, 2, 0, 0, 0)) ..
                chunk("IDAT", z) .. chunk("IEND", "")
    local st = assert(H.pngstat(file(".gen.png", png)))
    check(st.width == 4 and st.height == 2, "size " .. H.show{st.width, st.height})
    -- row 1: W W W R; row 2 (Up): W W W (R + (0,255,0)) = yellow
    check(st.colours == 3, "colours " .. st.colours)
    H.near(st.nonbg, 2 / 8, 1e-4, "non-background share")
    check(H.check_png(tmp(".gen.png")).colours == 3, "3 colours, 25% drawn: not blank")
  end)
end

if gnuplot then
  H.test("a plot passes, a blank picture fails", function()
    local p = file(".plot.png")
    nn.plot.lines(nil, {1, 3, 2, 5}, {file = p})
    local st = H.check_png(p)
    check(st.width == 800 and st.height == 480, "the lines plot's size")
    if have_tool then
      check(st.colours >= 3 and st.nonbg >= 0.01, "drawn")
      local blank = file(".blank.png")
      os.execute(string.format("gnuplot -e \"set terminal pngcairo size 200,100; " ..
                               "set output '%s'; unset border; unset tics; set yrange [0:1]; " ..
                               "plot 5 notitle\" 2>/dev/null", blank))
      checkerr("looks blank: 1 colours", H.check_png, blank)
    end
  end)
end

for _, p in ipairs(made) do os.remove(p) end
os.remove(base)
H.done()
