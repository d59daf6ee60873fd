"""The bundled datasets are what their generator writes, and their images decode to the scans."""

from __future__ import annotations

import json

import numpy as np
from sklearn.datasets import load_digits

from smx_validator.local import bundled_datasets
from smx_validator.local.trainers import png

from .conftest import DATASETS


def test_the_committed_datasets_are_regenerated_byte_for_byte(tmp_path):
    written = bundled_datasets.write_all(tmp_path)
    assert len(written) > 5
    for path in written:
        assert path.read_bytes() == (DATASETS / path.relative_to(tmp_path)).read_bytes(), path.name


def test_each_digit_image_is_its_scan_enlarged(tmp_path):
    digits = load_digits()
    first = json.loads((DATASETS / "digits" / "manifest.jsonl").read_text().splitlines()[0])
    position = int(first["source-ref"].rsplit("-", 1)[1].split(".")[0])
    pixels = png.decode((DATASETS / "digits" / "images" / first["source-ref"].rsplit("/", 1)[1]).read_bytes())
    assert pixels.shape == (32, 32, 1) and first["class"] == digits.target[position]
    assert np.allclose(pixels[::4, ::4, 0], digits.images[position] * 255 / 16, atol=0.5)
