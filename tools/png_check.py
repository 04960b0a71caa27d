#!/usr/bin/env python3
"""Checks that a PNG screenshot is not blank: python3 standard library only (zlib).

usage: png_check.py FILE.png [--min-colours N] [--min-ink FRACTION]
Prints one line of statistics; exits 0 if the picture has at least N distinct colours and
at least FRACTION of its pixels are not (near-)white, 1 otherwise, 2 if it is no PNG.
Handles 8-bit greyscale/RGB/RGBA/grey+alpha, non-interlaced (what Chromium writes).
"""
import argparse
import struct
import sys
import zlib

CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    pos, idat, header = 8, [], None
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError("no IHDR chunk")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in CHANNELS or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
    return width, height, CHANNELS[colour], zlib.decompress(b"".join(idat))


def add_bytes(a, b):
    """Bytewise (a + b) mod 256 of two equal-length byte strings, via big-integer SWAR."""
    n = len(a)
    x, y = int.from_bytes(a, "big"), int.from_bytes(b, "big")
    low = int.from_bytes(b"\x7f" * n, "big")
    high = int.from_bytes(b"\x80" * n, "big")
    return (((x & low) + (y & low)) ^ ((x ^ y) & high)).to_bytes(n, "big")


def unfilter(width, height, bpp, raw):
    """Yields each scanline's pixel bytes. None/Up (most rows of a web page) take the fast
    big-integer path; Sub, Average and Paeth are done per byte."""
    stride = width * bpp
    prev = bytes(stride)
    for row in range(height):
        start = row * (stride + 1)
        kind, cur = raw[start], raw[start + 1:start + 1 + stride]
        if kind == 0:
            line = cur
        elif kind == 2:
            line = add_bytes(cur, prev)
        else:
            out = bytearray(cur)
            for i in range(stride):
                left = out[i - bpp] if i >= bpp else 0
                up = prev[i]
                if kind == 1:
                    out[i] = (out[i] + left) & 255
                elif kind == 3:
                    out[i] = (out[i] + ((left + up) >> 1)) & 255
                elif kind == 4:
                    corner = prev[i - bpp] if i >= bpp else 0
                    p = left + up - corner
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                    pred = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
                    out[i] = (out[i] + pred) & 255
                else:
                    raise ValueError(f"bad filter type {kind} in row {row}")
            line = bytes(out)
        yield line
        prev = line


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("png")
    ap.add_argument("--min-colours", type=int, default=16)
    ap.add_argument("--min-ink", type=float, default=0.01)
    args = ap.parse_args()
    try:
        width, height, bpp, raw = read_png(args.png)
    except (OSError, ValueError, zlib.error) as e:
        print(f"png_check: {args.png}: {e}", file=sys.stderr)
        return 2
    # Per-line work stays in C (translate, slicing, zip, big-integer OR): a 1280x4000
    # screenshot is 5 M pixels, too many for a Python-level loop per pixel.
    dark = bytes(1 if v < 235 else 0 for v in range(256))
    channels = min(bpp, 3)
    colours, ink = set(), 0
    for row, line in enumerate(unfilter(width, height, bpp, raw)):
        flags = line.translate(dark)
        any_dark = 0
        for c in range(channels):
            any_dark |= int.from_bytes(flags[c::bpp], "big")
        ink += bin(any_dark).count("1")
        if row % 2 == 0:
            colours.update(zip(*(line[c::bpp] for c in range(channels))))
    fraction = ink / max(1, width * height)
    print(f"png_check: {width}x{height}, {len(colours)} distinct colours, "
          f"{100 * fraction:.2f}% non-white pixels")
    if len(colours) < args.min_colours or fraction < args.min_ink:
        print(f"png_check: looks blank (need >= {args.min_colours} colours and "
              f">= {100 * args.min_ink:.2f}% non-white)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
