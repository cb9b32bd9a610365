-- sizes and layout
struct.size("bBhHlLTiIfdx"), struct.size("!bd"), struct.size("!4bd"), struct.size("!2bi"), struct.size("c10"), struct.size("i3i5"), struct.size("!i3i5"), struct.size(""), struct.size("  "), struct.size("zq9"), struct.size("!8b!1d")
=> ok: 51, 16, 12, 6, 10, 8, 10, 0, 0, 0, 9
struct.size("s")
=> err: "user_script:31: bad argument #1 to 'size' (option 's' has no fixed size)"
struct.size("c0")
=> err: "user_script:31: bad argument #1 to 'size' (option 'c0' has no fixed size)"
struct.size("?")
=> err: "user_script:31: bad argument #1 to 'size' (invalid format option '?')"
struct.size("=")
=> err: "user_script:31: bad argument #1 to 'size' (invalid format option '=')"
struct.size("!3")
=> err: "user_script:31: alignment 3 is not a power of 2"
struct.size("i33")
=> err: "user_script:31: integral size 33 is larger than limit of 32"
struct.size("i99999999999")
=> err: "user_script:31: integral size overflow"
struct.size("!0")
=> err: "user_script:31: alignment 0 is not a power of 2"
struct.size()
=> err: "user_script:31: bad argument #1 to 'size' (string expected, got no value)"
struct.size(12)
=> ok: 0
-- pack, shown as bytes
(function() local hex = function(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end return hex(struct.pack("bBhHlLTiI", -1, 255, -2, 65535, -3, 2^40, 7, -4, 2^32 - 1)) end)()
=> ok: "fffffefffffffdffffffffffffff00000000000100000700000000000000fcffffffffffffff"
(function() local hex = function(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end return hex(struct.pack(">bBhHlLTiI", -1, 255, -2, 65535, -3, 2^40, 7, -4, 2^32 - 1)) end)()
=> ok: "fffffffefffffffffffffffffffd00000100000000000000000000000007fffffffcffffffff"
(function() local hex = function(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end return hex(struct.pack("<i3>i3i1i16<i16I12", -2, -2, 300, -1, -1, 2^63)) end)()
=> ok: "fefffffffffe2c0000000000000000ffffffffffffffffffffffffffffffff0000000000000000000000000000008000000000"
(function() local hex = function(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end return hex(struct.pack("<fd>fd", 1.5, 0.1, -2.25, 1e-20)) end)()
=> ok: "0000c03f9a9999999999b93fc01000003bc79ca10c924223"
(function() local hex = function(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end return hex(struct.pack("!bdbibh", 1, 2, 3, 4, 5, 6)) end)()
=> ok: "01000000000000000000000000000040030000000400000005000600"
(function() local hex = function(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end return hex(struct.pack("!4bdbxc2", 1, 2, 3, "ab")) end)()
=> ok: "01000000000000000000004003006162"
(function() local hex = function(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end return hex(struct.pack("c0sc3 s", "abc", "de", "fghij", 42)) end)()
=> ok: "616263646500666768343200"
(function() local hex = function(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end return hex(struct.pack("LLLLLL", 2^64, 2^70, 1/0, -1/0, -2^70, 0/0)) end)()
=> ok: "000000000000000000000000000000000000000000000000000000000000008000000000000000800000000000000080"
(function() local hex = function(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end return hex(struct.pack("bhi", 1.9, -1.9, 2^31 + 0.5)) end)()
=> ok: "01ffff00000080"
(function() local hex = function(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end return hex(struct.pack("i", "12"), struct.pack("i0", 5), struct.pack("x")) end)()
=> ok: "0c000000"
struct.pack("c5", "ab")
=> err: "user_script:31: bad argument #3 to 'pack' (string too short)"
struct.pack("bc3", 1, "ab")
=> err: "user_script:31: bad argument #4 to 'pack' (string too short)"
struct.pack("i")
=> err: "user_script:31: bad argument #2 to 'pack' (number expected, got nil)"
struct.pack("i", "x")
=> err: "user_script:31: bad argument #2 to 'pack' (number expected, got string)"
struct.pack("i", {})
=> err: "user_script:31: bad argument #2 to 'pack' (number expected, got table)"
struct.pack("c", nil)
=> err: "user_script:31: bad argument #2 to 'pack' (string expected, got nil)"
struct.pack("z", 1)
=> err: "user_script:31: bad argument #1 to 'pack' (invalid format option 'z')"
struct.pack("=i", 1)
=> err: "user_script:31: bad argument #1 to 'pack' (invalid format option '=')"
struct.pack("!5i", 1)
=> err: "user_script:31: alignment 5 is not a power of 2"
struct.pack("i40", 1)
=> err: "user_script:31: integral size 40 is larger than limit of 32"
struct.pack("c99999999999", "x")
=> err: "user_script:31: integral size overflow"
struct.pack()
=> err: "user_script:31: bad argument #1 to 'pack' (string expected, got no value)"
struct.pack("b\0garbage", 1, 2)
=> ok: "\001"
-- unpack
struct.unpack("bBhHlLTiI", struct.pack("bBhHlLTiI", -1, 255, -2, 65535, -3, 2^40, 7, -4, 2^32 - 1))
=> ok: -1, 255, -2, 65535, -3, 1099511627776, 7, -4, 4294967295, 39
struct.unpack(">bBhHlLTiI", struct.pack(">bBhHlLTiI", -1, 255, -2, 65535, -3, 2^40, 7, -4, 2^32 - 1))
=> ok: -1, 255, -2, 65535, -3, 1099511627776, 7, -4, 4294967295, 39
struct.unpack("<fd>fd", struct.pack("<fd>fd", 1.5, 0.1, -2.25, 1e-20))
=> ok: 1.5, 0.10000000000000001, -2.25, 9.9999999999999995e-21, 25
struct.unpack("i3I3i1i16I16i12", string.rep("\255", 51))
=> ok: -1, 16777215, -1, -1, 1.8446744073709552e+19, -1, 52
struct.unpack("i9i10I9", string.rep("\128", 28))
=> ok: -128, -32640, 9.259542123273814e+18, 29
struct.unpack("i0I0", "")
=> ok: 0, 0, 1
struct.unpack("!bdbibh", struct.pack("!bdbibh", 1, 2, 3, 4, 5, 6))
=> ok: 1, 2, 3, 4, 5, 6, 29
struct.unpack("c2c0", "ab")
=> err: "user_script:31: format 'c0' needs a previous size"
struct.unpack("bc0", "\3abcd")
=> ok: "abc", 5
struct.unpack("bc0", "\9abcd")
=> err: "user_script:31: bad argument #2 to 'unpack' (data string too short)"
struct.unpack("c0", "abc")
=> err: "user_script:31: format 'c0' needs a previous size"
struct.unpack("c1c0", "3abcd")
=> ok: "abc", 5
struct.unpack("c1c0", "xabcd")
=> err: "user_script:31: format 'c0' needs a previous size"
struct.unpack("s s", "hello\0world\0")
=> ok: "hello", "world", 13
struct.unpack("s", "hello")
=> err: "user_script:31: unfinished string in data"
struct.unpack("xxb", "\1\2\3")
=> ok: 3, 4
struct.unpack("b", "\1\2\3", 2)
=> ok: 2, 3
struct.unpack("b", "\1\2\3", 3)
=> ok: 3, 4
struct.unpack("b", "\1\2\3", 4)
=> err: "user_script:31: bad argument #2 to 'unpack' (data string too short)"
struct.unpack("b", "\1\2\3", 0)
=> err: "user_script:31: bad argument #3 to 'unpack' (offset must be 1 or greater)"
struct.unpack("b", "\1\2\3", -1)
=> err: "user_script:31: bad argument #2 to 'unpack' (data string too short)"
struct.unpack("i", "\1\2\3")
=> err: "user_script:31: bad argument #2 to 'unpack' (data string too short)"
struct.unpack("d", "")
=> err: "user_script:31: bad argument #2 to 'unpack' (data string too short)"
struct.unpack("z", "abc")
=> err: "user_script:31: bad argument #1 to 'unpack' (invalid format option 'z')"
struct.unpack("b")
=> err: "user_script:31: bad argument #2 to 'unpack' (string expected, got no value)"
struct.unpack(nil, "x")
=> err: "user_script:31: bad argument #1 to 'unpack' (string expected, got nil)"
struct.unpack("!4bi", "\1\0\0\0\2\0\0\0")
=> ok: 1, 2, 9
struct.unpack("!4bi", "\1\0\0\0\2\0\0")
=> err: "user_script:31: bad argument #2 to 'unpack' (data string too short)"
select("#", struct.unpack(string.rep("b", 7990), string.rep("\1", 7990)))
=> ok: 7991
select("#", struct.unpack(string.rep("b", 7998), string.rep("\1", 7998)))
=> err: "user_script:31: stack overflow (too many results)"
select("#", struct.unpack(string.rep("c1", 7997), string.rep("a", 7997)))
=> ok: 7998
select("#", struct.unpack(string.rep("x", 20000), string.rep("a", 20000)))
=> ok: 1
