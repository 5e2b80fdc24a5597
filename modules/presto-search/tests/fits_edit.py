#!/usr/bin/env python3
"""fits_edit.py - damages a PSRFITS file in controlled ways for the input
error tests (no astropy needed: FITS headers are 80-character cards in
2880-byte blocks, binary table rows are fixed-width big-endian records).

usage: fits_edit.py IN OUT EDIT...
  set KEY VALUE          set a SUBINT header card (numbers as given, else a string)
  nan COLUMN ROW INDEX   write a float32 NaN into element INDEX of COLUMN in ROW (0-based)
Checksums are not updated (the reader does not verify them)."""
import struct
import sys

BLOCK, CARD = 2880, 80


def headers(d):
    """Yields (header start, header end, data start, cards) per HDU."""
    off = 0
    while off + BLOCK <= len(d):
        start, cards = off, []
        while True:
            blk = d[off:off + BLOCK]
            off += BLOCK
            cs = [blk[i:i + CARD].decode("ascii") for i in range(0, BLOCK, CARD)]
            cards += cs
            if any(c.startswith("END     ") for c in cs) or off >= len(d):
                break
        kv = {c[:8].strip(): c[10:].split("/")[0].strip().strip("'").strip() for c in cards}
        n = 0
        if kv.get("NAXIS", "0") != "0":
            n = int(kv["NAXIS1"]) * int(kv["NAXIS2"]) + int(kv.get("PCOUNT", "0"))
        yield start, off, kv
        off += (n + BLOCK - 1) // BLOCK * BLOCK


def subint(d):
    for start, end, kv in headers(d):
        if kv.get("EXTNAME") == "SUBINT":
            return start, end, kv
    sys.exit("fits_edit: no SUBINT HDU")


def set_key(d, key, value):
    start, end, _ = subint(d)
    try:
        float(value)
        val = value.rjust(20)
    except ValueError:
        val = ("'" + value.ljust(8) + "'").ljust(20)
    for o in range(start, end, CARD):
        if d[o:o + 8].decode("ascii").strip() == key:
            card = (key.ljust(8) + "= " + val).ljust(CARD)[:CARD]
            d[o:o + CARD] = card.encode("ascii")
            return
    sys.exit("fits_edit: no card " + key)


def put_nan(d, column, row, index):
    _, end, kv = subint(d)
    sizes = {"D": 8, "E": 4, "B": 1, "J": 4, "I": 2, "K": 8, "A": 1}
    off, i = 0, 1
    while "TTYPE%d" % i in kv:
        form = kv["TFORM%d" % i]
        rep = int(form[:-1] or 1)
        if kv["TTYPE%d" % i] == column:
            pos = end + row * int(kv["NAXIS1"]) + off + 4 * index
            d[pos:pos + 4] = struct.pack(">f", float("nan"))
            return
        off += rep * sizes[form[-1]]
        i += 1
    sys.exit("fits_edit: no column " + column)


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    d = bytearray(open(argv[1], "rb").read())
    a = argv[3:]
    while a:
        if a[0] == "set":
            set_key(d, a[1], a[2])
            a = a[3:]
        elif a[0] == "nan":
            put_nan(d, a[1], int(a[2]), int(a[3]))
            a = a[4:]
        else:
            sys.exit("fits_edit: unknown edit " + a[0])
    open(argv[2], "wb").write(d)


if __name__ == "__main__":
    main(sys.argv)
