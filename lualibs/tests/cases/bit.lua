-- scripting.tcl "Verify minimal bitop functionality"
bit.tobit(1) == 1, bit.band(1) == 1, bit.bxor(1,2) == 3, bit.bor(1,2,4,8,16,32,64,128) == 255
=> ok: true, true, true, true
-- scripting.tcl "Numerical sanity check from bitop"
0x7fffffff == 2147483647, 0xffffffff == -1 or 0xffffffff == 2^32-1, tostring(-1), tostring(0xffffffff)
=> ok: true, true, "-1", "4294967295"
-- functions.tcl "redis version api"
bit.band(bit.rshift(0x070015, 16), 0x000000ff), bit.band(bit.rshift(0x070015, 8), 0x000000ff), bit.band(0x070015, 0x000000ff)
=> ok: 7, 0, 21
-- LuaBitOp's own test vectors
bit.tobit(0xffffffff), bit.tobit(0xffffffff + 1), bit.tobit(2^40 + 1234), bit.tobit(-1), bit.tobit(2^31)
=> ok: -1, 0, 1234, -1, -2147483648
bit.tobit(1.5), bit.tobit(2.5), bit.tobit(-1.5), bit.tobit(-2.5), bit.tobit(0.49999), bit.tobit(1e-20), bit.tobit(-0.0)
=> ok: 2, 2, -2, -2, 0, 0, 0
bit.tobit(2^52), bit.tobit(2^53), bit.tobit(2^60 + 3), bit.tobit(-2^60), bit.tobit(1e300), bit.tobit(1/0), bit.tobit(-1/0), bit.tobit(0/0)
=> ok: 0, 0, 0, 0, -2013235812, 0, 0, 0
bit.tobit("10"), bit.tobit("0x10"), bit.tobit(" 7 "), bit.tobit("1e3")
=> ok: 10, 16, 7, 1000
bit.bnot(0), bit.bnot(-1), bit.bnot(0x12345678)
=> ok: -1, 0, -305419897
bit.band(0x12345678, 0xff), bit.band(-1, 0xffff0000), bit.band(1, 3, 7, 15), bit.bor(0x12340000, 0x5678), bit.bxor(0xf0f0f0f0, 0xffffffff)
=> ok: 120, -65536, 1, 305419896, 252645135
bit.lshift(1, 0), bit.lshift(1, 31), bit.lshift(1, 32), bit.lshift(1, 33), bit.lshift(1, -1), bit.lshift(0x87654321, 12)
=> ok: 1, -2147483648, 1, 2, -2147483648, 1412567040
bit.rshift(-1, 0), bit.rshift(-1, 1), bit.rshift(-1, 31), bit.rshift(-1, 32), bit.rshift(0x87654321, 12)
=> ok: -1, 2147483647, 1, -1, 554580
bit.arshift(-256, 4), bit.arshift(0x87654321, 12), bit.arshift(0x7fffffff, 30), bit.arshift(-1, 31)
=> ok: -16, -493996, 1, -1
bit.rol(0x12345678, 0), bit.rol(0x12345678, 12), bit.rol(0x12345678, 32), bit.ror(0x12345678, 12), bit.ror(0x12345678, 0), bit.ror(1, 1)
=> ok: 305419896, 1164411171, 305419896, 1736516421, 305419896, -2147483648
bit.bswap(0x12345678), bit.bswap(0x87654321), bit.bswap(0)
=> ok: 2018915346, 558065031, 0
bit.tohex(1), bit.tohex(-1), bit.tohex(-1, -8), bit.tohex(0x87654321, -8), bit.tohex(0x87654321, 4), bit.tohex(0x87654321, -4), bit.tohex(0x87654321, 0), bit.tohex(0x87654321, 20), bit.tohex(0x87654321, -20)
=> ok: "00000001", "ffffffff", "FFFFFFFF", "87654321", "4321", "4321", "", "87654321", "87654321"
bit.tohex(255, 2), bit.tohex(255, 1), bit.tohex(1, -2147483648), bit.tohex(1, 2147483647), bit.tohex(1.5, 2.5), bit.tohex("255", "2")
=> ok: "ff", "f", "00000001", "00000001", "02", "ff"
-- errors
bit.tobit()
=> err: "user_script:31: bad argument #1 to 'tobit' (number expected, got no value)"
bit.tobit(nil)
=> err: "user_script:31: bad argument #1 to 'tobit' (number expected, got nil)"
bit.tobit("x")
=> err: "user_script:31: bad argument #1 to 'tobit' (number expected, got string)"
bit.tobit({})
=> err: "user_script:31: bad argument #1 to 'tobit' (number expected, got table)"
bit.tobit(true)
=> err: "user_script:31: bad argument #1 to 'tobit' (number expected, got boolean)"
bit.tobit(cjson.null)
=> err: "user_script:31: bad argument #1 to 'tobit' (number expected, got userdata)"
bit.band(1, {}, 'x')
=> err: "user_script:31: bad argument #3 to 'band' (number expected, got string)"
bit.band('x', 1)
=> err: "user_script:31: bad argument #1 to 'band' (number expected, got string)"
bit.bor(1, 2, nil)
=> err: "user_script:31: bad argument #3 to 'bor' (number expected, got nil)"
bit.lshift(1)
=> err: "user_script:31: bad argument #2 to 'lshift' (number expected, got no value)"
bit.lshift(nil, 1)
=> err: "user_script:31: bad argument #1 to 'lshift' (number expected, got nil)"
bit.tohex(1, nil)
=> err: "user_script:31: bad argument #2 to 'tohex' (number expected, got nil)"
bit.tohex(1, "z")
=> err: "user_script:31: bad argument #2 to 'tohex' (number expected, got string)"
bit.rol(1, type)
=> err: "user_script:31: bad argument #2 to 'rol' (number expected, got function)"
bit.bswap(coroutine.create(function() end))
=> err: "user_script:31: bad argument #1 to 'bswap' (number expected, got thread)"
type(bit.band()), bit.band()
=> err: "user_script:31: bad argument #1 to 'band' (number expected, got no value)"
