#!/usr/bin/env python3
"""mkfil.py - writes small SIGPROC filterbanks with chosen (often wrong)
headers for the input error tests.

usage: mkfil.py OUT [KEY=VALUE ...]
  header keywords (defaults: 16 channels of 0.08 MHz from 169.6 MHz down,
  8 bits, 1 ms, one IF); KEY=- leaves the keyword out
  spectra=N   data length in spectra (1024)
  extra=N     N more data bytes after the spectra (a partial spectrum)
  bytes=N     data length in bytes, overriding the two above
  nan=K       float32 NaN as the K-th 4-byte word of the data (32-bit data)
  noend=1     no HEADER_END"""
import struct
import sys

INTS = {"nchans", "nbits", "nifs", "nsamples", "data_type", "telescope_id", "machine_id"}


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    h = {"source_name": "BAD", "telescope_id": "0", "machine_id": "0", "data_type": "1",
         "fch1": "169.6", "foff": "-0.08", "nchans": "16", "nbits": "8",
         "tstart": "58000.0", "tsamp": "0.001", "nifs": "1"}
    opt = {"spectra": "1024", "extra": "0", "bytes": "", "nan": "", "noend": "0"}
    for a in argv[2:]:
        k, v = a.split("=", 1)
        (opt if k in opt else h)[k] = v

    def s(x):
        return struct.pack("<i", len(x)) + x.encode()

    out = s("HEADER_START")
    for k, v in h.items():
        if v == "-":
            continue
        if k == "source_name":
            out += s(k) + s(v)
        elif k in INTS:
            out += s(k) + struct.pack("<i", int(v))
        else:
            out += s(k) + struct.pack("<d", float(v))
    if opt["noend"] != "1":
        out += s("HEADER_END")
    n = int(opt["bytes"] or 0) or (int(h["nchans"]) * int(h["nbits"]) // 8 *
                                   int(opt["spectra"]) + int(opt["extra"]))
    data = bytearray((i * 37 + 11) % 251 for i in range(n))
    if opt["nan"]:
        k = 4 * int(opt["nan"])
        data[k:k + 4] = struct.pack("<f", float("nan"))
    open(argv[1], "wb").write(out + data)


if __name__ == "__main__":
    main(sys.argv)
