#!/usr/bin/python3
# gen_dp_seeds.py - writes the seed corpus of fuzz_dp_frames: the first byte
# of each file picks the decoder (see fuzz_dp_frames.c), the rest is a
# well-formed (or deliberately bad) payload. Run from the repository root:
#   /usr/bin/python3 tests/fuzz/tools/gen_dp_seeds.py tests/fuzz/corpus/fuzz_dp_frames

import struct, os, sys
d = sys.argv[1]
def w(name, b):
    open(os.path.join(d, name), 'wb').write(b)
MAGIC = 0x534C4450
w('hdr-hello', bytes([0]) + bytes([0x01,0,0,0]) + struct.pack('>I', 12))
w('hdr-data', bytes([0]) + bytes([0x13,0,0,0]) + struct.pack('>I', 65536))
tok = b'secret-token'
w('hello', bytes([1]) + struct.pack('>IHH', MAGIC, 1, len(tok)) + tok)
w('hello-v2', bytes([1]) + struct.pack('>IHH', MAGIC, 2, 0))
w('msg-refused', bytes([2 + 8*20]) + struct.pack('>I', 403) + b'bad token')
w('msg-ctrl', bytes([2 + 8*3]) + struct.pack('>I', 5) + b'no\x01such\x7ffile')
# geometry with zero blocks: checksum = xxh3_64 of empty input
XXH3_EMPTY = 0x2D06800538D394C2
w('geom-empty', bytes([3 + 8]) + struct.pack('>QQQII', 0, 123456789, XXH3_EMPTY, 4096, 0))
w('putopen-empty', bytes([4]) + struct.pack('>QQII', 0, XXH3_EMPTY, 8 << 20, 0) + b'mem/p1/stage/key/file.dat')
# one block whose hash is 42: checksum = xxh3_64 of 42 as 8 little-endian bytes
w('geom-1block', bytes([3 + 8]) + struct.pack('>QQQII', 100, 1, 0xD5A6F8C838DF27C8, 4096, 1) + struct.pack('>Q', 42))
w('get', bytes([5]) + struct.pack('>QQQQ', 0, 4096, 8192, 1) + b'mem/p1/beam/1257010784/ch109/out.fits')
w('get-dotdot', bytes([5]) + struct.pack('>QQQQ', 0, 0, 0, 0) + b'mem/../etc/passwd')
w('name', bytes([6]) + b'ssd/p3/search/obs/p00001_00024/cands.txt')
w('name-bad', bytes([7]) + b'root//x/./y')
