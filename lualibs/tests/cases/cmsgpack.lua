-- scripting.tcl "cmsgpack can pack double?"
(function() local encoded = cmsgpack.pack(0.1) local h = "" for i = 1, #encoded do h = h .. string.format("%02x",string.byte(encoded,i)) end return h end)()
=> ok: "cb3fb999999999999a"
-- scripting.tcl "cmsgpack can pack negative int64?"
(function() local encoded = cmsgpack.pack(-1099511627776) local h = "" for i = 1, #encoded do h = h .. string.format("%02x",string.byte(encoded,i)) end return h end)()
=> ok: "d3ffffff0000000000"
-- scripting.tcl "cmsgpack pack/unpack smoke test"
(function() local str_lt_32 = string.rep("x", 30) local str_lt_255 = string.rep("x", 250) local str_lt_65535 = string.rep("x", 65530) local str_long = string.rep("x", 100000) local array_lt_15 = {1, 2, 3, 4, 5} local array_lt_65535 = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18} local array_big = {} for i=1, 100000 do array_big[i] = i end local map_lt_15 = {a=1, b=2} local map_big = {} for i=1, 100000 do map_big[tostring(i)] = i end local some_map = { s1=str_lt_32, s2=str_lt_255, s3=str_lt_65535, s4=str_long, d1=0.1, i1=1, i2=250, i3=65530, i4=100000, i5=2^40, i6=-1, i7=-120, i8=-32000, i9=-100000, i10=-3147483648, a1=array_lt_15, a2=array_lt_65535, a3=array_big, m1=map_lt_15, m2=map_big, b1=false, b2=true, n=nil } local encoded = cmsgpack.pack(some_map) local decoded = cmsgpack.unpack(encoded) assert(table.concat(some_map) == table.concat(decoded)) local offset, decoded_one = cmsgpack.unpack_one(encoded, 0) assert(table.concat(some_map) == table.concat(decoded_one)) assert(offset == -1) local encoded_multiple = cmsgpack.pack(str_lt_32, str_lt_255, str_lt_65535, str_long) local offset, obj = cmsgpack.unpack_limit(encoded_multiple, 1, 0) assert(obj == str_lt_32) offset, obj = cmsgpack.unpack_limit(encoded_multiple, 1, offset) assert(obj == str_lt_255) offset, obj = cmsgpack.unpack_limit(encoded_multiple, 1, offset) assert(obj == str_lt_65535) offset, obj = cmsgpack.unpack_limit(encoded_multiple, 1, offset) assert(obj == str_long) assert(offset == -1) return #encoded, decoded.i10, decoded.i5, decoded.d1, decoded.m2["77"], #decoded.a3 end)()
=> ok: 1491977, -3147483648, 1099511627776, 0.10000000000000001, 77, 100000
-- scripting.tcl "cmsgpack can pack and unpack circular references?"
(function() local a = {x=nil,y=5} local b = {x=a} a['x'] = b local encoded = cmsgpack.pack(a) local h = "" for i = 1, #encoded do h = h .. string.format("%02x",string.byte(encoded,i)) end local re = cmsgpack.unpack(encoded) assert(re) assert(re.x) assert(re.x.x.y == re.y) assert(re.x.x.x.x.y == re.y) assert(re.x.x.x.x.x.x.y == re.y) assert(re.x.x.x.x.x.x.x.x.x.x.y == re.y) assert(re.x.x.x.x.x.x.x.x.x.x.x.x.x.x.y == re.y) assert(re.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x) assert(re.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x == nil) return {h, re.x.x.x.x.x.x.x.x.y == re.y, re.y == 5} end)()
=> ok: {[1]="82a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a17882a17905a17881a178c0",[2]=true,[3]=true}
-- metadata
cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, cmsgpack._DESCRIPTION
=> ok: "cmsgpack", "lua-cmsgpack 0.4.0", "Copyright (C) 2012, Salvatore Sanfilippo", "MessagePack C implementation for Lua"
-- packing, shown as bytes
(function() local hex = function(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end return hex(cmsgpack.pack(0, 1, 127, 128, 255, 256, 65535, 65536, 2^32-1, 2^32, 2^53, 2^63, -2^63, -1, -32, -33, -128, -129, -32768, -32769, -2^31, -2^31-1)) end)()
=> ok: "00017fcc80ccffcd0100cdffffce00010000ceffffffffcf0000000100000000cf0020000000000000ca5f000000d38000000000000000ffe0d0dfd080d1ff7fd18000d2ffff7fffd280000000d3ffffffff7fffffff"
(function() local hex = function(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end return hex(cmsgpack.pack(0.5, 0.1, -0.0, 1e-20, 1/0, -1/0, 1e300, 3.4028234663852886e38, 2^64, 1.5)) end)()
=> ok: "ca3f000000cb3fb999999999999a00cb3bc79ca10c924223caff800000ca7f800000cb7e37e43c8800759cca7f7fffffca5f800000ca3fc00000"
(function() local hex = function(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end return hex(cmsgpack.pack(0/0)) end)()
=> ok: "cbfff8000000000000"
(function() local hex = function(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end return hex(cmsgpack.pack("", "a", string.rep("b", 31), true, false, nil, type, {}, {{}}, cjson.null, coroutine.create(function() end))) end)()
=> ok: "a0a161bf62626262626262626262626262626262626262626262626262626262626262c3c2c0c0909190c0c0"
(function() local hex = function(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end return hex(cmsgpack.pack({1, 2, 3}, {[1]=1, [3]=3}, {[0]=1}, {[1.5]=1}, {a=1}, {[2^31]=1}, {[-1]=1})) end)()
=> ok: "93010203820101030381000181ca3fc000000181a1610181ce800000000181ff01"
(function() local hex = function(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end local t = {} for i = 1, 16 do t[i] = i end return hex(cmsgpack.pack(t)) end)()
=> ok: "dc00100102030405060708090a0b0c0d0e0f10"
(function() local hex = function(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end local t = {} for i = 1, 16 do t["k" .. i] = i end return hex(cmsgpack.pack(t)) end)()
=> ok: "de0010a36b31320ca36b313610a26b3909a26b3808a26b3101a36b31350fa26b3303a26b3202a36b31340ea36b31330da36b31300aa36b31310ba26b3606a26b3707a26b3404a26b3505"
(function() local hex = function(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end local t = setmetatable({1, 2}, {__index = function(t, k) return k * 10 end}) return hex(cmsgpack.pack(t)) end)()
=> ok: "920102"
(function() local hex = function(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end local t = {} local cur = t for i = 1, 20 do cur[1] = {} cur = cur[1] end return hex(cmsgpack.pack(t)) end)()
=> ok: "91919191919191919191919191919191c0"
(function() local hex = function(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end return hex(cmsgpack.pack({[{1}] = {2}, [true] = false})) end)()
=> ok: "8291019102c3c2"
(function() return #cmsgpack.pack(string.rep("x", 255)), #cmsgpack.pack(string.rep("x", 256)), #cmsgpack.pack(string.rep("x", 65535)), #cmsgpack.pack(string.rep("x", 65536)) end)()
=> ok: 257, 259, 65538, 65541
(function() local t = {} for i = 1, 65536 do t[i] = true end return #cmsgpack.pack(t) end)()
=> ok: 65541
cmsgpack.pack()
=> err: "user_script:31: bad argument #0 to 'pack' (MessagePack pack needs input.)"
cmsgpack.pack(unpack((function() local t = {} for i = 1, 4000 do t[i] = i end return t end)())):len()
=> ok: 11618
cmsgpack.pack(unpack((function() local t = {} for i = 1, 4001 do t[i] = i end return t end)()))
=> err: "user_script:31: bad argument #0 to 'pack' (Too many arguments for MessagePack pack.)"
-- unpacking
cmsgpack.unpack(cmsgpack.pack(1, "two", {3}, {a={b={c=4}}}, true, false, 0.25))
=> ok: 1, "two", {[1]=3}, {["a"]={["b"]={["c"]=4}}}, true, false, 0.25
cmsgpack.unpack(cmsgpack.pack(1e-20, -0.0, 2^53+1, -2^63, 1.5))
=> ok: 9.9999999999999995e-21, 0, 9007199254740992, -9.2233720368547758e+18, 1.5
cmsgpack.unpack("\207\255\255\255\255\255\255\255\255"), cmsgpack.unpack("\207\128\0\0\0\0\0\0\0"), cmsgpack.unpack("\211\255\255\255\255\255\255\255\254")
=> ok: -1, -9.2233720368547758e+18, -2
cmsgpack.unpack("\204\200\208\200\205\255\255\209\255\128\206\255\255\255\255\210\128\0\0\0")
=> ok: 200, -56, 65535, -128, 4294967295, -2147483648
cmsgpack.unpack("\202\63\192\0\0\203\63\248\0\0\0\0\0\0")
=> ok: 1.5, 1.5
cmsgpack.unpack("\217\3abc\218\0\3abc\219\0\0\0\3abc\163abc")
=> ok: "abc", "abc", "abc", "abc"
cmsgpack.unpack("\220\0\2\1\2\221\0\0\0\1\3\222\0\1\161a\1\223\0\0\0\1\161b\2\145\146\1\2")
=> ok: {[1]=1,[2]=2}, {[1]=3}, {["a"]=1}, {["b"]=2}, {[1]={[1]=1,[2]=2}}
cmsgpack.unpack("\128\144\224\255\127")
=> ok: {}, {}, -32, -1, 127
cmsgpack.unpack("\192\192\1")
=> ok: nil, nil, 1
cmsgpack.unpack("\129\192\1")
=> err: "table index is nil"
cmsgpack.unpack("\129\203\127\248\0\0\0\0\0\0\1")
=> err: "table index is NaN"
cmsgpack.unpack("\130\1\2\1\3")
=> ok: {[1]=3}
cmsgpack.unpack("")
=> ok: 
cmsgpack.unpack()
=> err: "user_script:31: bad argument #1 to 'unpack' (string expected, got no value)"
cmsgpack.unpack({})
=> err: "user_script:31: bad argument #1 to 'unpack' (string expected, got table)"
cmsgpack.unpack(12)
=> ok: 49, 50
cmsgpack.unpack("\193")
=> err: "user_script:31: Bad data format in input."
cmsgpack.unpack("\1\193")
=> err: "user_script:31: Bad data format in input."
cmsgpack.unpack("\196\1a")
=> err: "user_script:31: Bad data format in input."
cmsgpack.unpack("\212\1\1")
=> err: "user_script:31: Bad data format in input."
cmsgpack.unpack("\205\1")
=> err: "user_script:31: Missing bytes in input."
cmsgpack.unpack("\217")
=> err: "user_script:31: Missing bytes in input."
cmsgpack.unpack("\217\5abc")
=> err: "user_script:31: Missing bytes in input."
cmsgpack.unpack("\219\255\255\255\255abc")
=> err: "user_script:31: Missing bytes in input."
cmsgpack.unpack("\221\255\255\255\255\1\2")
=> err: "user_script:31: Missing bytes in input."
cmsgpack.unpack("\223\255\255\255\255\1\2")
=> err: "user_script:31: Missing bytes in input."
cmsgpack.unpack("\223\255\255\255\255")
=> err: "user_script:31: Missing bytes in input."
cmsgpack.unpack("\147\1\2")
=> err: "user_script:31: Missing bytes in input."
cmsgpack.unpack("\163ab")
=> err: "user_script:31: Missing bytes in input."
cmsgpack.unpack("\145\193")
=> err: "user_script:31: Bad data format in input."
cmsgpack.unpack(string.rep("\145", 3000) .. "\1")
=> ok: {[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={...}}}}}}}}}}}}}}}}}}}}}}}}}}
cmsgpack.unpack(string.rep("\145", 4100) .. "\1")
=> err: "user_script:31: stack overflow (in function mp_decode_to_lua_array)"
cmsgpack.unpack(string.rep("\129\1", 3000) .. "\1")
=> ok: {[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={[1]={...}}}}}}}}}}}}}}}}}}}}}}}}}}
cmsgpack.unpack(string.rep("\129\1", 4100) .. "\1")
=> err: "user_script:31: stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"
cmsgpack.unpack(string.rep("\129", 3000) .. "\1")
=> err: "user_script:31: Missing bytes in input."
cmsgpack.unpack(string.rep("\129", 9000) .. "\1")
=> err: "user_script:31: stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"
select("#", cmsgpack.unpack(string.rep("\1", 7998)))
=> ok: 7998
select("#", cmsgpack.unpack(string.rep("\1", 7999)))
=> ok: 7999
select("#", cmsgpack.unpack(string.rep("\1", 8000)))
=> err: "user_script:31: stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"
select("#", cmsgpack.unpack(string.rep("\1", 9000)))
=> err: "user_script:31: stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"
select("#", cmsgpack.unpack(string.rep("\1", 7998), 1))
=> ok: 7998
select("#", cmsgpack.unpack(string.rep("\1", 7997) .. "\145\1"))
=> err: "user_script:31: stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"
select("#", cmsgpack.unpack(string.rep("\1", 7997) .. "\144"))
=> ok: 7998
select("#", cmsgpack.unpack(string.rep("\1", 7998) .. "\144"))
=> err: "user_script:31: stack overflow (in function mp_decode_to_lua_array)"
select("#", cmsgpack.unpack(string.rep("\161a", 7999)))
=> ok: 7999
select("#", cmsgpack.unpack_limit(string.rep("\1", 7998), 8000))
=> ok: 7999
select("#", cmsgpack.unpack_limit(string.rep("\1", 7999), 8000))
=> err: "user_script:31: stack overflow (in function mp_unpack_full)"
select("#", cmsgpack.unpack_limit(string.rep("\1", 9000), 7998))
=> ok: 7999
-- unpack_one / unpack_limit
cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3))
=> ok: 1, 1
cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 1)
=> ok: 2, 2
cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 2)
=> ok: -1, 3
cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 3)
=> ok: -1
cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 4)
=> err: "user_script:31: Start offset 4 greater than input length 3."
cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), -1)
=> err: "user_script:31: Invalid request to unpack with offset of -1 and limit of 3."
cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), "1")
=> ok: 2, 2
cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), "x")
=> err: "user_script:31: bad argument #2 to 'unpack_one' (number expected, got string)"
cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 1.9)
=> ok: 2, 2
cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), nil)
=> ok: 1, 1
cmsgpack.unpack_one(nil, "x")
=> err: "user_script:31: bad argument #2 to 'unpack_one' (number expected, got string)"
cmsgpack.unpack_one("")
=> ok: -1
cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)
=> ok: 2, 1, 2
cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 2)
=> ok: -1, 3
cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0)
=> ok: 1, 2, 3
cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0, 1)
=> ok: 1
cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), -1)
=> err: "user_script:31: Invalid request to unpack with offset of 0 and limit of 3."
cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 1, -5)
=> err: "user_script:31: Invalid request to unpack with offset of -5 and limit of 3."
cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3))
=> err: "user_script:31: bad argument #2 to 'unpack_limit' (number expected, got no value)"
cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 10)
=> ok: -1, 1, 2, 3
cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 1, 3)
=> ok: -1
cmsgpack.unpack_limit("\1\2\205", 5)
=> err: "user_script:31: Missing bytes in input."
cmsgpack.unpack_limit("\1\2\205", 2)
=> ok: 2, 1, 2
cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2^40)
=> ok: -1, 1, 2, 3
cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 1, 2^40)
=> err: "user_script:31: Start offset 0 greater than input length 3."
