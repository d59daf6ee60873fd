"""The PNG decoder the image-classification trainer uses reads every scanline filter."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from smx_validator.local.trainers import png


def _paeth(left: int, up: int, upper_left: int) -> int:
    estimate = left + up - upper_left
    distances = [abs(estimate - left), abs(estimate - up), abs(estimate - upper_left)]
    return (left, up, upper_left)[distances.index(min(distances))]


def encode_with_filter(pixels: np.ndarray, kind: int) -> bytes:
    """An RGB PNG whose every row uses filter ``kind`` (what imaging libraries pick per row)."""
    height, width, channels = pixels.shape
    rows, previous = [], [0] * (width * channels)
    for row in pixels.reshape(height, width * channels).astype(int).tolist():
        filtered = []
        for index, value in enumerate(row):
            left = row[index - channels] if index >= channels else 0
            up, upper_left = previous[index], previous[index - channels] if index >= channels else 0
            predictor = [0, left, up, (left + up) // 2, _paeth(left, up, upper_left)][kind]
            filtered.append((value - predictor) & 0xFF)
        rows.append(bytes([kind] + filtered))
        previous = row

    def chunk(name: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + name + body + struct.pack(">I", zlib.crc32(name + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b"")


@pytest.mark.parametrize("kind", [0, 1, 2, 3, 4])
def test_every_filter_type_decodes_to_the_original_pixels(kind):
    pixels = np.random.default_rng(kind).integers(0, 256, size=(5, 7, 3), dtype=np.uint8)
    assert np.array_equal(png.decode(encode_with_filter(pixels, kind)), pixels)


def test_greyscale_round_trip_and_refusals():
    pixels = np.arange(48, dtype=np.uint8).reshape(6, 8)
    assert np.array_equal(png.decode(png.encode_grey(pixels))[..., 0], pixels)
    with pytest.raises(png.PngError, match="not a PNG"):
        png.decode(b"\xff\xd8\xff\xe0 a JPEG")
