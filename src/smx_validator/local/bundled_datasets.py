"""Writes the bundled example datasets (resources/datasets/) from data available offline.

    python -m smx_validator.local.bundled_datasets resources/datasets

- ``breast_cancer.csv``: scikit-learn's Wisconsin breast cancer data, label first (0 malignant,
  1 benign), no header: linear-learner, xgboost and the custom-script example.
- ``iris.csv``: scikit-learn's iris data, label first (0..2), no header: knn.
- ``digits/``: 200 of scikit-learn's 8x8 handwritten digits (20 per class) as 32x32 greyscale
  PNGs, and ``manifest.jsonl``, an augmented manifest (``source-ref``, ``class``) whose
  references point at ``s3://smx-demo-input/digits/images/``: image-classification.
- ``scipy_docs.txt`` / ``scipy_docs.jsonl``: the opening paragraphs of SciPy's public API
  docstrings, labelled with their subpackage (``__label__stats ...`` text for BlazingText's
  File mode; ``{"source", "label"}`` JSON Lines with a numeric label for its augmented manifest).

The output is deterministic, so the committed files can be regenerated and compared.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from pathlib import Path

import numpy as np

from .trainers import png

DIGITS_BUCKET_PREFIX = "s3://smx-demo-input/digits/"
DIGITS_PER_CLASS = 20
# Subpackages whose docstrings become the text classes, and how many documents each keeps.
TEXT_CLASSES = ("signal", "optimize", "stats", "linalg", "interpolate", "ndimage")
DOCUMENTS_PER_CLASS = 60
WORDS_PER_DOCUMENT = 60
_SECTION = re.compile(r"^\s*(Parameters|Returns|Attributes|Methods|Notes|Examples|See Also|References|Yields)\s*$")
_TOKEN = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*|[.,;:()]")


def write_all(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    return [
        write_label_first_csv(directory / "breast_cancer.csv", "breast_cancer"),
        write_label_first_csv(directory / "iris.csv", "iris"),
        *write_digits(directory / "digits"),
        *write_scipy_docs(directory),
    ]


def write_label_first_csv(path: Path, dataset: str) -> Path:
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{dataset}")()
    rows = [",".join([str(int(label)), *(f"{value:g}" for value in features)])
            for features, label in zip(bunch.data, bunch.target)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def write_digits(directory: Path) -> list[Path]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    images_dir = directory / "images"
    images_dir.mkdir(parents=True, exist_ok=True)
    records, written = [], []
    for label in range(10):
        for position in np.flatnonzero(digits.target == label)[:DIGITS_PER_CLASS]:
            # 0..16 intensities -> 0..255, each pixel a 4x4 block (the algorithm wants real-size images).
            pixels = np.kron(digits.images[position] * 255.0 / 16.0, np.ones((4, 4))).round().astype(np.uint8)
            name = f"digit-{int(position):04d}.png"
            (images_dir / name).write_bytes(png.encode_grey(pixels))
            written.append(images_dir / name)
            records.append((int(position), {"source-ref": f"{DIGITS_BUCKET_PREFIX}images/{name}", "class": label}))
    manifest = directory / "manifest.jsonl"
    manifest.write_text("".join(json.dumps(record) + "\n" for _, record in sorted(records, key=lambda item: item[0])),
                        encoding="utf-8")
    return [manifest, *written]


def write_scipy_docs(directory: Path) -> list[Path]:
    import importlib

    documents = []
    for label_index, label in enumerate(TEXT_CLASSES):
        module = importlib.import_module(f"scipy.{label}")
        kept = 0
        for name in sorted(getattr(module, "__all__", dir(module))):
            text = _document(getattr(module, name, None), name)
            if text:
                documents.append((label_index, label, text))
                kept += 1
            if kept == DOCUMENTS_PER_CLASS:
                break
    text_file, manifest = directory / "scipy_docs.txt", directory / "scipy_docs.jsonl"
    text_file.write_text("".join(f"__label__{label} {text}\n" for _, label, text in documents), encoding="utf-8")
    manifest.write_text("".join(json.dumps({"source": text, "label": index}) + "\n" for index, _, text in documents),
                        encoding="utf-8")
    return [text_file, manifest]


def _document(obj: object, name: str) -> str | None:
    """The docstring's prose before its first numpydoc section, tokenised and lower-cased
    (BlazingText expects space-separated tokens)."""
    if name.startswith("_") or obj is None or not callable(obj):
        return None
    docstring = inspect.getdoc(obj)
    if not docstring:
        return None
    prose = []
    for line in docstring.splitlines():
        if _SECTION.match(line) or line.strip().startswith(">>>"):
            break
        prose.append(line)
    tokens = _TOKEN.findall(" ".join(prose).lower())
    if len(tokens) < 6 or name.lower() in {"warning", "error"}:
        return None
    return " ".join(tokens[:WORDS_PER_DOCUMENT])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    directory = Path(argv[0] if argv else "resources/datasets")
    for path in write_all(directory):
        if path.suffix != ".png":
            print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
