-- Runs one case and renders everything it returned, or its error, as one
-- printable line, identically on Redis and under the Rust tests.
local function repr(v, depth)
  local t = type(v)
  if t == "string" then
    return '"' .. v:gsub('[%c"\\\128-\255]', function(c) return string.format("\\%03d", c:byte()) end) .. '"'
  elseif t == "number" then
    return string.format("%.17g", v)
  elseif t == "table" then
    if depth > 24 then return "{...}" end
    local items = {}
    for k, x in pairs(v) do
      items[#items + 1] = "[" .. repr(k, depth + 1) .. "]=" .. repr(x, depth + 1)
    end
    table.sort(items)
    return "{" .. table.concat(items, ",") .. "}"
  elseif t == "userdata" then
    if v == cjson.null then return "null" end
    return "userdata"
  else
    return tostring(v)
  end
end
local function show(ok, ...)
  local out = {}
  for i = 1, select("#", ...) do
    out[i] = repr((select(i, ...)), 0)
  end
  return (ok and "ok: " or "err: ") .. table.concat(out, ", ")
end
return show(pcall(function() return CASE end))
