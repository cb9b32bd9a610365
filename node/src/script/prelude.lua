-- Runs once in a new script VM, with the real global table as environment,
-- before it is locked. Its argument is the table of the raw API functions
-- written in Rust; it returns the helpers the Rust side keeps: `protect`
-- (a read-only view of a table), `run` (calls a library's code with the
-- error handler), `handler` itself and `env` (the locked globals scripts
-- see).
--
-- Redis patches its Lua to mark tables read-only; stock Lua 5.1 has no such
-- flag, so a read-only table here is an empty view whose metatable reads
-- through to the real table and refuses every write (__newindex fires for
-- every key of an empty table). setmetatable and rawset are wrapped to
-- refuse views too.

local api = ...
local G = _G
local type, error, tostring, rawget, rawset = type, error, tostring, rawget, rawset
local setmetatable, getmetatable, xpcall, pcall = setmetatable, getmetatable, xpcall, pcall
local loadstring, setfenv = loadstring, setfenv
local dbg = debug

local READONLY = 'Attempt to modify a readonly table'
local views = setmetatable({}, {__mode = 'k'})

local function refuse()
  error(READONLY, 2)
end

local function nonexistent(_, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end

-- A read-only view of t, and the view's metatable (whose __index the
-- functions VM switches while a library loads).
local function protect(t)
  local view = {}
  local mt = {__index = t, __newindex = refuse}
  -- getmetatable(view) gets a read-only view of the metatable itself.
  local mt_view = setmetatable({}, {__index = mt, __newindex = refuse, __metatable = false})
  views[mt_view] = true
  mt.__metatable = mt_view
  setmetatable(view, mt)
  views[view] = true
  return view, mt
end

G.setmetatable = function(t, mt)
  if views[t] then error(READONLY, 2) end
  return setmetatable(t, mt)
end

G.rawset = function(t, k, v)
  if views[t] then error(READONLY, 2) end
  return rawset(t, k, v)
end

-- Errors the Rust side raises arrive as userdata; `error_table` turns
-- them back into the {err=...} tables Redis raises.
local error_table = api.error_table
local function as_table(e)
  if type(e) == 'userdata' then
    local t = error_table(e)
    if t then return t end
  end
  return e
end

-- Redis 7's pcall hands scripts the text of an error table.
local function fix_pcall(ok, ...)
  if ok then return true, ... end
  local e = as_table((...))
  if type(e) == 'table' then
    local m = rawget(e, 'err')
    if type(m) == 'string' or type(m) == 'number' then e = m end
  end
  return false, e
end
G.pcall = function(f, ...)
  return fix_pcall(pcall(f, ...))
end

-- The message handler: the error as a table {err=, source=, line=}, the
-- position being the first frame that is neither C nor this file's.
local function handler(err)
  local level = 2
  local i = dbg.getinfo(level, 'nSl')
  while i and (i.what == 'C' or i.source == '=[redis]') do
    level = level + 1
    i = dbg.getinfo(level, 'nSl')
  end
  err = as_table(err)
  if type(err) ~= 'table' then
    err = {err = 'ERR ' .. tostring(err)}
  end
  if i then
    err.source = i.source
    err.line = i.currentline
  end
  return err
end

-- Calls f under the handler, as xpcall: a library's code as it loads.
-- Scripts are called from Rust (see call_script in mod.rs), under the
-- same handler.
local function run(f)
  return xpcall(f, handler)
end

local redis = {
  call = api.call,
  pcall = api.pcall,
  setresp = api.setresp,
  set_repl = api.set_repl,
  log = api.log,
  sha1hex = api.sha1hex,
  error_reply = api.error_reply,
  status_reply = api.status_reply,
  replicate_commands = function() return true end,
  breakpoint = api.breakpoint,
  debug = api.debug,
  acl_check_cmd = api.acl_check_cmd,
  REPL_NONE = 0, REPL_AOF = 1, REPL_SLAVE = 2, REPL_REPLICA = 2, REPL_ALL = 3,
  LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
  REDIS_VERSION = api.version, REDIS_VERSION_NUM = api.version_num,
}
for k, v in pairs(api.extra or {}) do redis[k] = v end

G.redis = redis
G.print, G.dofile, G.loadfile, G.debug = nil, nil, nil, nil

local env
-- Code compiled by a script runs in the scripts' environment; binary
-- chunks are refused (they can crash the VM).
G.loadstring = function(s, name)
  if type(s) == 'string' and s:byte(1) == 27 then
    return nil, 'binary chunks are not allowed'
  end
  local f, e = loadstring(s, name)
  if f then setfenv(f, env) end
  return f, e
end

-- Lock every library table reachable from the globals, then the globals.
for _, name in ipairs({'redis', 'string', 'math', 'table', 'coroutine', 'cjson', 'cmsgpack', 'bit', 'struct'}) do
  local lib = rawget(G, name)
  if type(lib) == 'table' then rawset(G, name, protect(lib)) end
end
local env_mt
env, env_mt = protect(G)
rawset(G, '_G', env)
setmetatable(G, {__index = nonexistent, __newindex = refuse})

-- The functions VM: while a library's code runs at FUNCTION LOAD, its
-- globals are only `redis` with register_function, log and the version.
local set_loading
if api.register_function then
  local load_redis = setmetatable({
    register_function = api.register_function,
    log = api.log,
    LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
    REDIS_VERSION = api.version, REDIS_VERSION_NUM = api.version_num,
  }, {__index = nonexistent})
  local load_api = setmetatable({redis = protect(load_redis)}, {__index = nonexistent})
  set_loading = function(on)
    env_mt.__index = on and load_api or G
  end
end

return {protect = protect, run = run, handler = handler, env = env, set_loading = set_loading}
