-- Cumma: service-usage labels for encrypted messaging traffic, in Wireshark.
--
-- A post-dissector that gives every packet of a labelled dialog the `cumma.*` fields (usage,
-- coarse group, confidence, session, dialog, status, outlier, model, source) and a subtree such as
-- "Cumma: voice_call (93 %), dialog 12 of session 3". Labels come from the Cumma agent over
-- WebSocket (`cumma watch DIR`, needs LuaSocket) or from the sidecar `X.pcapng.cumma.tsv` next to
-- the capture (`cumma classify X.pcapng --sidecar`). A packet is matched to a dialog by its
-- transport 5-tuple (either direction) and its time inside the dialog's [start, end].
--
-- One file, Lua 5.2 to 5.4. Install with `cumma install-wireshark-plugin`; see
-- lua-dissector/README.md. Diagnostics go to stderr (never stdout: it is tshark's output).
--
-- Per packet the work is a few table look-ups and a binary search: every index is built once,
-- when a capture is (re)loaded; no I/O happens while dissecting.

local PLUGIN_VERSION = "0.1.0"
local PROTOCOL_VERSION = 1
local SIDECAR_SUFFIX = ".cumma.tsv"
local SIDECAR_COLUMNS = { "l4", "ip_a", "port_a", "ip_b", "port_b", "start_us", "end_us", "usage",
  "confidence", "session", "dialog", "status" }
local DEFAULT_HOST = "127.0.0.1"
local DEFAULT_PORT = 7345
local WEBSOCKET_PATH = "/"
-- Wireshark's port_type values (epan/address.h) for the transports cumma labels.
local PT_TCP, PT_UDP = 2, 3
-- A packet of a dialog's 5-tuple within this many µs of the dialog counts as inside it. Wireshark
-- gives Lua the frame time only as a double (pinfo.abs_ts, ±0.12 µs at today's epoch) and the
-- agent floors nanosecond clocks to µs; consecutive dialogs of one 5-tuple are separated by the
-- dialog gap (seconds), so the slack never reaches another dialog. (An exact NSTime would need a
-- Field extractor, which makes tshark build every packet's tree: +40 % time with no tree asked.)
local SLACK_US = 1
local MAX_MESSAGES_PER_SOURCE = 10

local GROUP_OF = {
  text = "chat", location = "chat",
  photo = "media", voice_note = "media", video_clip = "media", file = "media",
  voice_call = "call", video_call = "call",
  streaming = "streaming", other = "other",
}

local function in_gui()
  return type(gui_enabled) == "function" and gui_enabled()
end

----------------------------------------------------------------------------------------------------
-- Diagnostics: stderr only, each distinct message once per load.

local said = {}
local function say(message)
  if said[message] then return end
  said[message] = true
  io.stderr:write("cumma: ", message, "\n")
  io.stderr:flush()
end

local function reset_said()
  said = {}
end

----------------------------------------------------------------------------------------------------
-- Lua 5.2 / 5.3 / 5.4 compatibility.

local floor = math.floor
local load_chunk = load

local bit = rawget(_G, "bit32")
if not bit then
  -- Lua 5.3+ without bit32: native operators, compiled at run time so Lua 5.2 still parses this file.
  bit = load_chunk([[
    return {
      band = function(a, b) return (a & b) & 0xffffffff end,
      bor = function(a, b) return (a | b) & 0xffffffff end,
      bxor = function(a, b) return (a ~ b) & 0xffffffff end,
      bnot = function(a) return (~a) & 0xffffffff end,
      lrotate = function(a, n) a = a & 0xffffffff; return ((a << n) | (a >> (32 - n))) & 0xffffffff end,
    }]])()
end
local band, bor, bxor, bnot, lrotate = bit.band, bit.bor, bit.bxor, bit.bnot, bit.lrotate

-- A method of one of Wireshark's classes, looked up once: `obj:name(...)` looks it up through the
-- object's metatable on every call, which costs about as much as the call itself. Outside
-- Wireshark (the unit tests' stand-ins) it falls back to exactly that.
local function method(class_name, name)
  local class = rawget(_G, class_name)
  local ok, fn = pcall(function() return class[name] end)
  if ok and type(fn) == "function" then return fn end
  return function(self, ...) return self[name](self, ...) end
end
local tvb_raw = method("Tvb", "raw")
local tree_add = method("TreeItem", "add")
local tree_referenced = method("TreeItem", "referenced")
local tree_add_expert = method("TreeItem", "add_proto_expert_info")

-- Attribute reads such as `pinfo.src_port` or `tree.text` go through Wireshark's __index
-- dispatcher, which looks the name up as a C string every time. The getters it dispatches to sit
-- in the object's metatable (__getters) and take just the object, so once the first packet's
-- objects are at hand the plugin calls them directly, each checked there against a plain read.
-- Until then, and wherever that table is missing (another Wireshark, the tests' stand-ins), a read
-- is a plain read.
local function plain_read(name)
  return function(obj) return obj[name] end
end
local get_port_type, get_src_port, get_dst_port = plain_read("port_type"), plain_read("src_port"), plain_read("dst_port")
local get_abs_ts, get_caplen, get_len = plain_read("abs_ts"), plain_read("caplen"), plain_read("len")
local get_pinfo_visited = plain_read("visited")
local get_text, get_visible = plain_read("text"), plain_read("visible")
local getters_resolved = false

local function direct_getter(obj, name, fallback)
  local ok, fn = pcall(function()
    local fn = rawget(rawget(getmetatable(obj), "__getters"), name)
    if type(fn) == "function" and fn(obj) == obj[name] then return fn end
    return nil
  end)
  if ok and fn then return fn end
  return fallback
end

local function resolve_getters(pinfo, tree)
  getters_resolved = true
  get_port_type = direct_getter(pinfo, "port_type", get_port_type)
  get_src_port = direct_getter(pinfo, "src_port", get_src_port)
  get_dst_port = direct_getter(pinfo, "dst_port", get_dst_port)
  get_abs_ts = direct_getter(pinfo, "abs_ts", get_abs_ts)
  get_caplen = direct_getter(pinfo, "caplen", get_caplen)
  get_len = direct_getter(pinfo, "len", get_len)
  get_pinfo_visited = direct_getter(pinfo, "visited", get_pinfo_visited)
  get_text = direct_getter(tree, "text", get_text)
  get_visible = direct_getter(tree, "visible", get_visible)
end

-- Integer-valued numbers as decimal text (tostring gives "1.7053128005580e+15" on Lua 5.2).
local function int_text(n)
  return string.format("%.0f", n)
end

local function is_integer_value(n)
  return type(n) == "number" and n == floor(n) and n > -2^53 and n < 2^53
end

----------------------------------------------------------------------------------------------------
-- JSON: a small strict decoder (RFC 8259) for the agent's messages, and string encoding.

local json_null = setmetatable({}, { __tostring = function() return "null" end })

local json_decode
do
  local escapes = { ['"'] = '"', ["\\"] = "\\", ["/"] = "/", b = "\b", f = "\f", n = "\n", r = "\r", t = "\t" }
  local MAX_DEPTH = 200

  local function utf8_char(cp)
    if cp < 0x80 then return string.char(cp) end
    if cp < 0x800 then return string.char(0xC0 + floor(cp / 0x40), 0x80 + cp % 0x40) end
    if cp < 0x10000 then
      return string.char(0xE0 + floor(cp / 0x1000), 0x80 + floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
    end
    return string.char(0xF0 + floor(cp / 0x40000), 0x80 + floor(cp / 0x1000) % 0x40,
      0x80 + floor(cp / 0x40) % 0x40, 0x80 + cp % 0x40)
  end

  json_decode = function(text)
    local pos = 1
    local len = #text

    local function fail(message)
      error({ json = message .. " at byte " .. pos }, 0)
    end

    local function skip()
      pos = text:find("[^ \t\r\n]", pos) or len + 1
    end

    local parse_value

    local function parse_string()
      -- pos is at the opening quote
      local parts, n = {}, 0
      local i = pos + 1
      while true do
        local j = text:find('[\0-\31"\\]', i)
        if not j then pos = len + 1; fail("unterminated string") end
        if j > i then n = n + 1; parts[n] = text:sub(i, j - 1) end
        local c = text:sub(j, j)
        if c == '"' then
          pos = j + 1
          return table.concat(parts)
        elseif c == "\\" then
          local e = text:sub(j + 1, j + 1)
          if e == "u" then
            local hex = text:match("^%x%x%x%x", j + 2)
            if not hex then pos = j; fail("bad \\u escape") end
            local cp = tonumber(hex, 16)
            local next_i = j + 6
            if cp >= 0xD800 and cp <= 0xDBFF then
              local low = text:match("^\\u(%x%x%x%x)", next_i)
              local lo = low and tonumber(low, 16)
              if not lo or lo < 0xDC00 or lo > 0xDFFF then pos = j; fail("lone surrogate in \\u escape") end
              cp = 0x10000 + (cp - 0xD800) * 0x400 + (lo - 0xDC00)
              next_i = next_i + 6
            elseif cp >= 0xDC00 and cp <= 0xDFFF then
              pos = j; fail("lone surrogate in \\u escape")
            end
            n = n + 1; parts[n] = utf8_char(cp)
            i = next_i
          else
            local v = escapes[e]
            if not v then pos = j; fail("bad escape") end
            n = n + 1; parts[n] = v
            i = j + 2
          end
        else
          pos = j; fail("control character in string")
        end
      end
    end

    local function parse_number()
      local s, e = text:find("^-?0", pos)
      if not s then s, e = text:find("^-?[1-9]%d*", pos) end
      if not s then fail("bad number") end
      local fs, fe = text:find("^%.%d+", e + 1)
      if fs then e = fe elseif text:sub(e + 1, e + 1) == "." then pos = e + 1; fail("bad number") end
      local xs, xe = text:find("^[eE][-+]?%d+", e + 1)
      if xs then e = xe elseif text:find("^[eE]", e + 1) then pos = e + 1; fail("bad number") end
      local v = tonumber(text:sub(pos, e))
      pos = e + 1
      return v
    end

    parse_value = function(depth)
      if depth > MAX_DEPTH then fail("nested too deeply") end
      skip()
      local c = text:sub(pos, pos)
      if c == "{" then
        local object = {}
        pos = pos + 1
        skip()
        if text:sub(pos, pos) == "}" then pos = pos + 1; return object end
        while true do
          skip()
          if text:sub(pos, pos) ~= '"' then fail("expected a string key") end
          local key = parse_string()
          skip()
          if text:sub(pos, pos) ~= ":" then fail("expected ':'") end
          pos = pos + 1
          object[key] = parse_value(depth + 1)
          skip()
          local d = text:sub(pos, pos)
          pos = pos + 1
          if d == "}" then return object end
          if d ~= "," then pos = pos - 1; fail("expected ',' or '}'") end
        end
      elseif c == "[" then
        local array, n = {}, 0
        pos = pos + 1
        skip()
        if text:sub(pos, pos) == "]" then pos = pos + 1; return array end
        while true do
          n = n + 1
          array[n] = parse_value(depth + 1)
          skip()
          local d = text:sub(pos, pos)
          pos = pos + 1
          if d == "]" then return array end
          if d ~= "," then pos = pos - 1; fail("expected ',' or ']'") end
        end
      elseif c == '"' then
        return parse_string()
      elseif c == "-" or c:find("^%d") then
        return parse_number()
      elseif text:sub(pos, pos + 3) == "true" then
        pos = pos + 4; return true
      elseif text:sub(pos, pos + 4) == "false" then
        pos = pos + 5; return false
      elseif text:sub(pos, pos + 3) == "null" then
        pos = pos + 4; return json_null
      elseif c == "" then
        fail("unexpected end of input")
      end
      fail("unexpected character '" .. c .. "'")
    end

    local ok, result = pcall(function()
      local value = parse_value(0)
      skip()
      if pos <= len then fail("trailing characters") end
      return value
    end)
    if ok then return result end
    if type(result) == "table" and result.json then return nil, result.json end
    error(result, 0)
  end
end

local function json_string(s)
  return '"' .. s:gsub('[\0-\31"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == "\\" then return "\\\\" end
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

----------------------------------------------------------------------------------------------------
-- Base64 and SHA-1, for the WebSocket handshake (Sec-WebSocket-Key / Sec-WebSocket-Accept).

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

local function base64(data)
  local out = {}
  for i = 1, #data, 3 do
    local a, b, c = data:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local c1, c2 = floor(n / 262144) % 64, floor(n / 4096) % 64
    local c3, c4 = floor(n / 64) % 64, n % 64
    out[#out + 1] = B64:sub(c1 + 1, c1 + 1) .. B64:sub(c2 + 1, c2 + 1)
      .. (b and B64:sub(c3 + 1, c3 + 1) or "=") .. (c and B64:sub(c4 + 1, c4 + 1) or "=")
  end
  return table.concat(out)
end

local function sha1(message)
  local function be32(s, i)
    local a, b, c, d = s:byte(i, i + 3)
    return ((a * 256 + b) * 256 + c) * 256 + d
  end
  local function word_text(w)
    return string.char(floor(w / 16777216) % 256, floor(w / 65536) % 256, floor(w / 256) % 256, w % 256)
  end
  local bits = #message * 8
  local padded = message .. "\128" .. string.rep("\0", (55 - #message) % 64)
    .. word_text(floor(bits / 4294967296)) .. word_text(bits % 4294967296)
  local h0, h1, h2, h3, h4 = 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0
  local w = {}
  for chunk = 1, #padded, 64 do
    for i = 0, 15 do w[i] = be32(padded, chunk + i * 4) end
    for i = 16, 79 do w[i] = lrotate(bxor(bxor(w[i - 3], w[i - 8]), bxor(w[i - 14], w[i - 16])), 1) end
    local a, b, c, d, e = h0, h1, h2, h3, h4
    for i = 0, 79 do
      local f, k
      if i < 20 then
        f, k = bor(band(b, c), band(bnot(b), d)), 0x5A827999
      elseif i < 40 then
        f, k = bxor(bxor(b, c), d), 0x6ED9EBA1
      elseif i < 60 then
        f, k = bor(bor(band(b, c), band(b, d)), band(c, d)), 0x8F1BBCDC
      else
        f, k = bxor(bxor(b, c), d), 0xCA62C1D6
      end
      local temp = (lrotate(a, 5) + f + e + k + w[i]) % 4294967296
      e, d, c, b, a = d, c, lrotate(b, 30), a, temp
    end
    h0, h1 = (h0 + a) % 4294967296, (h1 + b) % 4294967296
    h2, h3, h4 = (h2 + c) % 4294967296, (h3 + d) % 4294967296, (h4 + e) % 4294967296
  end
  return word_text(h0) .. word_text(h1) .. word_text(h2) .. word_text(h3) .. word_text(h4)
end

local function random_bytes(n)
  local f = io.open("/dev/urandom", "rb")
  if f then
    local data = f:read(n)
    f:close()
    if data and #data == n then return data end
  end
  local out = {}
  for i = 1, n do out[i] = string.char(math.random(0, 255)) end
  return table.concat(out)
end

----------------------------------------------------------------------------------------------------
-- A minimal RFC 6455 WebSocket client over LuaSocket: handshake, masked client frames, text
-- messages (16/64-bit lengths, continuation frames), ping → pong, close. Every wait is bounded.

local WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
local MAX_MESSAGE_BYTES = 256 * 1024 * 1024

local WebSocket = {}
WebSocket.__index = WebSocket

-- Most bytes of one line of the agent's handshake response head (status line or header), and of
-- all its lines together, the plugin reads; a real agent sends about 200. LuaSocket's
-- receive("*l") buffers a line until its newline, however long: a server sending one without end
-- grew the plugin's memory (Wireshark's) for as long as it sent.
local MAX_HANDSHAKE_BYTES = 64 * 1024

-- One line of the handshake response head, without its CR LF, read byte by byte (LuaSocket serves
-- them from its own buffer) so that no more than `limit` bytes are held, by `deadline`
-- (socket.gettime() seconds). Returns the line, or nil and "too long", "timeout", "closed", ….
local function receive_head_line(tcp, socket, limit, deadline)
  local bytes, count = {}, 0
  while true do
    local left = deadline - socket.gettime()
    if left <= 0 then return nil, "timeout" end
    -- A total timeout ("t"), as in WebSocket:peek: a byte now and then must not go on for ever.
    tcp:settimeout(left, "t")
    local byte, err = tcp:receive(1)
    if not byte then return nil, err end
    if byte == "\n" then
      if bytes[count] == "\r" then bytes[count] = nil end
      return table.concat(bytes)
    end
    count = count + 1
    if count > limit then return nil, "too long" end
    bytes[count] = byte
  end
end

local function load_socket()
  local ok, socket = pcall(require, "socket")
  if ok and type(socket) == "table" and socket.tcp then return socket end
  return nil, "LuaSocket is not installed (Debian/Ubuntu: apt install lua-socket)"
end

-- Connects and upgrades; returns the WebSocket or nil, message. `connect_s`, when given, bounds
-- the TCP connect alone (a retry from the GUI's timer waits less than a load: see retry_agent).
function WebSocket.connect(host, port, path, token, timeout_s, connect_s)
  local socket, why = load_socket()
  if not socket then return nil, why end
  local where = host .. ":" .. port
  local tcp = socket.tcp()
  connect_s = connect_s or timeout_s
  tcp:settimeout(connect_s)
  local ok, err = tcp:connect(host, port)
  if not ok then
    tcp:close()
    if err == "timeout" then return nil, "agent " .. where .. " did not accept a connection within " .. connect_s .. " s" end
    return nil, "agent " .. where .. " not reachable (" .. tostring(err) .. ")"
  end
  tcp:settimeout(timeout_s)
  local key = base64(random_bytes(16))
  local request = {
    "GET " .. path .. " HTTP/1.1",
    "Host: " .. where,
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: " .. key,
    "Sec-WebSocket-Version: 13",
    "User-Agent: cumma-wireshark/" .. PLUGIN_VERSION,
  }
  if token and token ~= "" then request[#request + 1] = "Authorization: Bearer " .. token end
  local sent, send_err = tcp:send(table.concat(request, "\r\n") .. "\r\n\r\n")
  if not sent then
    tcp:close()
    return nil, "agent " .. where .. ": sending the handshake failed (" .. tostring(send_err) .. ")"
  end
  -- The response head: status line and headers, bounded in size and, all of it, in time.
  local deadline = socket.gettime() + timeout_s
  local too_long = "agent " .. where .. " sent a handshake line over " .. MAX_HANDSHAKE_BYTES .. " bytes"
  local status_line, line_err = receive_head_line(tcp, socket, MAX_HANDSHAKE_BYTES, deadline)
  if not status_line then
    tcp:close()
    if line_err == "too long" then return nil, too_long end
    if line_err == "timeout" then return nil, "agent " .. where .. " did not answer the handshake within " .. timeout_s .. " s" end
    return nil, "agent " .. where .. " closed the connection during the handshake (" .. tostring(line_err) .. ")"
  end
  local headers, total = {}, #status_line
  while true do
    local line, herr = receive_head_line(tcp, socket, MAX_HANDSHAKE_BYTES, deadline)
    if not line then
      tcp:close()
      if herr == "too long" then return nil, too_long end
      if herr == "timeout" then return nil, "agent " .. where .. " did not finish the handshake within " .. timeout_s .. " s" end
      return nil, "agent " .. where .. ": handshake response cut short (" .. tostring(herr) .. ")"
    end
    total = total + #line
    if total > MAX_HANDSHAKE_BYTES then
      tcp:close()
      return nil, "agent " .. where .. " sent handshake headers over " .. MAX_HANDSHAKE_BYTES .. " bytes in all"
    end
    if line == "" then break end
    local name, value = line:match("^([^:]+):%s*(.-)%s*$")
    if name then headers[name:lower()] = value end
  end
  tcp:settimeout(math.max(deadline - socket.gettime(), 0.001), "t")
  local code = tonumber(status_line:match("^HTTP/%d%.%d (%d%d%d)"))
  if code ~= 101 then
    local body = ""
    local length = tonumber(headers["content-length"] or "")
    if length and length > 0 and length <= 4096 then body = tcp:receive(length) or "" end
    tcp:close()
    local detail = body:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "")
    if #detail > 200 then detail = detail:sub(1, 200) .. "…" end
    detail = detail ~= "" and (": " .. detail) or ""
    if code == 401 then
      return nil, "agent " .. where .. " refused the token (HTTP 401" .. detail .. "); set it in Preferences ▸ Protocols ▸ Cumma ▸ Token"
    end
    return nil, "agent " .. where .. " answered HTTP " .. tostring(code or status_line) .. detail .. " instead of a WebSocket upgrade"
  end
  if (headers["upgrade"] or ""):lower() ~= "websocket" then
    tcp:close()
    return nil, "agent " .. where .. ": upgrade response without 'Upgrade: websocket'"
  end
  if headers["sec-websocket-accept"] ~= base64(sha1(key .. WS_GUID)) then
    tcp:close()
    return nil, "agent " .. where .. ": wrong Sec-WebSocket-Accept in the handshake"
  end
  return setmetatable({ tcp = tcp, where = where, socket = socket, buffer = "", fragments = nil, closed = false }, WebSocket)
end

function WebSocket:send_frame(opcode, payload)
  local n = #payload
  local head
  if n < 126 then
    head = string.char(0x80 + opcode, 0x80 + n)
  elseif n < 65536 then
    head = string.char(0x80 + opcode, 0x80 + 126, floor(n / 256), n % 256)
  else
    local bytes = {}
    local v = n
    for i = 8, 1, -1 do bytes[i] = v % 256; v = floor(v / 256) end
    head = string.char(0x80 + opcode, 0x80 + 127)
      .. string.char(bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8])
  end
  local mask = random_bytes(4)
  local m = { mask:byte(1, 4) }
  local out = {}
  for i = 1, n do
    out[i] = string.char(bxor(payload:byte(i), m[(i - 1) % 4 + 1]))
  end
  local ok, err = self.tcp:send(head .. mask .. table.concat(out))
  if not ok then self.closed = true; return nil, err end
  return true
end

function WebSocket:send_text(text)
  return self:send_frame(0x1, text)
end

-- The next complete text message, or nil and "timeout" / "closed" / a protocol error.
-- Frames are consumed only whole: a timeout in the middle of a frame keeps what was read.
function WebSocket:receive(deadline)
  while true do
    -- Peek at the header without consuming it, so a timeout leaves the buffer intact.
    local head, err = self:peek(2, deadline)
    if not head then return nil, err end
    local b1, b2 = head:byte(1, 2)
    local fin = b1 >= 0x80
    local rsv = floor(b1 / 16) % 8
    local opcode = b1 % 16
    if rsv ~= 0 then return self:fail("frame with reserved bits set") end
    if b2 >= 0x80 then return self:fail("masked frame from the server") end
    local length = b2 % 0x80
    local header_length = 2
    if length == 126 then header_length = 4 elseif length == 127 then header_length = 10 end
    local header
    header, err = self:peek(header_length, deadline)
    if not header then return nil, err end
    if length == 126 then
      local h1, h2 = header:byte(3, 4)
      length = h1 * 256 + h2
    elseif length == 127 then
      local v = 0
      for i = 3, 10 do v = v * 256 + header:byte(i) end
      if header:byte(3) >= 0x80 then return self:fail("frame length with the top bit set") end
      length = v
    end
    if length > MAX_MESSAGE_BYTES then return self:fail("frame of " .. int_text(length) .. " bytes is too large") end
    if opcode >= 0x8 and (not fin or length > 125) then return self:fail("fragmented or oversized control frame") end
    local frame
    frame, err = self:peek(header_length + length, deadline)
    if not frame then return nil, err end
    self.buffer = self.buffer:sub(header_length + length + 1)
    local payload = frame:sub(header_length + 1)
    if opcode == 0x9 then
      self:send_frame(0xA, payload)
    elseif opcode == 0xA then
      -- pong: nothing to do
    elseif opcode == 0x8 then
      local code = #payload >= 2 and payload:byte(1) * 256 + payload:byte(2) or 1005
      local reason = payload:sub(3)
      if not self.closed then self:send_frame(0x8, payload:sub(1, 2)) end
      self:close_socket()
      self.close_reason = "closed by the agent (" .. code .. (reason ~= "" and (" " .. reason) or "") .. ")"
      return nil, "closed"
    elseif opcode == 0x1 or opcode == 0x2 then
      if self.fragments then return self:fail("new message inside a fragmented one") end
      if fin then
        if opcode == 0x1 then return payload end
      else
        self.fragments = { payload }
        self.fragments_text = opcode == 0x1
        self.fragments_size = #payload
      end
    elseif opcode == 0x0 then
      if not self.fragments then return self:fail("continuation frame without a message") end
      self.fragments[#self.fragments + 1] = payload
      self.fragments_size = self.fragments_size + #payload
      if self.fragments_size > MAX_MESSAGE_BYTES then return self:fail("message too large") end
      if fin then
        local message = table.concat(self.fragments)
        local is_text = self.fragments_text
        self.fragments = nil
        if is_text then return message end
      end
    else
      return self:fail("unknown opcode " .. opcode)
    end
  end
end

-- Ensures n bytes are buffered (waiting until `deadline`, socket.gettime() seconds; 0 = only what
-- has arrived) and returns them without consuming them; nil and "timeout"/"closed"/error otherwise.
function WebSocket:peek(n, deadline)
  while #self.buffer < n do
    if self.closed then return nil, "closed" end
    local wait = 0
    if deadline ~= 0 then
      wait = deadline - self.socket.gettime()
      if wait < 0 then return nil, "timeout" end
    end
    -- A total timeout ("t"): by default LuaSocket bounds each wait for the system only, so an
    -- agent that trickles a byte now and then would keep one receive going past the deadline.
    self.tcp:settimeout(wait)
    self.tcp:settimeout(wait, "t")
    local data, err, partial = self.tcp:receive(n - #self.buffer)
    data = data or partial
    if data and #data > 0 then self.buffer = self.buffer .. data end
    if #self.buffer < n then
      if err == "closed" then
        self.closed = true
        return nil, "closed"
      elseif err == "timeout" then
        if deadline == 0 then return nil, "timeout" end
      elseif err then
        self.closed = true
        return nil, err
      end
    end
  end
  return self.buffer:sub(1, n)
end

function WebSocket:fail(message)
  self.protocol_error = message
  self:close_socket()
  return nil, "protocol error: " .. message
end

function WebSocket:close_socket()
  if self.tcp then self.tcp:close() end
  self.closed = true
end

-- A clean close: close frame 1000, a short wait for the agent's close, then the socket.
function WebSocket:close()
  if self.closed then return end
  self:send_frame(0x8, string.char(0x03, 0xE8))
  local deadline = self.socket.gettime() + 0.2
  while not self.closed do
    local message, err = self:receive(deadline)
    if not message and err ~= nil then break end
  end
  self:close_socket()
end

----------------------------------------------------------------------------------------------------
-- Labels: dialog records from either source, indexed for the per-packet look-up.
--
-- index[port_type][src_port * 65536 + dst_port] is the list of dialogs on that port pair, one
-- entry per direction, sorted by start and kept flat (few tables: the garbage collector walks all
-- of them while Wireshark allocates per packet). Entry i holds, from list[7 * i - 6]: start µs,
-- end µs, the running maximum of the ends (for overlapping dialogs), the source and destination
-- Address objects, the record, and the source and destination addresses as raw bytes.
--
-- Addresses are compared exactly, never as text (name resolution cannot get in the way): the raw
-- bytes against the frame at the offset where the IP addresses were found in an earlier packet of
-- the same address size (one string, no allocation that needs a finalizer), and, when that does
-- not agree (another link layer, a tunnel, another flow), as Wireshark Address objects.

local ENTRY = 7

local percent_text = {}
for i = 0, 100 do percent_text[i] = i .. " %" end
local function percent(p)
  return percent_text[floor(p * 100 + 0.5)] or string.format("%d %%", floor(p * 100 + 0.5))
end

local function group_of(usage)
  if usage == "unknown" then return "unknown" end
  return GROUP_OF[usage] or "unknown"
end

-- IPv4 or IPv6 text as network-order bytes, or nil.
local function ip_bytes(ip)
  if ip:find("^%d+%.%d+%.%d+%.%d+$") then
    local out = {}
    for octet in ip:gmatch("%d+") do
      local v = tonumber(octet)
      if #octet > 3 or v > 255 then return nil end
      out[#out + 1] = string.char(v)
    end
    return table.concat(out)
  end
  if not ip:find(":", 1, true) or not ip:find("^[%x:%.]+$") then return nil end
  local head, tail = ip, nil
  local gap = ip:find("::", 1, true)
  if gap then head, tail = ip:sub(1, gap - 1), ip:sub(gap + 2) end
  local function groups(text)
    local out = {}
    if text == "" then return out end
    local parts = {}
    for part in (text .. ":"):gmatch("([^:]*):") do parts[#parts + 1] = part end
    for i, part in ipairs(parts) do
      if i == #parts and part:find(".", 1, true) then
        local v4 = ip_bytes(part)
        if not v4 or #v4 ~= 4 then return nil end
        out[#out + 1] = v4:byte(1) * 256 + v4:byte(2)
        out[#out + 1] = v4:byte(3) * 256 + v4:byte(4)
      elseif part:find("^%x%x?%x?%x?$") then
        out[#out + 1] = tonumber(part, 16)
      else
        return nil
      end
    end
    return out
  end
  local h, t = groups(head), {}
  if tail then t = groups(tail) end
  if not h or not t then return nil end
  local fill = 8 - #h - #t
  if (tail and fill < 1) or (not tail and fill ~= 0) then return nil end
  local all = {}
  for _, g in ipairs(h) do all[#all + 1] = g end
  for _ = 1, fill do all[#all + 1] = 0 end
  for _, g in ipairs(t) do all[#all + 1] = g end
  local out = {}
  for i, g in ipairs(all) do out[i] = string.char(floor(g / 256), g % 256) end
  return table.concat(out)
end

local address_cache = {}
local function address_of(ip)
  local cached = address_cache[ip]
  if cached ~= nil then return cached or nil end
  local address
  if ip:find("^%d+%.%d+%.%d+%.%d+$") then
    local ok = true
    for octet in ip:gmatch("%d+") do
      if #octet > 3 or tonumber(octet) > 255 then ok = false end
    end
    if ok then address = Address.ip(ip) end
  elseif ip:find(":", 1, true) and ip:find("^[%x:%.]+$") and Address.ipv6 then
    address = Address.ipv6(ip)
  end
  address_cache[ip] = address or false
  return address
end

local experts -- the expert infos, defined with the protocol below

-- Fills the per-packet texts of a record once (nothing is formatted while dissecting).
local function finish_record(rec)
  rec.group = group_of(rec.usage)
  if rec.usage == "unknown" then rec.note = experts.unknown end
  if rec.status == "provisional" then
    if rec.note then rec.note2 = experts.provisional else rec.note = experts.provisional end
  end
  rec.title = "Cumma: " .. rec.usage .. " (" .. percent(rec.confidence) .. "), dialog " .. int_text(rec.dialog)
    .. " of session " .. int_text(rec.session)
  if rec.scores then
    local ranked = {}
    for class, p in pairs(rec.scores) do
      if type(p) == "number" then ranked[#ranked + 1] = { class = class, p = p } end
    end
    table.sort(ranked, function(x, y)
      if x.p ~= y.p then return x.p > y.p end
      return x.class < y.class
    end)
    local top = {}
    for i = 1, math.min(3, #ranked) do
      top[i] = ranked[i].class .. " " .. percent(ranked[i].p)
    end
    if #top > 0 then rec.top_scores = table.concat(top, ", ") end
    rec.scores = nil
  end
  return rec
end

local function new_index()
  return { [PT_TCP] = {}, [PT_UDP] = {}, count = 0, records = {} }
end

local function index_put(by_ports, key, start_us, end_us, src, dst, rec, pair)
  local list = by_ports[key]
  if not list then
    list = { false, false, false, false, false, false, false, n = 0 } -- room for one entry
    by_ports[key] = list
  end
  local n = list.n + 1
  local base = n * ENTRY - ENTRY
  list.n = n
  list[base + 1], list[base + 2], list[base + 3] = start_us, end_us, end_us
  list[base + 4], list[base + 5], list[base + 6], list[base + 7] = src, dst, rec, pair
  if n > 1 and list[base + 1 - ENTRY] > start_us then list.unsorted = true end
end

-- Adds a record; false when its addresses are not numeric IPv4/IPv6 of one family.
local bytes_cache = {}
local function ip_bytes_cached(ip)
  local cached = bytes_cache[ip]
  if cached == nil then
    cached = ip_bytes(ip) or false
    bytes_cache[ip] = cached
  end
  return cached or nil
end

local function port_bytes(port)
  return string.char(floor(port / 256), port % 256)
end

local function index_add(index, rec)
  local a, b = address_of(rec.ip_a), address_of(rec.ip_b)
  local ra, rb = ip_bytes_cached(rec.ip_a), ip_bytes_cached(rec.ip_b)
  if not a or not b or not ra or not rb or #ra ~= #rb then return false end
  local by_ports = index[rec.l4 == "tcp" and PT_TCP or PT_UDP]
  -- Each direction's addresses then ports as the frame carries them: what fast_key reads.
  local pa, pb = port_bytes(rec.port_a), port_bytes(rec.port_b)
  index_put(by_ports, rec.port_a * 65536 + rec.port_b, rec.start_us, rec.end_us, a, b, rec, ra .. rb .. pa .. pb)
  index_put(by_ports, rec.port_b * 65536 + rec.port_a, rec.start_us, rec.end_us, b, a, rec, rb .. ra .. pb .. pa)
  local count = index.count + 1
  index.count = count
  index.records[count] = rec
  return true
end

-- Sorts the lists that need it and computes the running maximum of the ends.
local function index_finish(index)
  for _, pt in ipairs({ PT_TCP, PT_UDP }) do
    for _, list in pairs(index[pt]) do
      local n = list.n
      if list.unsorted then
        local entries = {}
        for i = 1, n do
          local base = i * ENTRY - ENTRY
          entries[i] = { i, list[base + 1], list[base + 2], list[base + 4], list[base + 5], list[base + 6], list[base + 7] }
        end
        table.sort(entries, function(x, y)
          if x[2] ~= y[2] then return x[2] < y[2] end
          return x[1] < y[1]
        end)
        for i, entry in ipairs(entries) do
          local base = i * ENTRY - ENTRY
          list[base + 1], list[base + 2], list[base + 4], list[base + 5], list[base + 6], list[base + 7] =
            entry[2], entry[3], entry[4], entry[5], entry[6], entry[7]
        end
        list.unsorted = nil
      end
      local m = -math.huge
      list.notes = nil
      for i = 1, n do
        local base = i * ENTRY - ENTRY
        if list[base + 2] > m then m = list[base + 2] end
        list[base + 3] = m
        if list[base + 6].note then list.notes = true end
      end
    end
  end
  return index
end

-- Where the source and destination addresses (4 + 4 or 16 + 16 bytes) start in the frame, as
-- learnt from the first packet whose addresses matched as Address objects.
local pair_offset = {}

-- The packet's addresses and ports as one string (source and destination address bytes, then
-- the two ports), read in one piece at the offset learnt for this address size, or false when the
-- frame is too short. Compared with an entry's key (list[base + 7]): a match means the IP header
-- at that offset carries the entry's addresses and is followed at once by its ports. A tunnel's
-- outer header carries the pair but is followed by the inner IP header (IP-in-IP), a GRE header or
-- the outer UDP ports (VXLAN, GTP), which are not the entry's ports: no match, and pinfo's
-- addresses, the innermost ones as the ports are, decide. (Only an outer header followed by bytes
-- that happen to equal the inner ports, such as port 17664 = 0x4500 from an inner IPv4 header
-- whose length is the other port, would pass; IPv4 options or IPv6 extension headers just miss.)
local function fast_key(tvb, pinfo, size)
  local offset = pair_offset[size]
  if not offset or get_caplen(pinfo) < offset + size + 4 then return false end
  return tvb_raw(tvb, offset, size + 4)
end

-- Does the packet go from the entry's source to its destination, by pinfo's addresses? Learns
-- where such a pair sits in the frame, for fast_key.
local function same_addresses(list, base, tvb, pinfo)
  if list[base + 4] ~= pinfo.src or list[base + 5] ~= pinfo.dst then return false end
  local key = list[base + 7]
  local size = #key - 4
  if not pair_offset[size] then
    local at = tvb:raw():find(key:sub(1, size), 1, true)
    if at then pair_offset[size] = at - 1 end
  end
  return true
end

-- The dialog of a packet, or nil. t is the frame time in µs (a double, see SLACK_US). For a
-- packet whose UDP header was cut short (see cut_udp_list), cut_key is its addresses and ports
-- as its IP and UDP headers carry them, and an entry matches only with that very key.
local function index_lookup(list, t, tvb, pinfo, cut_key)
  local limit = t + SLACK_US
  if list[1] > limit then return nil end
  -- The last entry starting at or before t + SLACK_US.
  local lo, hi = 1, list.n
  while lo < hi do
    local mid = hi - floor((hi - lo) / 2)
    if list[mid * ENTRY - ENTRY + 1] <= limit then lo = mid else hi = mid - 1 end
  end
  local low_end = t - 1 - SLACK_US
  local fallback
  -- The packet's bytes at the learnt offset per address size, read once per packet (nil: not yet).
  local key4, key16
  for i = lo, 1, -1 do
    local base = i * ENTRY - ENTRY
    if list[base + 3] <= low_end then break end
    local e = list[base + 2]
    local matches = false
    if e > low_end and cut_key then
      matches = cut_key == list[base + 7]
    elseif e > low_end then
      local key = list[base + 7]
      local seen
      if #key == 12 then
        if key4 == nil then key4 = fast_key(tvb, pinfo, 8) end
        seen = key4
      else
        if key16 == nil then key16 = fast_key(tvb, pinfo, 32) end
        seen = key16
      end
      -- Unequal bytes can still be the same flow laid out otherwise (a VLAN tag): pinfo decides.
      matches = (seen and seen == key) or same_addresses(list, base, tvb, pinfo)
    end
    if matches then
      -- Inside without the slack wins over inside with it (two flows back to back on a 5-tuple).
      if list[base + 1] <= t and t < e + 1 then return list[base + 6] end
      fallback = fallback or list[base + 6]
    end
  end
  return fallback
end

-- A UDP header that the snapshot length cut short (a header-only capture: `editcap -s 40` keeps 6
-- of its 8 bytes) makes Wireshark's UDP dissector stop before it sets pinfo's port type and ports,
-- while the ports are there and cumma classify labels the packet by them. So such a packet's
-- ports are read from its bytes, as classify reads them (agent/src/capture/ip-decoder.ts): the
-- IP header starting at byte i (1-based) of raw, IPv4 of any header length, or IPv6 through its
-- extension headers, carrying UDP with at least the ports' 4 bytes, and no later fragment.
-- Returns the addresses and ports as an index entry's key (list[base + 7]), or nil.
local IPV6_EXTENSION = { [0] = true, [43] = true, [60] = true, [135] = true, [139] = true, [140] = true }

local function udp_key_at(raw, i)
  local n = #raw
  local b = raw:byte(i)
  if not b then return nil end
  if b >= 0x45 and b <= 0x4f then
    local header = (b - 0x40) * 4
    local l4 = i + header
    if l4 + 3 > n or raw:byte(i + 9) ~= 17 then return nil end
    local t1, t2 = raw:byte(i + 2, i + 3)
    local f1, f2 = raw:byte(i + 6, i + 7)
    if (f1 % 32) * 256 + f2 ~= 0 then return nil end -- a later fragment: no UDP header
    local total = t1 * 256 + t2
    if total ~= 0 and total < header then return nil end
    return raw:sub(i + 12, i + 19) .. raw:sub(l4, l4 + 3)
  end
  if b < 0x60 or b > 0x6f or i + 39 > n then return nil end
  local next_header, at = raw:byte(i + 6), i + 40
  for _ = 1, 16 do
    if next_header == 17 then
      if at + 3 > n then return nil end
      return raw:sub(i + 8, i + 39) .. raw:sub(at, at + 3)
    elseif next_header == 44 then -- fragment header
      if at + 7 > n then return nil end
      local o1, o2 = raw:byte(at + 2, at + 3)
      if o1 * 256 + o2 - o2 % 8 ~= 0 then return nil end
      next_header, at = raw:byte(at), at + 8
    elseif next_header == 51 then -- authentication header
      if at + 1 > n then return nil end
      next_header, at = raw:byte(at), at + (raw:byte(at + 1) + 2) * 4
    elseif IPV6_EXTENSION[next_header] then
      if at + 1 > n then return nil end
      next_header, at = raw:byte(at), at + (raw:byte(at + 1) + 1) * 8
    else
      return nil
    end
  end
  return nil
end

----------------------------------------------------------------------------------------------------
-- Files that are not regular files. Opening a FIFO for reading waits for a writer without end
-- (only SIGKILL ends tshark then), and a device such as /dev/zero never reaches its end: a sidecar
-- (or a token file) named by the user or found beside a capture may be either, through a symbolic
-- link too. So a file the plugin reads whole is first found to be a regular file, without opening
-- it, and read in chunks up to a limit.

local POSIX = package.config:sub(1, 1) == "/"

local function shell_quote(text)
  return "'" .. (text:gsub("'", "'\\''")) .. "'"
end

-- The most a sidecar may hold: about 2.5 million dialogs at ~100 bytes a line, beyond any capture
-- the agent classifies (its index would take gigabytes); a larger file is refused unread.
local MAX_SIDECAR_BYTES = 256 * 1024 * 1024
local MAX_SIDECAR_TEXT = "256 MiB"
local READ_CHUNK_BYTES = 1024 * 1024

local KIND_TEXT = {
  directory = "a directory", fifo = "a FIFO (named pipe)", char = "a character device", block = "a block device",
  socket = "a socket", special = "a special file",
}

-- What is at `path`, symbolic links followed, found without opening it: "file" (a regular file),
-- "directory", "fifo", "char", "block", "socket", "special", nil when nothing is there (or it
-- cannot be reached: opening it would fail too), or "unchecked" when it cannot be told. Lua has
-- no stat: Wireshark's Dir.exists (stat underneath) tells a directory, something else, or
-- nothing, and a POSIX shell's test(1) which something else (one process, only when something is
-- there, only while loading labels, never per packet). Windows has no FIFO or device at a file
-- path, so there anything that is not a directory counts as a file (the read stays bounded).
local function path_kind(path)
  local dir = rawget(_G, "Dir")
  if type(dir) == "table" and type(dir.exists) == "function" then
    local ok, is_dir = pcall(dir.exists, path)
    if ok then
      if is_dir == nil then return nil end
      if is_dir == true then return "directory" end
    end
  end
  if not POSIX then return "file" end
  if not io.popen then return "unchecked" end
  local q = shell_quote(path)
  local command = "if [ -f " .. q .. " ]; then echo file; elif [ -d " .. q .. " ]; then echo directory; "
    .. "elif [ -p " .. q .. " ]; then echo fifo; elif [ -c " .. q .. " ]; then echo char; "
    .. "elif [ -b " .. q .. " ]; then echo block; elif [ -S " .. q .. " ]; then echo socket; "
    .. "elif [ -e " .. q .. " ]; then echo special; else echo none; fi 2>/dev/null"
  local ok, pipe = pcall(io.popen, command)
  if not ok or not pipe then return "unchecked" end
  local out = pipe:read("*a") or ""
  pipe:close()
  local kind = out:match("^(%a+)")
  if kind == "none" then return nil end
  if kind == "file" or KIND_TEXT[kind] then return kind end
  return "unchecked"
end

-- Reads an open file to its end in chunks; nil, "too large" past `limit` bytes, or nil and the
-- error of a read that failed.
local function read_bounded(fh, limit)
  local parts, total = {}, 0
  while true do
    local chunk, err = fh:read(READ_CHUNK_BYTES)
    if not chunk then
      if err then return nil, tostring(err) end
      break
    end
    total = total + #chunk
    if total > limit then return nil, "too large" end
    parts[#parts + 1] = chunk
  end
  return table.concat(parts)
end

-- The content of the regular file at `path`, at most `limit` bytes, or nil (nothing there, not a
-- regular file, larger, unreadable). `kind`: path_kind(path) when the caller has it already.
local function read_regular_file(path, limit, kind)
  if (kind or path_kind(path)) ~= "file" then return nil end
  local fh = io.open(path, "rb")
  if not fh then return nil end
  local data = read_bounded(fh, limit)
  fh:close()
  return data
end

----------------------------------------------------------------------------------------------------
-- The sidecar X.pcapng.cumma.tsv.

local function split_tabs(line)
  local out, n, i = {}, 0, 1
  while true do
    local j = line:find("\t", i, true)
    n = n + 1
    if not j then out[n] = line:sub(i); return out, n end
    out[n] = line:sub(i, j - 1)
    i = j + 1
  end
end

local function parse_uint(text, max)
  if not text or #text > 16 or not text:find("^%d+$") then return nil end
  local v = tonumber(text)
  if max and v > max then return nil end
  return v
end

local STANDARD_LINE = "^" .. string.rep("([^\t]*)\t", #SIDECAR_COLUMNS - 1) .. "([^\t]*)$"

-- The record of one sidecar line, or nil and what is wrong with it.
local function sidecar_record(l4, ip_a, port_a, ip_b, port_b, start_us, end_us, usage, confidence, session, dialog, status)
  if l4 ~= "tcp" and l4 ~= "udp" then return nil, "l4 is '" .. tostring(l4) .. "', not tcp or udp" end
  local pa, pb = parse_uint(port_a, 65535), parse_uint(port_b, 65535)
  if not pa or not pb then return nil, "a port is not an integer from 0 to 65535" end
  local s, e = parse_uint(start_us), parse_uint(end_us)
  if not s or not e or e < s then
    return nil, "start_us and end_us must be integers (µs since the epoch) with start_us <= end_us"
  end
  if not usage or not usage:find("^[%w_]+$") then return nil, "usage '" .. tostring(usage) .. "' is not a label" end
  local c = confidence and confidence:find("^%d*%.?%d+$") and tonumber(confidence)
  if not c or c < 0 or c > 1 then return nil, "confidence '" .. tostring(confidence) .. "' is not a number from 0 to 1" end
  local sn, dn = parse_uint(session, 4294967295), parse_uint(dialog, 4294967295)
  if not sn or not dn then return nil, "session and dialog must be integers" end
  if status ~= "final" and status ~= "provisional" then
    return nil, "status '" .. tostring(status) .. "' is neither final nor provisional"
  end
  return finish_record({
    l4 = l4, ip_a = ip_a, port_a = pa, ip_b = ip_b, port_b = pb, start_us = s, end_us = e,
    usage = usage, confidence = c, session = sn, dialog = dn, status = status,
    group = false, title = false, note = false, -- filled by finish_record (sizes the table once)
  })
end

-- Returns an index, or nil and why. Malformed lines are skipped with a message naming them.
-- `kind` is path_kind(path) when the caller has it already.
local function load_sidecar(path, kind)
  if kind == nil then kind = path_kind(path) end
  if kind == "unchecked" then
    return nil, "sidecar " .. path .. " not read: whether it is a regular file could not be checked (no shell to run test)"
  elseif kind and kind ~= "file" then
    return nil, "sidecar " .. path .. " is " .. KIND_TEXT[kind] .. ", not a regular file"
  end
  local fh, open_err = io.open(path, "rb")
  if not fh then
    return nil, "no sidecar " .. path .. " (" .. (tostring(open_err):gsub("^.*: ", "")) .. ")", "missing"
  end
  local size = fh:seek("end")
  if size and size > MAX_SIDECAR_BYTES then
    fh:close()
    return nil, "sidecar " .. path .. " is larger than " .. MAX_SIDECAR_TEXT .. " (" .. int_text(size) .. " bytes), the most the plugin reads"
  end
  local content, read_err
  if not size or fh:seek("set", 0) then content, read_err = read_bounded(fh, MAX_SIDECAR_BYTES) end
  fh:close()
  if read_err == "too large" then
    return nil, "sidecar " .. path .. " is larger than " .. MAX_SIDECAR_TEXT .. ", the most the plugin reads"
  end
  if not content then
    return nil, "sidecar " .. path .. " could not be read" .. (read_err and (" (" .. (read_err:gsub("^.*: ", "")) .. ")") or "")
  end
  local index = new_index()
  index.content = content -- what a reload compares with: a rewrite can keep the size
  -- A byte-order mark, as some editors save UTF-8, is not part of the first column's name.
  if content:sub(1, 3) == "\239\187\191" then content = content:sub(4) end
  local bad = 0
  local line_number = 0
  local function complain(message)
    bad = bad + 1
    if bad <= MAX_MESSAGES_PER_SOURCE then
      say("sidecar " .. path .. " line " .. line_number .. ": " .. message .. " (line skipped)")
    end
  end
  local positions -- column positions when the header is not in the standard order
  local standard = false
  local pos, size = 1, #content
  while pos <= size do
    local nl = content:find("\n", pos, true) or size + 1
    local line = content:sub(pos, nl - 1)
    pos = nl + 1
    line_number = line_number + 1
    if line:sub(-1) == "\r" then line = line:sub(1, -2) end
    if line_number == 1 and (("\t" .. line .. "\t"):find("\tl4\t", 1, true) or ("\t" .. line .. "\t"):find("\tstart_us\t", 1, true)) then
      local names = split_tabs(line)
      local column_of = {}
      for i, name in ipairs(names) do column_of[name] = column_of[name] or i end
      local missing = {}
      positions = {}
      standard = #names == #SIDECAR_COLUMNS
      for i, name in ipairs(SIDECAR_COLUMNS) do
        positions[i] = column_of[name]
        if not column_of[name] then missing[#missing + 1] = name end
        if column_of[name] ~= i then standard = false end
      end
      if #missing > 0 then
        return nil, "sidecar " .. path .. " header lacks column(s) " .. table.concat(missing, ", ")
      end
    elseif line ~= "" then
      if not positions then
        say("sidecar " .. path .. " has no header line; reading columns in the order " .. table.concat(SIDECAR_COLUMNS, " "))
        positions = {}
        for i = 1, #SIDECAR_COLUMNS do positions[i] = i end
        standard = true
      end
      local rec, why
      if standard then
        local l4, ip_a, port_a, ip_b, port_b, s, e, usage, c, session, dialog, status = line:match(STANDARD_LINE)
        if l4 then
          rec, why = sidecar_record(l4, ip_a, port_a, ip_b, port_b, s, e, usage, c, session, dialog, status)
        else
          local _, count = split_tabs(line)
          why = "expected " .. #SIDECAR_COLUMNS .. " tab-separated columns, got " .. count
        end
      else
        local cells, count = split_tabs(line)
        local v = {}
        for i = 1, #SIDECAR_COLUMNS do v[i] = cells[positions[i]] end
        if count < #SIDECAR_COLUMNS or v[#SIDECAR_COLUMNS] == nil then
          why = "expected at least " .. #SIDECAR_COLUMNS .. " tab-separated columns, got " .. count
        else
          rec, why = sidecar_record(v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12])
        end
      end
      if rec and not index_add(index, rec) then
        rec, why = nil, "address '" .. rec.ip_a .. "' or '" .. rec.ip_b .. "' is not a numeric IPv4/IPv6 address"
      end
      if not rec then complain(why) end
    end
  end
  if bad > MAX_MESSAGES_PER_SOURCE then
    say("sidecar " .. path .. ": " .. (bad - MAX_MESSAGES_PER_SOURCE) .. " more malformed line(s) skipped")
  end
  index.skipped = bad
  return index_finish(index)
end

----------------------------------------------------------------------------------------------------
-- Dialog records from the agent (protocol v1 LiveDialog), validated field by field.

local function record_from_live(d)
  if type(d) ~= "table" then return nil, "dialog is not an object" end
  local client, server = d.client, d.server
  if (d.l4 ~= "tcp" and d.l4 ~= "udp") or type(client) ~= "table" or type(server) ~= "table" then
    return nil, "dialog without l4/client/server"
  end
  if type(client.ip) ~= "string" or type(server.ip) ~= "string" or not is_integer_value(client.port)
    or not is_integer_value(server.port) or client.port < 0 or client.port > 65535 or server.port < 0
    or server.port > 65535 then
    return nil, "dialog with bad endpoints"
  end
  if not is_integer_value(d.startUs) or not is_integer_value(d.endUs) or d.endUs < d.startUs then
    return nil, "dialog with bad startUs/endUs"
  end
  if type(d.usage) ~= "string" or type(d.confidence) ~= "number" then return nil, "dialog without usage/confidence" end
  -- Values a well-behaved agent never sends are a malformed message, never shown (a confidence
  -- of 2 would read "200 %"): the dialog is skipped, as a malformed sidecar line is.
  if not d.usage:find("^[%w_]+$") then return nil, "dialog whose usage " .. json_string(d.usage) .. " is not a label" end
  if not (d.confidence >= 0 and d.confidence <= 1) then
    return nil, "dialog with confidence " .. tostring(d.confidence) .. ", not a number from 0 to 1"
  end
  local scores = type(d.scores) == "table" and d.scores or nil
  if scores then
    for class, p in pairs(scores) do
      if type(p) ~= "number" or not (p >= 0 and p <= 1) then
        return nil, "dialog whose score of " .. tostring(class) .. " is " .. tostring(p) .. ", not a number from 0 to 1"
      end
    end
  end
  return finish_record({
    id = type(d.id) == "string" and d.id or nil,
    capture = type(d.capture) == "string" and d.capture or nil,
    l4 = d.l4, ip_a = client.ip, port_a = client.port, ip_b = server.ip, port_b = server.port,
    start_us = d.startUs, end_us = d.endUs, usage = d.usage, confidence = d.confidence,
    session = is_integer_value(d.session) and d.session or 0,
    dialog = is_integer_value(d.dialog) and d.dialog or 0,
    status = d.status == "provisional" and "provisional" or "final",
    outlier = d.outlier == true, has_outlier = type(d.outlier) == "boolean",
    model = type(d.model) == "string" and d.model or nil,
    scores = scores,
  })
end

-- The agent's dialogs by id (later versions replace earlier ones) → an index.
local function index_from_dialogs(by_id, order)
  local index = new_index()
  for _, id in ipairs(order) do
    local rec = by_id[id]
    if rec then index_add(index, rec) end
  end
  return index_finish(index)
end

----------------------------------------------------------------------------------------------------
-- Which capture is open. Wireshark's Lua API does not say, so: a preference, then (Linux) the
-- files this process has open and its command line.

-- A file of /proc, whole (regular files there claim size 0, so read_regular_file cannot take them).
local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local data = read_bounded(f, MAX_SIDECAR_BYTES)
  f:close()
  return data
end

-- Whether anything is at `path`, without opening it (a FIFO there would block the open).
local function file_exists(path)
  local dir = rawget(_G, "Dir")
  if type(dir) == "table" and type(dir.exists) == "function" then
    local ok, is_dir = pcall(dir.exists, path)
    if ok then return is_dir ~= nil end
  end
  return path_kind(path) ~= nil
end

local function basename(path)
  return (path:gsub("[/\\]+$", ""):match("([^/\\]+)$")) or path
end

-- The options that take a value, which tshark 4.0 and Wireshark 4.0 (the GUI) do not share:
-- -g, -H, -j, -P and -S take one in one program and none in the other, -m takes one in Wireshark
-- only, -e, -E, -F, -G, -M, -O, -T, -U and -W in tshark only. Letters from each program's getopt
-- string (tshark 4.0.17's "+2a:b:B:c:Df:i:ILps:y:d:K:nN:t:u:M:C:e:E:F:gG:hH:j:J:lo:O:PqQr:R:S:T:U:vVw:W:xX:Y:z:";
-- Wireshark's ui/commandline.c: "C:g:HhjJ:klm:o:P:r:R:Svw:X:Y:z:" after the same capture and
-- dissection letters), long names from their option tables, where getopt_long takes any
-- unambiguous prefix: so those taking no value are listed too. Any other letter takes none.
local OPTIONS = {
  tshark = {
    short = "abBcfisydKNtuMCeEFGHjJoOrRSTUwWXYz",
    long = "autostop ring-buffer buffer-size interface snapshot-length linktype time-stamp-type temp-dir "
      .. "enable-protocol disable-protocol enable-heuristic disable-heuristic read-file read-filter display-filter "
      .. "capture-comment export-objects export-tls-session-keys elastic-mapping-filter hexdump selected-frame",
    flags = "help version list-interfaces monitor-mode list-data-link-types no-promiscuous-mode list-time-stamp-types "
      .. "print color no-duplicate-keys",
  },
  wireshark = {
    short = "abBcfisydKNtuCgJmoPrRwXYz",
    long = "autostop ring-buffer buffer-size interface snapshot-length linktype time-stamp-type temp-dir "
      .. "enable-protocol disable-protocol enable-heuristic disable-heuristic read-file read-filter display-filter "
      .. "capture-comment",
    flags = "help version list-interfaces monitor-mode list-data-link-types no-promiscuous-mode list-time-stamp-types "
      .. "fullscreen",
  },
}
for _, program in pairs(OPTIONS) do
  local takes_value, long = {}, {}
  for letter in program.short:gmatch(".") do takes_value[letter] = true end
  for name in program.long:gmatch("%S+") do long[#long + 1] = { name = name, value = true } end
  for name in program.flags:gmatch("%S+") do long[#long + 1] = { name = name, value = false } end
  program.short, program.long = takes_value, long
end
-- Read by both programs before getopt, exactly so spelled (wsutil/wslog.c): `--log-level VALUE`,
-- `--log-level=VALUE`. (And Qt's `--display X` in Wireshark.)
local LOG_OPTIONS = { ["--log-level"] = true, ["--log-domain"] = true, ["--log-domains"] = true, ["--log-file"] = true,
  ["--log-fatal"] = true, ["--log-debug"] = true, ["--log-noisy"] = true }

-- This process's command line (Linux), or nil.
local function cmdline_args()
  local data = read_file("/proc/self/cmdline")
  if not data or data == "" then return nil end
  local args = {}
  for arg in data:gmatch("([^\0]*)\0") do args[#args + 1] = arg end
  return args
end

-- The long option `name` (without the dashes, before any `=`) stands for, as getopt_long finds
-- it: the exact name, else the only one it begins; nil when none or several.
local function long_option(long, name)
  local found
  for _, option in ipairs(long) do
    if option.name == name then return option end
    if option.name:sub(1, #name) == name then
      if found then return nil end
      found = option
    end
  end
  return found
end

-- Walks tshark's (gui false) or Wireshark's (gui true) arguments as its getopt reads them,
-- calling visit(option, value) for each option (`-r`, `-o`, `-2`, `--read-file` as `-r`; value
-- nil for one that takes none) until visit returns true. tshark stops at its first argument
-- that is no option (getopt's "+": the rest is the display filter) and returns it; Wireshark
-- reads on (its capture file may come anywhere) and returns the last one (Qt's own options,
-- such as `-platform xcb`, which Qt takes out before Wireshark reads the rest, end before it).
local function walk_options(args, visit, gui)
  local program = gui and OPTIONS.wireshark or OPTIONS.tshark
  local positional
  local i = 2
  while i <= #args do
    local arg = args[i]
    if arg == "--" then
      -- Everything after it is an argument, whatever it looks like.
      if i < #args then return args[gui and #args or i + 1] end
      return positional
    elseif arg:sub(1, 2) == "--" then
      local name, inline = arg:match("^%-%-([^=]*)=(.*)$")
      name = name or arg:sub(3)
      local option, takes_value
      if LOG_OPTIONS["--" .. name] or (gui and name == "display") then
        takes_value = true
      else
        option = long_option(program.long, name)
        takes_value = option and option.value
      end
      local value = inline
      if takes_value and not inline then
        i = i + 1
        value = args[i]
      end
      if option or takes_value then
        local as = option and option.name == "read-file" and "-r" or ("--" .. (option and option.name or name))
        if (value or not takes_value) and visit(as, value) then return positional end
      end
    elseif arg:sub(1, 1) == "-" and #arg > 1 then
      -- Short options, possibly clustered as getopt allows (`-nr FILE`, `-nVrFILE`): the first
      -- one that takes a value ends the cluster, with the rest of it or the next argument.
      for k = 2, #arg do
        local letter = arg:sub(k, k)
        if program.short[letter] then
          local value = arg:sub(k + 1)
          if value == "" then
            i = i + 1
            value = args[i]
          end
          if value and visit("-" .. letter, value) then return positional end
          break
        end
        if visit("-" .. letter, nil) then return positional end
      end
    else
      positional = arg
      if not gui then return positional end
    end
    i = i + 1
  end
  return positional
end

local function capture_from_cmdline()
  local args = cmdline_args()
  if not args then return nil end
  local file
  local gui = in_gui()
  local positional = walk_options(args, function(option, value)
    if option == "-r" then file = value; return true end
    return false
  end, gui)
  if file then return file end
  -- `wireshark FILE` (tshark's arguments after its options are a display filter)
  if gui and positional and file_exists(positional) then return positional end
  return nil
end

-- The values given to a preference on the command line (`-o NAME:VALUE`), in order. Wireshark
-- skips blanks after the colon, as here.
local function cmdline_pref_values(name)
  local values = {}
  local args = cmdline_args()
  if not args then return values end
  walk_options(args, function(option, value)
    if option == "-o" and value:sub(1, #name + 1) == name .. ":" then
      values[#values + 1] = (value:sub(#name + 2):gsub("^%s+", ""))
    end
    return false
  end, in_gui())
  return values
end

-- Whether tshark runs two passes (-2), which the plugin learns from no API; nil when the command
-- line cannot be read.
local function cmdline_two_pass()
  local args = cmdline_args()
  if not args or in_gui() then return args and false or nil end
  local found = false
  walk_options(args, function(option)
    if option == "-2" then found = true; return true end
    return false
  end, false)
  return found
end

-- Paths of the open capture and of the agent's captures, compared as files: the agent names
-- each capture by the absolute path it watches (path.resolve: no `.` or `..`, symbolic links
-- kept), the plugin knows the open file by what the command line said (maybe relative) or by
-- the real path /proc shows for the GUI's open files.
-- The file's real path (absolute; symbolic links, `.` and `..` resolved, relative to this
-- process's working folder), or nil where the shell or realpath is missing or the path does not
-- lead anywhere. Runs a process, so only while loading labels, never per packet.
local function real_path(path)
  if not POSIX or not io.popen or path == "" then return nil end
  local ok, pipe = pcall(io.popen, "realpath -- " .. shell_quote(path) .. " 2>/dev/null")
  if not ok or not pipe then return nil end
  local out = pipe:read("*a") or ""
  pipe:close()
  out = out:gsub("\n$", "")
  if out:sub(1, 1) == "/" then return out end
  return nil
end

-- `.`, `..` and repeated slashes resolved by text alone, relative paths against `cwd`; nil when
-- the path is relative and there is no absolute cwd. For where realpath cannot be asked.
local function lexical_path(path, cwd)
  if path:sub(1, 1) ~= "/" then
    if not cwd or cwd:sub(1, 1) ~= "/" then return nil end
    path = cwd .. "/" .. path
  end
  local parts = {}
  for part in path:gmatch("[^/]+") do
    if part == ".." then
      parts[#parts] = nil
    elseif part ~= "." then
      parts[#parts + 1] = part
    end
  end
  return "/" .. table.concat(parts, "/")
end

-- Which of the agent's captures (hello.captures) is the file at `path`, or nil when none is. Only
-- the same file counts, never a file of the same name in another folder: two watched folders may
-- each hold a cap.pcapng (the agent names the second cap.pcapng#2), and a copy elsewhere may bear
-- a watched file's name. `resolve` gives a real path (real_path; the tests' stand-in elsewhere).
-- A capture whose path is not absolute (an anonymising agent cuts it to the file name) or that
-- is removed cannot be told by its path: it is never taken here.
local function watched_capture(path, captures, resolve)
  if not path or type(captures) ~= "table" then return nil end
  local candidates = {}
  for _, info in ipairs(captures) do
    if type(info) == "table" and type(info.name) == "string" and type(info.path) == "string"
      and info.path:sub(1, 1) == "/" and info.state ~= "removed" then
      if info.path == path then return info end -- the same text: the same file, nothing to ask
      candidates[#candidates + 1] = info
    end
  end
  if #candidates == 0 then return nil end
  local real = resolve(path)
  if not real then
    -- No realpath (no POSIX shell, or the file is gone): the paths as text, made absolute.
    local absolute = lexical_path(path, os.getenv("PWD"))
    for _, info in ipairs(candidates) do
      if lexical_path(info.path) == absolute then return info end
    end
    return nil
  end
  for _, info in ipairs(candidates) do
    if info.path == real then return info end
  end
  -- A watched folder reached through a symbolic link: only a file of the same name (as opened,
  -- or as resolved) can be the same file, so only those paths are resolved (one process each).
  local names = { [basename(path)] = true, [basename(real)] = true }
  for _, info in ipairs(candidates) do
    if names[basename(info.path)] and resolve(info.path) == real then return info end
  end
  return nil
end

-- In the GUI the user may have opened another file since start-up: look at the open files.
local function capture_from_open_files()
  local stat = read_file("/proc/self/stat")
  local pid = stat and stat:match("^(%d+)")
  if not pid or not io.popen then return nil end
  local ok, pipe = pcall(io.popen, "ls -l /proc/" .. pid .. "/fd 2>/dev/null")
  if not ok or not pipe then return nil end
  local listing = pipe:read("*a") or ""
  pipe:close()
  local best, best_fd, best_has_sidecar
  for fd, target in listing:gmatch("%s(%d+) %-> ([^\n]+)") do
    if target:find("^/") and not target:find(" %(deleted%)$") and not target:find("^/proc/")
      and not target:find("^/dev/") and not target:find("%.so[%.%d]*$") and not target:find("%.lua$") then
      local looks_like_capture = target:find("%.pcapng$") or target:find("%.pcap$") or target:find("%.cap$")
        or target:find("%.pcapng%.gz$") or target:find("%.pcap%.gz$") or target:find("%.ntar$")
      local has_sidecar = file_exists(target .. SIDECAR_SUFFIX)
      if looks_like_capture or has_sidecar then
        local fdn = tonumber(fd)
        if not best or (has_sidecar and not best_has_sidecar) or (has_sidecar == best_has_sidecar and fdn > best_fd) then
          best, best_fd, best_has_sidecar = target, fdn, has_sidecar
        end
      end
    end
  end
  return best
end

----------------------------------------------------------------------------------------------------
-- The protocol, its fields, expert infos and preferences.

-- Loaded twice (an installed copy and `-X lua_script:` for a one-off run): the first copy does
-- the work; this one says so and steps aside instead of failing with a Lua error.
local proto_ok, cumma = pcall(Proto, "cumma", "Cumma service usage")
if not proto_ok then
  io.stderr:write("cumma: the Cumma plugin is loaded twice (installed, and again with -X lua_script:); using the first copy\n")
  return
end

-- Strings and doubles take (abbr, name, description): Wireshark 4.0 drops the description of
-- the four-argument form (abbr, name, display, description) that later versions document.
local f = {
  usage = ProtoField.string("cumma.usage", "Usage", "Service usage of the packet's dialog"),
  group = ProtoField.string("cumma.group", "Group", "Coarse group: chat, media, call, streaming, other, unknown"),
  confidence = ProtoField.double("cumma.confidence", "Confidence", "Probability of the chosen usage, 0 to 1, after the session's earlier dialogs are taken into account (Top scores are the dialog's own)"),
  session = ProtoField.uint32("cumma.session", "Session", base.DEC, nil, nil, "Session number within the flow"),
  dialog = ProtoField.uint32("cumma.dialog", "Dialog", base.DEC, nil, nil, "Dialog number within the flow"),
  status = ProtoField.string("cumma.status", "Status", "final, or provisional while the dialog may still grow"),
  outlier = ProtoField.bool("cumma.outlier", "Outlier", base.NONE, nil, nil, "Looks like none of the trained classes"),
  model = ProtoField.string("cumma.model", "Model", "Model name and version"),
  scores = ProtoField.string("cumma.scores", "Top scores", "The three best class scores (from the agent)"),
  source = ProtoField.string("cumma.source", "Source", "Where the labels come from, or why there are none"),
}
cumma.fields = { f.usage, f.group, f.confidence, f.session, f.dialog, f.status, f.outlier, f.model, f.scores, f.source }

experts = {
  unknown = ProtoExpert.new("cumma.unknown", "Cumma: usage unknown (looks like none of the trained classes)",
    expert.group.ASSUMPTION, expert.severity.NOTE),
  provisional = ProtoExpert.new("cumma.provisional", "Cumma: provisional label (the dialog may still grow)",
    expert.group.ASSUMPTION, expert.severity.NOTE),
}
cumma.experts = { experts.unknown, experts.provisional }

local SOURCE_AUTO, SOURCE_AGENT, SOURCE_SIDECAR, SOURCE_OFF = 1, 2, 3, 4
-- Wireshark's enum entries: { name, text shown, value }; `-o cumma.source:X` takes either.
local SOURCE_CHOICES = { { 1, "auto", SOURCE_AUTO }, { 2, "agent", SOURCE_AGENT }, { 3, "sidecar", SOURCE_SIDECAR }, { 4, "off", SOURCE_OFF } }
cumma.prefs.source = Pref.enum("Label source", SOURCE_AUTO,
  "auto: in the GUI the agent's labels of the open file if it watches it, else the sidecar, else the agent's match "
    .. "against all its captures; in tshark the sidecar if present, else the agent",
  SOURCE_CHOICES, false)
cumma.prefs.host = Pref.string("Agent host", DEFAULT_HOST, "Host of the Cumma agent (cumma watch)")
cumma.prefs.port = Pref.uint("Agent port", DEFAULT_PORT, "TCP port of the Cumma agent")
cumma.prefs.token = Pref.string("Token", "", "The agent's token (printed by cumma watch); empty: read it from the agent's config dir")
cumma.prefs.sidecar = Pref.string("Sidecar path", "", "Labels file to read instead of CAPTURE" .. SIDECAR_SUFFIX .. " (also names the capture for the agent)")
cumma.prefs.timeout_ms = Pref.uint("Agent timeout (ms)", 1500, "Longest wait for each step of the agent's answer")
cumma.prefs.notes_always = Pref.bool("Expert notes without a protocol tree", in_gui(),
  "Also label packets in passes that build no protocol tree (Analyze ▸ Expert Information, tshark -z expert), "
    .. "so that their notes for unknown and provisional labels are listed; costs time in such passes. "
    .. "On by default in Wireshark, off in tshark")

-- Wireshark takes an enum preference's value by its name or its text in any case, and for
-- anything else keeps the current value without a word (Wireshark 4.0's prefs.c: "XXX - give an
-- error if it doesn't match?"): `-o cumma.source:bogus` would quietly mean auto. So the command
-- line is checked here, once, as Wireshark matches (prefs.c find_val_for_string).
local function source_choice(value)
  for _, choice in ipairs(SOURCE_CHOICES) do
    if value:lower() == tostring(choice[1]):lower() or value:lower() == choice[2]:lower() then return choice end
  end
  return nil
end

local source_option_checked = false
local function check_source_option()
  if source_option_checked then return end
  source_option_checked = true
  local current = "auto"
  for _, choice in ipairs(SOURCE_CHOICES) do
    if choice[3] == cumma.prefs.source then current = choice[2] end
  end
  for _, value in ipairs(cmdline_pref_values("cumma.source")) do
    if not source_choice(value) then
      say("-o cumma.source:" .. value .. ": '" .. value .. "' is not a label source; use auto, agent, sidecar or off "
        .. "(Wireshark ignores the value: the source stays " .. current .. ")")
    end
  end
end

-- The token the agent keeps in its config folder (docs/protocol.md): $CUMMA_CONFIG_DIR/token, else
-- $XDG_CONFIG_HOME/cumma/token, else ~/.config/cumma/token; used when the preference is empty.
local function token_from_config()
  local function env(name)
    local v = os.getenv(name)
    if v and v ~= "" then return v end
    return nil
  end
  local dir = env("CUMMA_CONFIG_DIR")
  if not dir and env("XDG_CONFIG_HOME") then dir = env("XDG_CONFIG_HOME") .. "/cumma" end
  local home = env("HOME") or env("USERPROFILE")
  if not dir and home then dir = home .. "/.config/cumma" end
  if not dir then return nil end
  local text = read_regular_file(dir .. "/token", 64 * 1024)
  return text and text:match("^%s*(%S+)")
end

----------------------------------------------------------------------------------------------------
-- State of the current load.

local state = {
  pending = false,       -- a new pass began: load the labels when a packet needs them
  active = false,        -- labels or a failure message to show
  index = nil,           -- the label index, when there are labels
  failure = nil,         -- "no labels: …" text, when there are none
  source_text = nil,     -- "from agent 127.0.0.1:7345" / "from sidecar /path"
  source_kind = nil,     -- "agent" | "sidecar"
  capture = nil,         -- path of the open capture, when known
  key = nil,             -- what the labels were loaded for (to reuse them on a redissection)
  agent = nil,           -- { ws, by_id, order, changed } while an agent connection stays open (GUI)
  sidecar_size = nil,
  sidecar_path = nil,    -- the sidecar the labels come from
  sidecar_want = nil,    -- the sidecar of this load, whether or not it was there (see recheck_sidecar)
  sidecar_seen_size = nil, -- its size when last looked at (nil: none there)
  sidecar_checked = nil, -- when it was last looked at (os.time())
  hits = 0,              -- packets labelled since the labels were loaded (see note_miss)
  time_misses = 0,
  pair_misses = 0,
  last_redissect = 0,
  redissect_due = false, -- the agent changed labels since the last redissection (GUI)
}

local notes_always = false -- the preference of that name, read once per pass
local cached_refs -- which fields a hidden tree needs, asked once per pass in tshark (see referenced_fields)
local cached_refs_visited -- pinfo.visited when they were asked: true in the second pass of tshark -2
local two_pass -- tshark runs with -2 (nil: its command line is unknown, so it may)

local function close_agent()
  if state.agent and state.agent.ws then pcall(function() state.agent.ws:close() end) end
  state.agent = nil
end

-- Says (the first few times per connection) that a dialog of the agent was skipped, and why.
local function note_skipped(agent, why)
  agent.skipped = (agent.skipped or 0) + 1
  if agent.skipped <= MAX_MESSAGES_PER_SOURCE then say("agent " .. agent.where .. ": skipped a " .. why) end
end

-- Applies one agent message; returns true when labels changed. A malformed dialog is skipped with
-- a note (note_skipped), the labels so far kept.
local function apply_agent_message(agent, message)
  if message.type == "dialog" then
    local rec, why = record_from_live(message.dialog)
    if rec and (not address_of(rec.ip_a) or not address_of(rec.ip_b)) then
      rec, why = nil, "dialog whose addresses are not numeric IPv4/IPv6"
    end
    if not rec then note_skipped(agent, why); return false end
    local id = rec.id or (rec.l4 .. rec.ip_a .. rec.port_a .. rec.ip_b .. rec.port_b .. int_text(rec.start_us))
    if not agent.by_id[id] then agent.order[#agent.order + 1] = id end
    agent.by_id[id] = rec
    return true
  end
  -- A capture read again from the start (truncated, replaced, written over): its dialogs so far
  -- no longer hold; those read now follow.
  if message.type == "capture" and message.event == "restarted" and type(message.capture) == "table" then
    local name = message.capture.name
    local order, dropped = {}, false
    for _, id in ipairs(agent.order) do
      local rec = agent.by_id[id]
      if rec and rec.capture == name then
        agent.by_id[id] = nil
        dropped = true
      else
        order[#order + 1] = id
      end
    end
    agent.order = order
    return dropped
  end
  return false
end

local function agent_timeout()
  local ms = tonumber(cumma.prefs.timeout_ms) or 1500
  if ms < 50 then ms = 50 end
  return ms / 1000
end

-- The agent answers a subscription with its snapshot at once. Other messages may come first
-- (stats, capture and folder events, dialogs), each within the Agent timeout of the one before,
-- but an agent that sends them and never the snapshot would hold tshark (or the GUI) for good:
-- the snapshot must have come this many seconds after the subscription, or the Agent timeout
-- when that is longer.
local SNAPSHOT_WAIT_S = 5

local function seconds_text(s)
  return string.format("%g", s)
end

-- Asks the agent for the labels of the capture at `capture` (a path), or of every capture when
-- the agent does not watch that file or no file is known. Returns an agent table (ws, by_id,
-- order, note; watched: the agent's capture info when it watches the file) or nil, why.
-- `options` (a retry, see retry_agent): connect_s bounds the TCP connect; watched_only gives up
-- after the agent's hello when it does not watch the file (nil, why, "unwatched"), rather than
-- subscribing to all its captures.
local function fetch_from_agent(capture, options)
  options = options or {}
  local host = cumma.prefs.host ~= "" and cumma.prefs.host or DEFAULT_HOST
  local port = tonumber(cumma.prefs.port) or DEFAULT_PORT
  local token = cumma.prefs.token
  if not token or token == "" then token = token_from_config() or "" end
  local timeout = agent_timeout()
  local ws, why = WebSocket.connect(host, port, WEBSOCKET_PATH, token, timeout, options.connect_s)
  if not ws then return nil, why end
  local where = ws.where
  local socket = ws.socket
  -- `deadline` (socket.gettime() seconds), when given, ends the wait before the step's timeout
  -- does, with `late` as the reason.
  local function next_message(deadline, late)
    local until_time = socket.gettime() + timeout
    local cut = deadline and deadline < until_time
    local text, err = ws:receive(cut and deadline or until_time)
    if not text then
      if err == "timeout" and cut then return nil, late end
      if err == "timeout" then return nil, "agent " .. where .. " sent nothing for " .. seconds_text(timeout) .. " s" end
      if err == "closed" then return nil, "agent " .. where .. " " .. (ws.close_reason or "closed the connection") end
      return nil, "agent " .. where .. ": " .. tostring(err)
    end
    local message, json_err = json_decode(text)
    if not message then return nil, "agent " .. where .. " sent invalid JSON (" .. json_err .. ")" end
    if type(message) ~= "table" or type(message.type) ~= "string" then
      return nil, "agent " .. where .. " sent a message without a type"
    end
    return message
  end
  local hello, err = next_message()
  if not hello then ws:close_socket(); return nil, err end
  if hello.type ~= "hello" or hello.v ~= PROTOCOL_VERSION then
    ws:close()
    return nil, "agent " .. where .. " speaks protocol " .. tostring(hello.v) .. " ('" .. hello.type .. "' first), this plugin " .. PROTOCOL_VERSION
  end
  if hello.anonymized == true then
    ws:close()
    -- hello says that the agent anonymises, not why: both causes are named, neither claimed.
    return nil, "agent " .. where .. " serves anonymised addresses, which cannot be matched to packets"
      .. " (it was started with --anonymize or --anonymize-key-file, or listens beyond loopback)"
  end
  local agent = { ws = ws, where = where, by_id = {}, order = {}, note = nil, watched = nil }
  -- Ask for the open file's own capture when the agent watches that very file (by path: names
  -- are file names, which another file can share), else for every capture: the 5-tuples and times
  -- still find the packets of a copy or an export of a watched capture.
  local watched = watched_capture(capture, hello.captures, real_path)
  if options.watched_only and not watched then
    ws:close()
    return nil, "agent " .. where .. " does not watch " .. tostring(capture), "unwatched"
  end
  local request
  if watched then
    agent.watched = watched
    request = '{"v":1,"type":"subscribe","captures":[' .. json_string(watched.name) .. ']}'
    if watched.state == "reading" then
      agent.note = "the agent is still reading " .. watched.name .. ": labels may be incomplete"
    elseif watched.state == "error" then
      agent.note = "the agent had an error reading " .. watched.name .. ": " .. tostring(watched.error)
    elseif type(watched.warning) == "string" then
      if watched.warning:find("[CAPTURE_TRUNCATED]", 1, true) then
        -- Not an error: the file ends inside a block and has stopped growing; packets past there
        -- have no labels until the rest is written.
        agent.note = "the agent is waiting for the rest of " .. watched.name .. ": " .. watched.warning
      else
        -- Another warning (the capture's state journal or sidecar failed): passed on as the agent words it.
        agent.note = "the agent warns of " .. watched.name .. ": " .. watched.warning
      end
    end
  else
    request = '{"v":1,"type":"subscribe","captures":"*"}'
    if capture then
      agent.note = capture .. " is not watched by the agent: matched against all its captures"
      -- Name the watched files that bear its name, so that nobody takes their labels for its own.
      local name, same = basename(capture), {}
      if type(hello.captures) == "table" then
        for _, info in ipairs(hello.captures) do
          if type(info) == "table" and type(info.name) == "string" and type(info.path) == "string"
            and basename(info.path) == name then
            same[#same + 1] = "its " .. info.name .. " is " .. info.path
          end
        end
      end
      if #same > 0 then
        agent.note = agent.note .. "; " .. table.concat(same, ", ") .. (#same == 1 and ", another file" or ", other files")
      end
    end
  end
  local ok, send_err = ws:send_text(request)
  if not ok then ws:close_socket(); return nil, "agent " .. where .. ": sending failed (" .. tostring(send_err) .. ")" end
  local wait = math.max(SNAPSHOT_WAIT_S, timeout)
  local deadline = socket.gettime() + wait
  local late = "agent " .. where .. " sent no snapshot within " .. seconds_text(wait) .. " s of the subscription"
  while true do
    local message
    if socket.gettime() >= deadline then ws:close_socket(); return nil, late end
    message, err = next_message(deadline, late)
    if not message then ws:close_socket(); return nil, err end
    if message.type == "snapshot" then
      if type(message.dialogs) ~= "table" then ws:close(); return nil, "agent " .. where .. " sent a snapshot without dialogs" end
      for _, d in ipairs(message.dialogs) do
        apply_agent_message(agent, { type = "dialog", dialog = d })
      end
      if (agent.skipped or 0) > MAX_MESSAGES_PER_SOURCE then
        say("agent " .. where .. ": " .. (agent.skipped - MAX_MESSAGES_PER_SOURCE) .. " more malformed dialog(s) skipped")
      end
      break
    elseif message.type == "dialog" then
      apply_agent_message(agent, message)
    elseif message.type == "error" and message.code ~= "UNKNOWN_CAPTURE" and message.code ~= "RATE_LIMITED" then
      ws:close()
      return nil, "agent " .. where .. " answered " .. tostring(message.code) .. ": " .. tostring(message.message)
    end
    -- capture, folder (any event or state: added, missing, back, error, and later ones), stats,
    -- pong, informational errors: nothing to do here
  end
  return agent
end

-- Garbage collection. Wireshark makes Lua objects for every packet a Lua dissector sees (Tvb,
-- Pinfo, one TreeItem per item added), all garbage once the packet is done; with Lua's default
-- pause (200 %: collect when the heap has doubled) the collector runs so often over the label
-- index that it costs more than the dissection. While labels are loaded the pause lets about
-- GC_HEADROOM_KB of garbage pile up between collections (never more than 10 times the live
-- heap); it goes back to what it was when there are no labels.
local GC_HEADROOM_KB = 64 * 1024
local gc_default_pause

local function tune_gc(active)
  local ok = pcall(function()
    if active then
      local live = collectgarbage("count")
      local pause = floor(100 * (live + GC_HEADROOM_KB) / live)
      if pause > 1000 then pause = 1000 end
      if pause < 200 then pause = 200 end
      local previous = collectgarbage("setpause", pause)
      if gc_default_pause == nil then gc_default_pause = previous end
    elseif gc_default_pause ~= nil then
      collectgarbage("setpause", gc_default_pause)
      gc_default_pause = nil
    end
  end)
  return ok
end

-- `about` names the source and what to do in the message that says its labels do not fit the
-- capture (see note_miss): { source = "sidecar /caps/x.pcapng.cumma.tsv", advice = "…" }.
local function set_labels(index, kind, text, about)
  state.index, state.failure, state.source_kind, state.source_text = index, nil, kind, text
  state.about = about
  state.hits, state.time_misses, state.pair_misses, state.misfit_said = 0, 0, 0, false
  state.active = true
  state.notes = false
  for _, rec in ipairs(index.records) do
    if rec.note then state.notes = true; break end
  end
end

-- The GUI's retries of the agent (see retry_agent): the first wait, the longest, and the most a
-- retry's connect waits.
local RETRY_FIRST_S, RETRY_MAX_S, RETRY_CONNECT_S = 5, 60, 0.5

-- The Source text of an agent's labels: agent.text (set when its connection is taken, see
-- take_agent), with "(no dialogs yet)" while it has none.
local function agent_source_text(agent)
  if #agent.order == 0 then return agent.text .. " (no dialogs yet)" end
  return agent.text
end

-- Polls an open agent connection without waiting; returns true when labels changed.
local function poll_agent()
  local agent = state.agent
  if not agent or not agent.ws or agent.ws.closed then return false end
  local changed = false
  local started = agent.ws.socket.gettime()
  while agent.ws.socket.gettime() - started < 0.05 do
    local text, err = agent.ws:receive(0)
    if not text then
      if err ~= "timeout" then
        say("agent " .. agent.where .. ": connection lost (" .. tostring(agent.ws.close_reason or err)
          .. "); labels kept, trying again in " .. RETRY_FIRST_S .. " s")
        agent.ws = nil
      end
      break
    end
    local message = json_decode(text)
    if type(message) == "table" and apply_agent_message(agent, message) then changed = true end
  end
  if changed then set_labels(index_from_dialogs(agent.by_id, agent.order), "agent", agent_source_text(agent), agent.about) end
  return changed
end

----------------------------------------------------------------------------------------------------
-- Loading labels for the open capture.

-- Wireshark opens compressed captures itself; `cumma classify --sidecar` cannot, so the sidecar
-- of X.pcapng.gz is the one written for X.pcapng, unless X.pcapng.gz has one of its own.
local COMPRESSED_SUFFIXES = { ".gz", ".zst", ".lz4" }

local function sidecar_path_for(capture)
  if cumma.prefs.sidecar and cumma.prefs.sidecar ~= "" then return cumma.prefs.sidecar end
  if not capture then return nil end
  local own = capture .. SIDECAR_SUFFIX
  for _, suffix in ipairs(COMPRESSED_SUFFIXES) do
    if #capture > #suffix and capture:sub(-#suffix) == suffix and not file_exists(own) then
      local uncompressed = capture:sub(1, -#suffix - 1) .. SIDECAR_SUFFIX
      if file_exists(uncompressed) then return uncompressed end
    end
  end
  return own
end

-- The size of a regular file (path_kind "file": never opened otherwise).
local function file_size(path)
  local fh = io.open(path, "rb")
  if not fh then return nil end
  local size = fh:seek("end")
  fh:close()
  return size
end


local function set_failure(reasons)
  state.index, state.source_kind, state.source_text = nil, nil, nil
  state.failure = "no labels: " .. table.concat(reasons, "; ")
  state.failure_title = "Cumma: " .. state.failure
  state.active = true
  say(state.failure)
end

local function find_capture()
  local override = cumma.prefs.sidecar
  if override and override ~= "" then
    if override:sub(-#SIDECAR_SUFFIX) == SIDECAR_SUFFIX then return override:sub(1, -#SIDECAR_SUFFIX - 1) end
    return nil
  end
  if in_gui() then return capture_from_open_files() or capture_from_cmdline() end
  return capture_from_cmdline()
end

-- Takes the labels of the sidecar at `path` (`kind`: path_kind(path), false when nothing is
-- there; `size`: its size) when it holds a dialog; returns true, or false and why not (the labels
-- shown stay).
local function take_sidecar(path, kind, size)
  local index, why = load_sidecar(path, kind)
  if not index then return false, why end
  if index.count == 0 then
    -- Empty, a header alone, or nothing but malformed lines: say so where the labels would be.
    local skipped = index.skipped or 0
    return false, "sidecar " .. path .. " holds no dialog" ..
      (skipped > 0 and " (" .. skipped .. " malformed line(s) skipped)" or "")
  end
  state.sidecar_size, state.sidecar_content, state.sidecar_path = size, index.content, path
  state.sidecar_seen_size = size
  index.content = nil
  local text = "from sidecar " .. path
  if index.skipped and index.skipped > 0 then text = text .. " (" .. index.skipped .. " malformed line(s) skipped)" end
  set_labels(index, "sidecar", text, { source = "sidecar " .. path,
    advice = "it may belong to another capture; run cumma classify CAPTURE --sidecar again" })
  return true
end

-- Takes an agent's connection and, unless `keep_labels`, its labels. In the GUI the connection
-- stays open (later dialogs update the labels: poll_agent); elsewhere it is closed.
local function take_agent(agent, capture, keep_labels)
  local text = "from agent " .. agent.where
  if agent.watched then text = text .. ", capture " .. agent.watched.name end
  if agent.note then text = text .. " (" .. agent.note .. ")" end
  local about
  if agent.watched then
    about = { source = "agent " .. agent.where .. ", capture " .. agent.watched.name .. " (" .. agent.watched.path .. ")",
      advice = "the file may have changed since the agent read it" }
  else
    about = { source = "agent " .. agent.where .. " (all its captures: "
        .. (capture and (capture .. " is not watched") or "the open file is unknown") .. ")",
      advice = "none of the agent's captures holds this traffic; watch its folder (cumma watch DIR) or write its sidecar "
        .. "(cumma classify CAPTURE --sidecar)" }
  end
  agent.text, agent.about = text, about
  if state.agent ~= agent then close_agent() end
  if not keep_labels then set_labels(index_from_dialogs(agent.by_id, agent.order), "agent", agent_source_text(agent), about) end
  if in_gui() and not agent.ws.closed then
    state.agent = agent
  else
    agent.ws:close()
  end
end

----------------------------------------------------------------------------------------------------
-- The GUI tries the agent again by itself (retry_agent, from the tap's draw callback): when none
-- was reached at the load, or its connection was lost. The first try comes RETRY_FIRST_S after
-- the need is seen, each failed one doubles the wait up to RETRY_MAX_S, and an open connection
-- starts the count again. The connect of a try waits at most RETRY_CONNECT_S (a refused connect on
-- this machine is instant; a host that drops it would hold the GUI for the whole Agent timeout).

local function new_backoff(first, max)
  return { first = first, max = max, wait = first, next_at = nil }
end

-- Whether a try is due at `now` (seconds). The first call after a reset only sets the time of
-- the first try; a clock set back before the wait began starts the wait again.
local function backoff_due(b, now)
  if b.next_at == nil or now < b.next_at - b.wait then
    b.next_at = now + b.wait
    return false
  end
  return now >= b.next_at
end

local function backoff_failed(b, now)
  b.wait = math.min(b.wait * 2, b.max)
  b.next_at = now + b.wait
end

local function backoff_reset(b)
  b.wait, b.next_at = b.first, nil
end

local retry = new_backoff(RETRY_FIRST_S, RETRY_MAX_S)

-- Whether to try the agent again: in the GUI, labels loaded for this pass, a source that allows
-- the agent, no agent connection open, and LuaSocket there (without it no try can succeed).
local function agent_retry_wanted()
  if not in_gui() or state.pending or state.key == nil or not state.active then return false end
  local source = cumma.prefs.source
  if source ~= SOURCE_AUTO and source ~= SOURCE_AGENT then return false end
  local agent = state.agent
  if agent and agent.ws and not agent.ws.closed then return false end
  return load_socket() ~= nil
end

-- One tick of the retry at `now` (seconds; the draw callback passes os.time()): asks the agent
-- when the backoff says so and takes what it answers as load_labels would. `auto` takes the
-- agent's labels of this very file over the sidecar, and the sidecar over the agent's match
-- against all its captures; labels shown by a sidecar are kept unless the agent watches the file
-- and has dialogs of it (an agent that does not watch it is left after its hello). A failed try
-- keeps the labels shown (a lost connection's too), and says its reason once, and not when the
-- "no labels" line already gave it. A connection whose snapshot has no dialog, after a lost one
-- that had some, is taken but the old labels stay until it sends its first dialog (poll_agent).
-- Returns true when the labels changed (a redissection is due). `fetch` stands in for
-- fetch_from_agent in tests.
local function retry_agent(now, fetch)
  if not agent_retry_wanted() then backoff_reset(retry); return false end
  if not backoff_due(retry, now) then return false end
  fetch = fetch or fetch_from_agent
  local source = cumma.prefs.source
  local capture = state.capture
  local sidecar_shown = source == SOURCE_AUTO and state.source_kind == "sidecar"
  local agent, why, unwatched = fetch(capture, { connect_s = math.min(agent_timeout(), RETRY_CONNECT_S), watched_only = sidecar_shown })
  local own = agent and agent.watched and #agent.order > 0
  local result -- "agent": its labels and connection taken; "open": connection only; "sidecar"
  if not agent then
    if why and not unwatched and not sidecar_shown and not (state.failure and state.failure:find(why, 1, true)) then
      say(why .. "; trying again later")
    end
  elseif sidecar_shown and not own then
    agent.ws:close()
  else
    local sidecar = state.sidecar_want
    if source == SOURCE_AUTO and not own and sidecar then
      local kind = path_kind(sidecar)
      if kind == "file" and take_sidecar(sidecar, kind, file_size(sidecar)) then
        agent.ws:close()
        result = "sidecar"
      end
    end
    if not result then
      result = (#agent.order == 0 and state.index) and "open" or "agent"
      take_agent(agent, capture, result == "open")
    end
  end
  if result == "agent" or result == "open" then
    backoff_reset(retry)
    reset_said() -- a new connection: its loss, and what follows, are said again
    if result == "open" then
      say("agent " .. agent.where .. " answered with no dialogs yet; the labels shown stay until it sends some")
    end
  else
    backoff_failed(retry, now)
  end
  if result == "agent" or result == "sidecar" then
    say("labels now " .. state.source_text)
    tune_gc(true)
    return true
  end
  return false
end

-- In the GUI while packets arrive (the draw callback passes os.time()), at most every
-- SIDECAR_CHECK_S: with the sidecar or auto source, while the labels come from the sidecar or
-- there are none, a sidecar whose size differs from when it was last looked at (the agent
-- rewrote it, or it appeared) is read and, when it holds a dialog, taken. Nothing there, not a
-- regular file, no dialog: the labels shown stay. Returns true when the labels changed.
local SIDECAR_CHECK_S = 5
local function recheck_sidecar(now)
  if not in_gui() or state.pending or state.key == nil or not state.active then return false end
  local source = cumma.prefs.source
  if source ~= SOURCE_AUTO and source ~= SOURCE_SIDECAR then return false end
  if state.index and state.source_kind ~= "sidecar" then return false end
  local path = state.sidecar_want
  if not path then return false end
  local last = state.sidecar_checked
  if last and now >= last and now - last < SIDECAR_CHECK_S then return false end
  state.sidecar_checked = now
  local kind = path_kind(path)
  local size = kind == "file" and file_size(path) or nil
  if size == state.sidecar_seen_size then return false end
  state.sidecar_seen_size = size
  if not size or not take_sidecar(path, kind, size) then return false end
  say("labels now " .. state.source_text)
  tune_gc(true)
  return true
end

local function load_labels(force)
  local source = cumma.prefs.source
  if source == SOURCE_OFF then
    close_agent()
    state.active, state.index, state.failure, state.key = false, nil, nil, "off"
    return
  end
  local capture = find_capture()
  -- `tshark -r -`: no file, so no sidecar beside it and no name to ask the agent for.
  local from_stdin = capture == "-"
  if from_stdin then capture = nil end
  local sidecar = sidecar_path_for(capture)
  -- Never opened unless it is a regular file (path_kind): a FIFO would block, a device not end.
  local sidecar_kind = sidecar and path_kind(sidecar)
  local size = sidecar_kind == "file" and file_size(sidecar) or nil
  local key = table.concat({ tostring(source), tostring(capture), tostring(sidecar), cumma.prefs.host,
    tostring(cumma.prefs.port), cumma.prefs.token }, "\0")
  -- A redissection of the same capture with the same settings reuses what is loaded, unless the
  -- sidecar changed size (the agent rewrote it) or a reload was asked for.
  -- (tshark calls init twice before reading; a failure is kept there too, while the GUI retries.)
  -- A sidecar rewritten to the same size (a confidence or a label of the same length changed)
  -- is told apart by its content, read again only when the size matches.
  if not force and key == state.key
    and (state.source_kind ~= "sidecar" or (size == state.sidecar_size
      and read_regular_file(sidecar, MAX_SIDECAR_BYTES, sidecar_kind) == state.sidecar_content))
    and (state.index or (state.failure and not in_gui())) then
    return
  end
  close_agent()
  reset_said()
  backoff_reset(retry)
  state.key, state.capture, state.sidecar_size, state.sidecar_content = key, capture, nil, nil
  state.sidecar_want, state.sidecar_seen_size, state.sidecar_checked = sidecar, size, nil
  local reasons = {}

  local function try_sidecar()
    if not sidecar then
      reasons[#reasons + 1] = "the capture file is unknown (set Preferences ▸ Protocols ▸ Cumma ▸ Sidecar path)"
      return false
    end
    local ok, why = take_sidecar(sidecar, sidecar_kind or false, size)
    if not ok then reasons[#reasons + 1] = why end
    return ok
  end

  local function use_agent(agent)
    take_agent(agent, capture)
    return true
  end

  local function connect_agent()
    local agent, why = fetch_from_agent(capture)
    if not agent then reasons[#reasons + 1] = why end
    return agent
  end

  local ok
  if source == SOURCE_SIDECAR then
    ok = try_sidecar()
  elseif source == SOURCE_AGENT then
    local agent = connect_agent()
    ok = agent ~= nil and use_agent(agent)
  elseif in_gui() then
    -- The agent's labels of this very file follow it as it grows: they come first. Otherwise the
    -- sidecar beside the file, written for it, beats the agent's match against all its captures,
    -- which fits only a copy of one of them. An agent with nothing yet (a capture just started)
    -- or only that match is kept when there is no sidecar either.
    local agent = connect_agent()
    if agent and agent.watched and #agent.order > 0 then
      ok = use_agent(agent)
    else
      ok = try_sidecar()
      if agent then
        if ok then agent.ws:close() else ok = use_agent(agent) end
      end
    end
  else
    -- tshark: a sidecar needs no network round trip and is what `cumma classify --sidecar` wrote.
    ok = sidecar and sidecar_kind and try_sidecar()
    if not ok then
      local agent = connect_agent()
      ok = agent ~= nil and use_agent(agent)
    end
    if not ok and sidecar and not sidecar_kind then table.insert(reasons, 1, "no sidecar " .. sidecar) end
    if not ok and not sidecar then
      table.insert(reasons, 1, from_stdin
        and "tshark reads standard input, which has no sidecar beside it (name one with -o cumma.sidecar:PATH)"
        or "the capture file is unknown (set Preferences ▸ Protocols ▸ Cumma ▸ Sidecar path, or -o cumma.sidecar:PATH)")
    end
  end
  if not ok then set_failure(reasons) end
end

-- Loads (or reuses) the labels for the open capture; never raises.
local function ensure_loaded(force)
  state.pending = false
  local ok, err = pcall(load_labels, force)
  tune_gc(ok and state.index ~= nil)
  if not ok then
    -- Never a Lua error in the user's face: say what happened and show no labels.
    state.active, state.index, state.source_text = true, nil, nil
    state.failure = "no labels: internal error: " .. tostring(err)
    state.failure_title = "Cumma: " .. state.failure
    say(state.failure)
  end
end

-- A new dissection pass (a file opened or reloaded, preferences changed). Labels are loaded when
-- the first packet with a protocol tree comes: a run that builds no tree (plain `tshark -r FILE`)
-- would show nothing of them and need not pay for reading them.
function cumma.init()
  check_source_option()
  if two_pass == nil then two_pass = cmdline_two_pass() end
  pair_offset = {}
  cached_refs = nil
  notes_always = cumma.prefs.notes_always and true or false
  state.pending = true
end

function cumma.prefs_changed()
  state.key = nil
end

----------------------------------------------------------------------------------------------------
-- The per-packet path.

-- Which of cumma's fields a tree that is not shown needs (a display filter, a colouring rule, a
-- column, `-e`): Wireshark would drop the others anyway, and each add costs a Lua object. Asking
-- costs a call into Wireshark per field, so tshark asks once per pass: there the answer cannot
-- change during a pass (filters, `-e` fields, columns and statistics are set up before its first
-- packet, and a shown tree, which needs them all, is checked per packet). tshark -2 asks its first
-- pass for the -R and -Y filters' fields only, its second for the columns' and statistics' too,
-- and starts the second without calling init: the first packet whose pinfo.visited is true (seen
-- in the first pass) begins it. The GUI can apply another filter at any moment without a new pass,
-- so there they are asked per packet.
local has_referenced = false -- TreeItem:referenced exists (Wireshark 3.6 and later)
local FIELD_NAMES = { "usage", "group", "confidence", "session", "dialog", "status", "outlier", "model", "scores", "source" }
local ALL_FIELDS = {}
for _, name in ipairs(FIELD_NAMES) do ALL_FIELDS[name] = true end

local function referenced_fields(tree, pinfo)
  if not has_referenced then return ALL_FIELDS end
  local refs = cached_refs
  if refs and (two_pass == false or get_pinfo_visited(pinfo) == cached_refs_visited) then return refs end
  refs = {}
  for i = 1, #FIELD_NAMES do
    local name = FIELD_NAMES[i]
    refs[name] = tree_referenced(tree, f[name])
  end
  if not in_gui() then
    cached_refs = refs
    if two_pass ~= false then cached_refs_visited = get_pinfo_visited(pinfo) end
  end
  return refs
end

-- Adds the fields of a record that `refs` (a table of field name → wanted) asks for.
local function add_fields(sub, rec, refs)
  if refs.usage then tree_add(sub, f.usage, rec.usage) end
  if refs.group then tree_add(sub, f.group, rec.group) end
  if refs.confidence then tree_add(sub, f.confidence, rec.confidence) end
  if refs.session then tree_add(sub, f.session, rec.session) end
  if refs.dialog then tree_add(sub, f.dialog, rec.dialog) end
  if refs.status then tree_add(sub, f.status, rec.status) end
  if rec.has_outlier and refs.outlier then tree_add(sub, f.outlier, rec.outlier) end
  if rec.model and refs.model then tree_add(sub, f.model, rec.model) end
  if rec.top_scores and refs.scores then tree_add(sub, f.scores, rec.top_scores) end
  if refs.source then tree_add(sub, f.source, state.source_text) end
end

-- Labels that do not fit the capture label some packets wrongly and leave others bare, silently:
-- a sidecar written before the capture grew or was edited, or for another capture of the same
-- name; the agent's labels of another file (a file it does not watch matched against all its
-- captures, or one it read before it changed). In labels that fit, every TCP/UDP packet is in a
-- dialog (the exceptions: later IP fragments, tunnelled packets, an out-of-order timestamp), so
-- packets of no dialog are counted and a clear excess reported once: packets of flows the labels
-- have but at no dialog's time (sidecar only: the agent's labels of a growing file lag behind
-- it), or, with nothing matched at all, packets of flows they do not have.
local STALE_MIN_MISSES, STALE_MISS_SHARE, FOREIGN_MIN_PACKETS = 20, 0.01, 200

-- Whether `list` (the dialogs of one port pair) has a dialog of the packet's own addresses.
local function has_flow(list, pinfo)
  local src, dst = pinfo.src, pinfo.dst
  for i = 1, list.n do
    local base = i * ENTRY - ENTRY
    if list[base + 4] == src and list[base + 5] == dst then return true end
  end
  return false
end

local function note_miss(time_miss, tree)
  -- The agent's labels are only checked for the foreign case, which a single hit rules out; and
  -- with no dialogs at all (it has read nothing of the capture yet) there is nothing to misfit.
  if state.source_kind ~= "sidecar" and (state.misfit_said or state.hits > 0 or state.index.count == 0) then return end
  if time_miss then state.time_misses = state.time_misses + 1 else state.pair_misses = state.pair_misses + 1 end
  local about = state.about
  if not state.misfit_said then
    if state.source_kind == "sidecar" and state.time_misses >= STALE_MIN_MISSES and state.time_misses >= STALE_MISS_SHARE * state.hits then
      state.misfit_said = true
      say(about.source .. ": " .. state.time_misses .. " packets of its flows fall outside all of its dialogs (" ..
        state.hits .. " labelled so far): it may be older than the capture, or belong to another one; " ..
        "run cumma classify CAPTURE --sidecar again")
    elseif state.hits == 0 and state.time_misses + state.pair_misses >= FOREIGN_MIN_PACKETS then
      state.misfit_said = true
      say(about.source .. ": none of the first " .. FOREIGN_MIN_PACKETS .. " TCP/UDP packets is in one of its dialogs: " ..
        about.advice)
    end
  end
  if time_miss and state.source_kind == "sidecar" and get_visible(tree) then
    -- Text items, not the cumma protocol or its fields: tshark filters the very tree it prints
    -- (-V, -T fields), where a cumma item would make `cumma` match this unlabelled packet.
    tree_add(tree_add(tree, "Cumma: no label (its flow has dialogs in the sidecar, none at this time)"),
      "sidecar " .. state.sidecar_path .. ": a sidecar older than the capture, or an out-of-order timestamp, leaves packets like this one bare")
  end
end

-- A frame cut short (see udp_key_at) is searched for an IP header this far in when earlier
-- packets did not show where it sits (link-layer headers are far shorter), and read this far.
local CUT_SCAN_BYTES, CUT_READ_BYTES = 128, 512

local function port_pair_of_key(key)
  local n = #key
  local a, b, c, d = key:byte(n - 3, n)
  return (a * 256 + b) * 65536 + c * 256 + d
end

-- Whether the addresses of a key (udp_key_at) are the packet's, as Wireshark has them.
local function key_is_packets(key, pinfo)
  local size = #key == 12 and 4 or 16
  local texts = {}
  for k = 0, 1 do
    local bytes = key:sub(k * size + 1, k * size + size)
    if size == 4 then
      texts[k + 1] = string.format("%d.%d.%d.%d", bytes:byte(1, 4))
    else
      local groups = {}
      for g = 1, 15, 2 do groups[#groups + 1] = string.format("%x", bytes:byte(g) * 256 + bytes:byte(g + 1)) end
      texts[k + 1] = table.concat(groups, ":")
    end
  end
  local src, dst = address_of(texts[1]), address_of(texts[2])
  return src ~= nil and dst ~= nil and src == pinfo.src and dst == pinfo.dst
end

-- For a frame cut short that Wireshark left without ports: the dialogs of its UDP port pair
-- (false when there are none) and its key (udp_key_at); nil when it carries no UDP header that
-- can be read. A frame of the same link layer as earlier packets has its IP header where they had
-- theirs (pair_offset); otherwise a header is looked for at each byte, and one so found counts
-- only with the packet's own addresses (not, say, the UDP header an ICMP error quotes); where it
-- was found is then learnt, for the next packets (and fast_key).
local function cut_udp_list(tvb, pinfo)
  local caplen = get_caplen(pinfo)
  local raw = tvb_raw(tvb, 0, caplen < CUT_READ_BYTES and caplen or CUT_READ_BYTES)
  local by_ports = state.index[PT_UDP]
  local tried
  for size = 8, 32, 24 do
    local offset = pair_offset[size]
    if offset then
      local start = offset + 1 - (size == 8 and 12 or 8)
      if start >= 1 and start ~= tried then
        tried = start
        local key = udp_key_at(raw, start)
        if key then return by_ports[port_pair_of_key(key)] or false, key end
      end
    end
  end
  local i = 1
  while true do
    i = raw:find("[\69-\79\96-\111]", i) -- an IPv4 or IPv6 header's first byte
    if not i or i > CUT_SCAN_BYTES then return nil end
    local key = udp_key_at(raw, i)
    if key and key_is_packets(key, pinfo) then
      local size = #key - 4
      if not pair_offset[size] then pair_offset[size] = i - 1 + (size == 8 and 12 or 8) end
      return by_ports[port_pair_of_key(key)] or false, key
    end
    i = i + 1
  end
end

local cumma_handle -- set once registered

-- Every call into Wireshark (a pinfo or tree attribute, a method) costs about as much as the rest
-- of this function, so each is made only when the answer can change what happens.
function cumma.dissector(tvb, pinfo, tree)
  if not getters_resolved then resolve_getters(pinfo, tree) end
  if state.pending then
    if get_text(tree) == nil and not notes_always then return end -- no tree: nothing to show yet
    ensure_loaded(false)
  end
  if not state.active then return end
  -- Is anything of cumma wanted in this tree (shown, filtered on, a column)? Not when there is
  -- no tree at all (tshark without -V, -T fields or -Y).
  local wanted
  if has_referenced then
    wanted = tree_referenced(tree, cumma_handle)
  else
    wanted = get_text(tree) ~= nil -- Wireshark before TreeItem:referenced: any tree
  end
  -- Expert notes (unknown, provisional) are wanted whenever a tree is built, and in passes
  -- without one when the preference says so (Expert Information builds none); whether there is
  -- a tree is asked only for a packet whose port pair has notes.
  if not wanted and not state.notes then return end
  local index = state.index
  if not index then
    -- Only in a tree a person reads (packet details, -V, -O), and as a text item, which no filter,
    -- column or `-e` field sees: tshark filters the very tree it prints (-V, -T fields, -T json),
    -- so the cumma protocol or a cumma field here would make `cumma` match packets with no label
    -- there and nowhere else.
    if wanted and get_visible(tree) then tree_add(tree, state.failure_title) end
    return
  end
  local port_type = get_port_type(pinfo)
  local by_ports = index[port_type]
  local list, cut_key
  if by_ports then
    list = by_ports[get_src_port(pinfo) * 65536 + get_dst_port(pinfo)]
  elseif port_type == 0 and get_caplen(pinfo) < get_len(pinfo) then
    -- No ports, and the frame was cut short: maybe a UDP header that lost its end (udp_key_at).
    list, cut_key = cut_udp_list(tvb, pinfo)
    if list == nil then return end
  else
    return
  end
  if not list then
    if wanted then note_miss(false, tree) end
    return
  end
  if not wanted and not (list.notes and (notes_always or get_text(tree) ~= nil)) then return end
  local rec = index_lookup(list, get_abs_ts(pinfo) * 1e6, tvb, pinfo, cut_key)
  if not rec then
    -- Its flow's, or only its port pair's (another flow, an ICMP error quoting the flow)?
    if wanted then note_miss(has_flow(list, pinfo), tree) end
    return
  end
  state.hits = state.hits + 1
  local item = tree
  if wanted then
    item = tree_add(tree, cumma, rec.title)
    add_fields(item, rec, get_visible(tree) and ALL_FIELDS or referenced_fields(tree, pinfo))
  end
  if rec.note then tree_add_expert(item, rec.note) end
  if rec.note2 then tree_add_expert(item, rec.note2) end
end

register_postdissector(cumma)
do
  local ok, handle = pcall(Dissector.get, "cumma")
  if ok and handle then
    cumma_handle = handle
    local class = rawget(_G, "TreeItem")
    has_referenced = type(class) == "table" and type(class.referenced) == "function"
  end
end

if set_plugin_info then
  set_plugin_info({
    version = PLUGIN_VERSION,
    description = "Cumma: service usage of encrypted messaging traffic (cumma.usage, cumma.group, ...)",
    repository = "lua-dissector/cumma.lua",
  })
end

----------------------------------------------------------------------------------------------------
-- GUI: Tools ▸ Cumma ▸ Dialog summary / Reload labels, and live label updates.

local function time_text(us)
  local seconds = floor(us / 1e6)
  return os.date("!%Y-%m-%d %H:%M:%S", seconds) .. string.format(".%06d", us - seconds * 1e6)
end

local function dialog_summary_text()
  local lines = {}
  local function add(line) lines[#lines + 1] = line end
  if not state.active then
    add("Cumma labels are off (Preferences ▸ Protocols ▸ Cumma ▸ Label source).")
    return table.concat(lines, "\n")
  end
  if not state.index then
    add("Cumma: " .. tostring(state.failure))
    return table.concat(lines, "\n")
  end
  local records = state.index.records
  add("Cumma labels " .. state.source_text)
  if state.capture then add("Capture: " .. state.capture) end
  add(string.format("%d dialog(s)", #records))
  add("")
  local counts, groups, order = {}, {}, {}
  for _, rec in ipairs(records) do
    if not counts[rec.usage] then counts[rec.usage] = 0; order[#order + 1] = rec.usage end
    counts[rec.usage] = counts[rec.usage] + 1
    groups[rec.group] = (groups[rec.group] or 0) + 1
  end
  table.sort(order, function(a, b)
    if counts[a] ~= counts[b] then return counts[a] > counts[b] end
    return a < b
  end)
  add(string.format("%-12s %-10s %8s %7s", "usage", "group", "dialogs", "share"))
  for _, usage in ipairs(order) do
    add(string.format("%-12s %-10s %8d %6.1f%%", usage, group_of(usage), counts[usage], 100 * counts[usage] / #records))
  end
  add("")
  local sorted = {}
  for i, rec in ipairs(records) do sorted[i] = rec end
  table.sort(sorted, function(a, b)
    if a.start_us ~= b.start_us then return a.start_us < b.start_us end
    return a.port_a < b.port_a
  end)
  add(string.format("%-26s %-4s %-46s %5s %5s %9s %-11s %5s %s", "start (UTC)", "l4", "client -> server",
    "sess", "dlg", "dur s", "usage", "conf", "status"))
  local limit = 5000
  for i, rec in ipairs(sorted) do
    if i > limit then add(string.format("… and %d more", #sorted - limit)); break end
    add(string.format("%-26s %-4s %-46s %5s %5s %9.3f %-11s %5s %s", time_text(rec.start_us), rec.l4,
      rec.ip_a .. ":" .. rec.port_a .. " -> " .. rec.ip_b .. ":" .. rec.port_b, int_text(rec.session),
      int_text(rec.dialog), (rec.end_us - rec.start_us) / 1e6, rec.usage, percent(rec.confidence), rec.status))
  end
  return table.concat(lines, "\n")
end

local function reload_labels()
  ensure_loaded(true)
  if type(redissect_packets) == "function" then pcall(redissect_packets) end
end

if in_gui() and type(register_menu) == "function" then
  local group = rawget(_G, "MENU_TOOLS_UNSORTED")
  register_menu("Cumma/Dialog summary", function()
    if state.pending then ensure_loaded(false) end
    local ok, text = pcall(dialog_summary_text)
    local window = TextWindow.new("Cumma: dialog summary")
    window:set(ok and text or ("error: " .. tostring(text)))
  end, group)
  register_menu("Cumma/Reload labels", reload_labels, group)

  -- Labels the agent sends later (a live capture, a file still being analysed), a sidecar the
  -- agent rewrote, an agent that can be reached again: a tap's draw callback runs on the GUI's
  -- timer (every 3 s while packets arrive, once after a pass), outside dissection, so it may
  -- poll, connect and redissect.
  local ok, listener = pcall(Listener.new, "frame", nil, false)
  if ok and listener then
    -- Returning nothing asks for a redraw, so draw() runs on the next timer tick.
    function listener.packet() end
    function listener.draw()
      local now = os.time()
      -- New dialogs on the open connection; a sidecar that changed (recheck_sidecar); the agent
      -- again when no connection is open (retry_agent). Each under pcall: never a Lua error.
      for _, step in ipairs({ poll_agent, recheck_sidecar, retry_agent }) do
        local ok, changed = pcall(step, now)
        if not ok then
          say("internal error: " .. tostring(changed))
        elseif changed then
          state.redissect_due = true
        end
      end
      -- Redissecting a large capture is slow, so at most once every 5 s; a change that comes
      -- sooner waits for the next allowed tick instead of being dropped.
      if state.redissect_due and type(redissect_packets) == "function" then
        if now - state.last_redissect >= 5 or now < state.last_redissect then
          state.last_redissect, state.redissect_due = now, false
          pcall(redissect_packets)
        end
      end
    end
  end
end

----------------------------------------------------------------------------------------------------
-- Tests load this file outside Wireshark, with stand-ins for its API, and reach the pure-Lua
-- parts through this table (tests/lua/lua-units.test.ts). Wireshark never defines it.

local exports = rawget(_G, "CUMMA_TEST_EXPORTS")
if type(exports) == "table" then
  exports.json_decode, exports.json_null, exports.json_string = json_decode, json_null, json_string
  exports.base64, exports.sha1, exports.ip_bytes = base64, sha1, ip_bytes
  exports.WebSocket = WebSocket
  exports.new_index, exports.index_add, exports.index_finish = new_index, index_add, index_finish
  exports.index_lookup, exports.load_sidecar, exports.record_from_live = index_lookup, load_sidecar, record_from_live
  exports.finish_record, exports.group_of, exports.capture_from_cmdline = finish_record, group_of, capture_from_cmdline
  exports.sidecar_record, exports.path_kind = sidecar_record, path_kind
  exports.watched_capture, exports.real_path, exports.lexical_path = watched_capture, real_path, lexical_path
  exports.reset_pair_offset = function() pair_offset = {} end
  exports.walk_options, exports.udp_key_at = walk_options, udp_key_at
  -- The GUI's retries: the backoff, one tick of each check at an injected time, and the state.
  exports.new_backoff, exports.backoff_due, exports.backoff_failed, exports.backoff_reset =
    new_backoff, backoff_due, backoff_failed, backoff_reset
  exports.retry_agent, exports.recheck_sidecar, exports.retry, exports.state = retry_agent, recheck_sidecar, retry, state
  exports.ensure_loaded, exports.poll_agent = ensure_loaded, poll_agent
end
