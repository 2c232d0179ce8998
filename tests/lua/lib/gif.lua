-- Reads a GIF's blocks for the tests (in lib/: not a test itself, the tests are
-- lua/*.lua): dofile("lib/gif.lua")(bytes) -> {width, height, frames, delays,
-- loops, trailer}.
-- Its screen size, the delay of each frame (from its
-- graphic control extension, hundredths of a second), the number of image
-- descriptors (frames) and whether it ends with the trailer. Raises when
-- the blocks do not parse.
return function(s)
  assert(s:sub(1, 6) == "GIF89a" or s:sub(1, 6) == "GIF87a", "not a GIF header")
  local w, h, packed = string.unpack("<I2I2B", s, 7)
  local pos = 14 -- after the logical screen descriptor
  if packed & 0x80 ~= 0 then pos = pos + 3 * (1 << ((packed & 7) + 1)) end
  local function skip_sub_blocks()
    while true do
      local n = s:byte(pos)
      assert(n, "cut inside sub-blocks")
      pos = pos + 1 + n
      if n == 0 then return end
    end
  end
  local g = {width = w, height = h, frames = 0, delays = {}, loops = false}
  while true do
    local b = s:byte(pos)
    assert(b, "cut before the trailer")
    if b == 0x3B then
      g.trailer = pos == #s
      return g
    elseif b == 0x21 then
      local label = s:byte(pos + 1)
      if label == 0xF9 then -- graphic control: size 4, packed, delay (2 bytes)
        g.delays[#g.delays + 1] = string.unpack("<I2", s, pos + 4)
      elseif label == 0xFF and s:sub(pos + 3, pos + 13) == "NETSCAPE2.0" then
        g.loops = true
      end
      pos = pos + 2
      skip_sub_blocks()
    elseif b == 0x2C then
      g.frames = g.frames + 1
      local lp = s:byte(pos + 9)
      pos = pos + 10
      if lp & 0x80 ~= 0 then pos = pos + 3 * (1 << ((lp & 7) + 1)) end
      pos = pos + 1 -- LZW minimum code size
      skip_sub_blocks()
    else
      error(string.format("unknown GIF block 0x%02X at byte %d", b, pos))
    end
  end
end

