"""PNG images without an imaging library: 8-bit, non-interlaced, grey/grey+alpha/RGB/RGBA.

The image-classification trainer decodes what the augmented manifest references; the bundled
dataset is written with ``encode_grey``. Nothing here depends on Pillow (not installed).
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # colour type -> samples per pixel


class PngError(ValueError):
    pass


def encode_grey(pixels: np.ndarray) -> bytes:
    """An 8-bit greyscale PNG of a 2-D uint8 array."""
    if pixels.ndim != 2 or pixels.dtype != np.uint8:
        raise PngError("encode_grey takes a 2-D uint8 array")
    height, width = pixels.shape
    raw = b"".join(b"\x00" + pixels[row].tobytes() for row in range(height))  # filter 0 on every row
    return (_SIGNATURE + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b""))


def decode(data: bytes) -> np.ndarray:
    """(height, width, channels) uint8 pixels of a PNG."""
    if not data.startswith(_SIGNATURE):
        raise PngError("not a PNG image (the local image-classification trainer decodes PNG only, not JPEG)")
    position, header, compressed = len(_SIGNATURE), None, []
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            compressed.append(body)
        elif kind == b"IEND":
            break
    if header is None:
        raise PngError("PNG without IHDR")
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or interlace or colour not in _CHANNELS:
        raise PngError(f"only 8-bit non-interlaced grey/RGB(A) PNGs are decoded (depth {depth}, colour {colour})")
    channels = _CHANNELS[colour]
    stride = width * channels
    raw = zlib.decompress(b"".join(compressed))
    pixels = np.zeros((height, stride), dtype=np.uint8)
    previous = np.zeros(stride, dtype=np.int32)
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], np.frombuffer(raw, dtype=np.uint8, count=stride, offset=start + 1).astype(np.int32)
        current = _unfilter(kind, line, previous, channels)
        pixels[row] = current
        previous = current
    return pixels.reshape(height, width, channels)


def _unfilter(kind: int, line: np.ndarray, previous: np.ndarray, bpp: int) -> np.ndarray:
    if kind == 0:
        return line
    if kind == 2:
        return (line + previous) & 0xFF
    current = np.zeros_like(line)
    for index in range(len(line)):
        left = current[index - bpp] if index >= bpp else 0
        up = previous[index]
        if kind == 1:
            predictor = left
        elif kind == 3:
            predictor = (left + up) // 2
        elif kind == 4:
            upper_left = previous[index - bpp] if index >= bpp else 0
            estimate = left + up - upper_left
            distances = (abs(estimate - left), abs(estimate - up), abs(estimate - upper_left))
            predictor = (left, up, upper_left)[distances.index(min(distances))]
        else:
            raise PngError(f"unknown PNG filter type {kind}")
        current[index] = (line[index] + predictor) & 0xFF
    return current


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
