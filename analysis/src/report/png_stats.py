#!/usr/bin/python3
"""Prints `width height distinct_bytes idat_bytes` of a PNG: the image size, how many of the 256
byte values occur in its decompressed (still filtered) pixel stream, and the compressed size.

A blank or single-colour screenshot filters to a handful of byte values and compresses to almost
nothing; a rendered page with text and figures uses most byte values. Dependency-free (zlib
only): the report's browser test uses it. Exit status 1 with a one-line message for a file that
is not a PNG.
"""
import struct
import sys
import zlib


def main(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path}: not a PNG file")
    pos, idat, size = 8, b"", None
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    if size is None or not idat:
        sys.exit(f"{path}: no IHDR or IDAT chunk")
    raw = zlib.decompress(idat)
    print(size[0], size[1], len(set(raw)), len(idat))


if __name__ == "__main__":
    main(sys.argv[1])
