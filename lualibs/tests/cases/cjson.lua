-- scripting.tcl "JSON numeric decoding"
table.concat(cjson.decode("[0.0, -5e3, -1, 0.3e-3, 1023.2, 0e10]"), " ")
=> ok: "0 -5000 -1 0.0003 1023.2 0"
-- scripting.tcl "JSON string decoding"
(function() local decoded = cjson.decode('{"keya": "a", "keyb": "b"}') return {decoded.keya, decoded.keyb} end)()
=> ok: {[1]="a",[2]="b"}
-- scripting.tcl "JSON smoke test"
(function() local some_map = { s1="Some string", n1=100, a1={"Some","String","Array"}, nil1=nil, b1=true, b2=false} local encoded = cjson.encode(some_map) local decoded = cjson.decode(encoded) assert(table.concat(some_map) == table.concat(decoded)) cjson.encode_keep_buffer(false) encoded = cjson.encode(some_map) decoded = cjson.decode(encoded) assert(table.concat(some_map) == table.concat(decoded)) local table1 = {one="one", [1]="one"} encoded = cjson.encode(table1) decoded = cjson.decode(encoded) assert(decoded["one"] == table1["one"]) assert(decoded["1"] == table1[1]) local array1 = {[1]="one", [2]="two"} encoded = cjson.encode(array1) decoded = cjson.decode(encoded) assert(table.concat(array1) == table.concat(decoded)) local invalid_map = {} invalid_map[false] = "false" local ok, encoded = pcall(cjson.encode, invalid_map) assert(ok == false) cjson.encode_max_depth(1) ok, encoded = pcall(cjson.encode, some_map) assert(ok == false) cjson.decode_max_depth(1) ok, decoded = pcall(cjson.decode, '{"obj": {"array": [1,2,3,4]}}') assert(ok == false) ok, encoded = pcall(cjson.encode, {num1=0/0}) assert(ok == false) cjson.encode_invalid_numbers(true) ok, encoded = pcall(cjson.encode, {num1=0/0}) assert(ok == true) cjson.decode_max_depth(1000) cjson.encode_max_depth(1000) cjson.encode_invalid_numbers(false) return "done" end)()
=> ok: "done"
-- metadata
cjson._NAME, cjson._VERSION, type(cjson.null), cjson.null == nil, type(cjson.new)
=> ok: "cjson", "2.1.0", "userdata", false, "function"
-- encoding: numbers
cjson.encode({1e-20, -0.0, 0.1, 1/3, 123456789012345, 2^53, 1e300, 12345678901234, 99999999999999.5, 1e-5, 0.0001, -1.5e-7, 2^63, -2^63, 5e-324})
=> ok: "[1e-20,-0,0.1,0.33333333333333,1.2345678901234e+14,9.007199254741e+15,1e+300,12345678901234,1e+14,1e-05,0.0001,-1.5e-07,9.2233720368548e+18,-9.2233720368548e+18,4.9406564584125e-324]"
cjson.encode(1), cjson.encode(-1), cjson.encode(3.14159265358979), cjson.encode(100), cjson.encode(1e21), cjson.encode(1e14), cjson.encode(1e15)
=> ok: "1", "-1", "3.1415926535898", "100", "1e+21", "1e+14", "1e+15"
cjson.encode(1/0)
=> err: "user_script:31: Cannot serialise number: must not be NaN or Inf"
cjson.encode(-1/0)
=> err: "user_script:31: Cannot serialise number: must not be NaN or Inf"
cjson.encode(0/0)
=> err: "user_script:31: Cannot serialise number: must not be NaN or Inf"
cjson.encode({[1/0] = 1})
=> err: "user_script:31: Cannot serialise number: must not be NaN or Inf"
-- encoding: strings and escapes
cjson.encode("a/b\"c\\d\b\f\n\r\t"), cjson.encode("\0\1\31\127\128\255"), cjson.encode(""), cjson.encode("héllo")
=> ok: "\034a\092/b\092\034c\092\092d\092b\092f\092n\092r\092t\034", "\034\092u0000\092u0001\092u001f\092u007f\128\255\034", "\034\034", "\034h\195\169llo\034"
cjson.encode(string.rep("x", 40) .. "\0" .. "y")
=> ok: "\034xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\092u0000y\034"
-- encoding: tables
cjson.encode({}), cjson.encode({{}}), cjson.encode({1, 2, 3}), cjson.encode({[1]=1, [2]=2, [4]=4}), cjson.encode({a=1}), cjson.encode({true, false, cjson.null})
=> ok: "{}", "[{}]", "[1,2,3]", "[1,2,null,4]", "{\034a\034:1}", "[true,false,null]"
cjson.encode({[1]=1, [10]=10})
=> ok: "[1,null,null,null,null,null,null,null,null,10]"
cjson.encode({[1]=1, [11]=11})
=> err: "user_script:31: Cannot serialise table: excessively sparse array"
cjson.encode({[11]=11})
=> err: "user_script:31: Cannot serialise table: excessively sparse array"
cjson.encode({[2^31]=1})
=> ok: "{\0342147483648\034:1}"
cjson.encode({[2^40]=1})
=> ok: "{\0341099511627776\034:1}"
cjson.encode({[0]=1})
=> ok: "{\0340\034:1}"
cjson.encode({[-1]=1})
=> ok: "{\034-1\034:1}"
cjson.encode({[1.5]=1})
=> ok: "{\0341.5\034:1}"
cjson.encode({1, 2, x=3})
=> ok: "{\0341\034:1,\0342\034:2,\034x\034:3}"
cjson.encode({[1e-20]="tiny"})
=> ok: "{\0341e-20\034:\034tiny\034}"
cjson.encode({n=1e-20, z=-0.0, m=-1e-300})
=> ok: "{\034m\034:-1e-300,\034z\034:-0,\034n\034:1e-20}"
cjson.encode({[true]=1})
=> err: "user_script:31: Cannot serialise boolean: table key must be a number or string"
cjson.encode({[{}]=1})
=> err: "user_script:31: Cannot serialise table: table key must be a number or string"
cjson.encode(type)
=> err: "user_script:31: Cannot serialise function: type not supported"
cjson.encode(function() end)
=> err: "user_script:31: Cannot serialise function: type not supported"
cjson.encode(coroutine.create(function() end))
=> err: "user_script:31: Cannot serialise thread: type not supported"
cjson.encode(nil), cjson.encode(true), cjson.encode(false), cjson.encode(cjson.null)
=> ok: "null", "true", "false", "null"
cjson.encode()
=> err: "user_script:31: bad argument #1 to 'encode' (expected 1 argument)"
cjson.encode(1, 2)
=> err: "user_script:31: bad argument #1 to 'encode' (expected 1 argument)"
cjson.encode(nil, nil)
=> err: "user_script:31: bad argument #1 to 'encode' (expected 1 argument)"
(function() local t = {} t[1] = t return cjson.encode(t) end)()
=> err: "user_script:31: Cannot serialise, excessive nesting (1001)"
(function() local t = {} t.a = t return cjson.encode(t) end)()
=> err: "user_script:31: Cannot serialise, excessive nesting (1001)"
(function() local t = {} for i = 1, 999 do t = {t} end return #cjson.encode(t) end)()
=> ok: 2000
(function() local t = {} for i = 1, 1000 do t = {t} end return #cjson.encode(t) end)()
=> err: "user_script:31: Cannot serialise, excessive nesting (1001)"
(function() local t = {} for i = 1, 1000 do t = {t} end return cjson.encode(t) end)()
=> err: "user_script:31: Cannot serialise, excessive nesting (1001)"
(function() local t = {} for i = 1, 1000 do t = {x=t} end return cjson.encode(t) end)()
=> err: "user_script:31: Cannot serialise, excessive nesting (1001)"
(function() local t = {} for i = 1, 20 do t["k" .. i] = i end return cjson.encode(t) end)()
=> ok: "{\034k16\034:16,\034k19\034:19,\034k11\034:11,\034k17\034:17,\034k15\034:15,\034k20\034:20,\034k10\034:10,\034k8\034:8,\034k1\034:1,\034k12\034:12,\034k3\034:3,\034k2\034:2,\034k9\034:9,\034k13\034:13,\034k18\034:18,\034k14\034:14,\034k6\034:6,\034k7\034:7,\034k4\034:4,\034k5\034:5}"
(function() local t = {} for i = 1, 30 do t[tostring(i * 7)] = {i, tostring(i)} end return cjson.encode(t) end)()
=> ok: "{\03442\034:[6,\0346\034],\03477\034:[11,\03411\034],\03484\034:[12,\03412\034],\034133\034:[19,\03419\034],\03456\034:[8,\0348\034],\03435\034:[5,\0345\034],\034210\034:[30,\03430\034],\03449\034:[7,\0347\034],\03428\034:[4,\0344\034],\034126\034:[18,\03418\034],\034203\034:[29,\03429\034],\03498\034:[14,\03414\034],\034112\034:[16,\03416\034],\034196\034:[28,\03428\034],\034140\034:[20,\03420\034],\034154\034:[22,\03422\034],\034105\034:[15,\03415\034],\034189\034:[27,\03427\034],\034182\034:[26,\03426\034],\034175\034:[25,\03425\034],\0347\034:[1,\0341\034],\034168\034:[24,\03424\034],\03414\034:[2,\0342\034],\034119\034:[17,\03417\034],\034147\034:[21,\03421\034],\034161\034:[23,\03423\034],\03470\034:[10,\03410\034],\03421\034:[3,\0343\034],\03463\034:[9,\0349\034],\03491\034:[13,\03413\034]}"
(function() local t = {b=1, a=2, c={d=4, e={5, 6}}, [3]="three", [-2.5]="neg"} return cjson.encode(t) end)()
=> ok: "{\034a\034:2,\034c\034:{\034e\034:[5,6],\034d\034:4},\034b\034:1,\034-2.5\034:\034neg\034,\0343\034:\034three\034}"
(function() local t = setmetatable({}, {__index = function() return 1 end}) t[1] = 5 return cjson.encode(t) end)()
=> ok: "[5]"
-- settings
cjson.encode_sparse_array()
=> ok: false, 2, 10
cjson.encode_sparse_array(true)
=> ok: true, 2, 10
cjson.encode({[1]=1, [11]=11}), cjson.encode({[11]=11})
=> ok: "{\0341\034:1,\03411\034:11}", "{\03411\034:11}"
cjson.encode_sparse_array(false, 0)
=> ok: false, 0, 10
cjson.encode({[1]=1, [20]=20})
=> ok: "[1,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,20]"
cjson.encode_sparse_array("off", 2, 10)
=> ok: false, 2, 10
cjson.encode_sparse_array("maybe")
=> err: "user_script:31: bad argument #1 to 'encode_sparse_array' (invalid option 'maybe')"
cjson.encode_sparse_array(false, -1)
=> err: "user_script:31: bad argument #1 to 'encode_sparse_array' (expected integer between 0 and 2147483647)"
cjson.encode_sparse_array(false, 2, -1)
=> err: "user_script:31: bad argument #1 to 'encode_sparse_array' (expected integer between 0 and 2147483647)"
cjson.encode_sparse_array(1, 2, 3, 4)
=> err: "user_script:31: bad argument #4 to 'encode_sparse_array' (found too many arguments)"
cjson.encode_sparse_array({})
=> err: "user_script:31: bad argument #1 to 'encode_sparse_array' (string expected, got table)"
cjson.encode_sparse_array(nil, "x")
=> err: "user_script:31: bad argument #2 to 'encode_sparse_array' (number expected, got string)"
cjson.encode_sparse_array(nil, "7", 10.9)
=> ok: false, 7, 10
cjson.encode_sparse_array(false, 2, 10)
=> ok: false, 2, 10
cjson.encode_number_precision()
=> ok: 14
cjson.encode_number_precision(3)
=> ok: 3
cjson.encode({3.14159, 1/3, 1234567, 0.000123456})
=> ok: "[3.14,0.333,1.23e+06,0.000123]"
cjson.encode_number_precision(1)
=> ok: 1
cjson.encode({3.14159, 25, 0.15, 2.5})
=> ok: "[3,2e+01,0.1,2]"
cjson.encode_number_precision(14)
=> ok: 14
cjson.encode_number_precision(15)
=> err: "user_script:31: bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)"
cjson.encode_number_precision(0)
=> err: "user_script:31: bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)"
cjson.encode_number_precision(2^32 + 5)
=> ok: 5
cjson.encode_number_precision(14)
=> ok: 14
cjson.encode_max_depth()
=> ok: 1000
cjson.encode_max_depth(0)
=> err: "user_script:31: bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)"
cjson.encode_max_depth(2)
=> ok: 2
cjson.encode({{1}}), cjson.encode({1})
=> ok: "[[1]]", "[1]"
cjson.encode({{{1}}})
=> err: "user_script:31: Cannot serialise, excessive nesting (3)"
cjson.encode_max_depth(10000)
=> ok: 10000
(function() local t = {} for i = 1, 5000 do t = {t} end return #cjson.encode(t) end)()
=> ok: 10002
(function() local t = {} for i = 1, 9000 do t = {t} end return cjson.encode(t) end)()
=> err: "user_script:31: Cannot serialise, excessive nesting (7998)"
(function() local t = {} for i = 1, 5000 do t = {x=t} end return cjson.encode(t) end)()
=> err: "user_script:31: Cannot serialise, excessive nesting (4000)"
cjson.encode_max_depth(1000)
=> ok: 1000
cjson.decode_max_depth()
=> ok: 1000
cjson.decode_max_depth(2)
=> ok: 2
cjson.decode("[[1]]")
=> ok: {[1]={[1]=1}}
cjson.decode("[[[1]]]")
=> err: "user_script:31: Found too many nested data structures (3) at character 3"
cjson.decode('{"a":{"b":{}}}')
=> err: "user_script:31: Found too many nested data structures (3) at character 11"
cjson.decode_max_depth(100000)
=> ok: 100000
#cjson.decode(string.rep("[", 3990) .. string.rep("]", 3990))
=> ok: 1
cjson.decode(string.rep("[", 8500) .. string.rep("]", 8500))
=> err: "user_script:31: Found too many nested data structures (7999) at character 7999"
cjson.decode(string.rep('{"a":', 5000) .. "1" .. string.rep("}", 5000))
=> err: "user_script:31: Found too many nested data structures (4000) at character 19996"
cjson.decode_max_depth(1000)
=> ok: 1000
cjson.decode(string.rep("[", 1001) .. string.rep("]", 1001))
=> err: "user_script:31: Found too many nested data structures (1001) at character 1001"
#cjson.decode(string.rep("[", 1000) .. string.rep("]", 1000))
=> ok: 1
cjson.encode_keep_buffer(), cjson.encode_keep_buffer(true), cjson.encode_keep_buffer("off"), cjson.encode_keep_buffer("on")
=> ok: false, true, false, true
cjson.encode_invalid_numbers()
=> ok: false
cjson.encode_invalid_numbers("null")
=> ok: "null"
cjson.encode({1/0, -1/0, 0/0, 1})
=> ok: "[null,null,null,1]"
cjson.encode_invalid_numbers(true)
=> ok: true
cjson.encode({1/0, -1/0, 0/0, -(0/0), 1})
=> ok: "[inf,-inf,nan,nan,1]"
cjson.encode({[1/0]=1})
=> ok: "{\034inf\034:1}"
cjson.encode_invalid_numbers("on")
=> ok: true
cjson.encode_invalid_numbers("bogus")
=> err: "user_script:31: bad argument #1 to 'encode_invalid_numbers' (invalid option 'bogus')"
cjson.encode_invalid_numbers(false)
=> ok: false
cjson.decode_invalid_numbers()
=> ok: true
cjson.decode_invalid_numbers(false)
=> ok: false
cjson.decode("0x10")
=> err: "user_script:31: Expected value but found invalid number at character 1"
cjson.decode("+1")
=> err: "user_script:31: Expected value but found invalid token at character 1"
cjson.decode("01")
=> err: "user_script:31: Expected value but found invalid number at character 1"
cjson.decode("-01")
=> err: "user_script:31: Expected value but found invalid number at character 1"
cjson.decode("inf")
=> err: "user_script:31: Expected value but found invalid token at character 1"
cjson.decode("NaN")
=> err: "user_script:31: Expected value but found invalid token at character 1"
cjson.decode("-Infinity")
=> err: "user_script:31: Expected value but found invalid number at character 1"
cjson.decode("[1, nul]")
=> err: "user_script:31: Expected value but found invalid token at character 5"
cjson.decode("1.5")
=> ok: 1.5
cjson.decode("-")
=> err: "user_script:31: Expected value but found invalid number at character 1"
cjson.decode_invalid_numbers(true)
=> ok: true
cjson.decode("0x10"), cjson.decode("0X1F"), cjson.decode("+1"), cjson.decode("01"), cjson.decode("-01"), cjson.decode("inf"), cjson.decode("-Infinity"), cjson.decode("1e400"), cjson.decode("1e-400"), cjson.decode("0x1p4"), cjson.decode("0x")
=> err: "user_script:31: Expected the end but found invalid token at character 2"
cjson.decode("NaN") ~= cjson.decode("NaN"), cjson.decode("nan(123)") ~= cjson.decode("nan(123)")
=> ok: true, true
cjson.decode("[1, nul]")
=> err: "user_script:31: Expected value but found invalid token at character 5"
cjson.decode("nan(")
=> err: "user_script:31: Expected the end but found invalid token at character 4"
cjson.decode("+")
=> err: "user_script:31: Expected value but found invalid number at character 1"
cjson.decode("-")
=> err: "user_script:31: Expected value but found invalid number at character 1"
cjson.decode("- 1")
=> err: "user_script:31: Expected value but found invalid number at character 1"
cjson.decode("Inf")
=> ok: inf
cjson.decode("iNfInItY")
=> ok: inf
cjson.decode("infinit")
=> err: "user_script:31: Expected the end but found invalid token at character 4"
-- decoding
cjson.decode('{"a":[1,2,{"b":null}],"c":"d"}')
=> ok: {["a"]={[1]=1,[2]=2,[3]={["b"]=null}},["c"]="d"}
cjson.decode('[]'), cjson.decode('{}'), cjson.decode(' [ ] '), cjson.decode('"x"'), cjson.decode('true'), cjson.decode('false'), cjson.decode('null'), cjson.decode('  12  ')
=> ok: {}, {}, {}, "x", true, false, null, 12
cjson.decode('"\\u0041\\u00e9\\u20ac\\ud83d\\ude00\\u0000x"')
=> ok: "A\195\169\226\130\172\240\159\152\128\000x"
cjson.decode('"\\/\\"\\\\\\b\\f\\n\\r\\t"')
=> ok: "/\034\092\008\012\010\013\009"
cjson.decode('"\\ud83d"')
=> err: "user_script:31: Expected value but found invalid unicode escape code at character 2"
cjson.decode('"\\ud83dx"')
=> err: "user_script:31: Expected value but found invalid unicode escape code at character 2"
cjson.decode('"\\ud83d\\u0041"')
=> err: "user_script:31: Expected value but found invalid unicode escape code at character 2"
cjson.decode('"\\ude00"')
=> err: "user_script:31: Expected value but found invalid unicode escape code at character 2"
cjson.decode('"\\u12"')
=> err: "user_script:31: Expected value but found invalid unicode escape code at character 2"
cjson.decode('"\\u12g4"')
=> err: "user_script:31: Expected value but found invalid unicode escape code at character 2"
cjson.decode('"\\x"')
=> err: "user_script:31: Expected value but found invalid escape code at character 2"
cjson.decode('"abc')
=> err: "user_script:31: Expected value but found unexpected end of string at character 5"
cjson.decode('"abc\\')
=> err: "user_script:31: Expected value but found invalid escape code at character 5"
cjson.decode('"a\0b"')
=> err: "user_script:31: Expected value but found unexpected end of string at character 3"
cjson.decode('1\0garbage')
=> err: "user_script:31: JSON parser does not support UTF-16 or UTF-32"
cjson.decode('\0\0')
=> err: "user_script:31: JSON parser does not support UTF-16 or UTF-32"
cjson.decode('a\0')
=> err: "user_script:31: JSON parser does not support UTF-16 or UTF-32"
cjson.decode('x')
=> err: "user_script:31: Expected value but found invalid token at character 1"
cjson.decode('')
=> err: "user_script:31: Expected value but found T_END at character 1"
cjson.decode('   ')
=> err: "user_script:31: Expected value but found T_END at character 4"
cjson.decode(']')
=> err: "user_script:31: Expected value but found T_ARR_END at character 1"
cjson.decode('[1,]')
=> err: "user_script:31: Expected value but found T_ARR_END at character 4"
cjson.decode('[1 2]')
=> err: "user_script:31: Expected comma or array end but found T_NUMBER at character 4"
cjson.decode('{"a" 1}')
=> err: "user_script:31: Expected colon but found T_NUMBER at character 6"
cjson.decode('{"a":1,}')
=> err: "user_script:31: Expected object key string but found T_OBJ_END at character 8"
cjson.decode('{1:2}')
=> err: "user_script:31: Expected object key string but found T_NUMBER at character 2"
cjson.decode('{"a":1 "b":2}')
=> err: "user_script:31: Expected comma or object end but found T_STRING at character 8"
cjson.decode('[1] x')
=> err: "user_script:31: Expected the end but found invalid token at character 5"
cjson.decode('[1] [2]')
=> err: "user_script:31: Expected the end but found T_ARR_BEGIN at character 5"
cjson.decode('tru')
=> err: "user_script:31: Expected value but found invalid token at character 1"
cjson.decode('nulll')
=> err: "user_script:31: Expected the end but found invalid token at character 5"
cjson.decode('[true,false,null]')
=> ok: {[1]=true,[2]=false,[3]=null}
cjson.decode('1.5e')
=> err: "user_script:31: Expected the end but found invalid token at character 4"
cjson.decode('[1.5e]')
=> err: "user_script:31: Expected comma or array end but found invalid token at character 5"
cjson.decode('\255')
=> err: "user_script:31: Expected value but found invalid token at character 1"
cjson.decode('"\255\254"')
=> ok: "\255\254"
cjson.decode(12), cjson.decode(1.5)
=> ok: 12, 1.5
cjson.decode()
=> err: "user_script:31: bad argument #1 to 'decode' (expected 1 argument)"
cjson.decode({})
=> err: "user_script:31: bad argument #1 to 'decode' (string expected, got table)"
cjson.decode(nil)
=> err: "user_script:31: bad argument #1 to 'decode' (string expected, got nil)"
cjson.decode('1', '2')
=> err: "user_script:31: bad argument #1 to 'decode' (expected 1 argument)"
cjson.decode('{"a":1,"a":2}')
=> ok: {["a"]=2}
cjson.decode('{"1":1,"2":2}')
=> ok: {["1"]=1,["2"]=2}
cjson.decode('[1,null,3]')
=> ok: {[1]=1,[2]=null,[3]=3}
cjson.decode('[-0]'), 1/cjson.decode('-0'), cjson.decode('-0.0')
=> ok: {[1]=-0}, -inf, -0
cjson.decode('123456789012345678901234567890'), cjson.decode('0.1'), cjson.decode('2.2250738585072014e-308'), cjson.decode('4.9e-324')
=> ok: 1.2345678901234568e+29, 0.10000000000000001, 2.2250738585072014e-308, 4.9406564584124654e-324
(function() local t = cjson.decode('[1,2,3]') return #t, cjson.encode(t) end)()
=> ok: 3, "[1,2,3]"
(function() local s = '{"x":[1,2.5,"s",true,false,null,{"y":{}}]}' return cjson.encode(cjson.decode(s)) end)()
=> ok: "{\034x\034:[1,2.5,\034s\034,true,false,null,{\034y\034:{}}]}"
(function() local n = cjson.new() n.encode_number_precision(2) return n.encode(1/3), cjson.encode(1/3), n._NAME end)()
=> ok: "0.33", "0.33333333333333", "cjson"
