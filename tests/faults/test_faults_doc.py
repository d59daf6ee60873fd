"""doc/faults.md stays true to the suite: every test its table names exists, every fault test is
named there, and every row names at least one test."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "doc" / "faults.md"
TEST_REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


def _table_rows() -> list[list[str]]:
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("|") and not line.startswith("| ---") and not line.startswith("| fault |"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split(" | ")])
    return rows


def _test_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_")}


def test_the_table_has_one_row_per_fault_with_four_columns():
    rows = _table_rows()
    assert len(rows) >= 14
    assert all(len(row) == 4 for row in rows), [row[0] for row in rows if len(row) != 4]


def test_every_row_names_a_test():
    assert [row[0] for row in _table_rows() if not TEST_REFERENCE.search(row[3])] == []


def test_every_test_the_doc_names_exists():
    missing = []
    for file, name in TEST_REFERENCE.findall(DOC.read_text(encoding="utf-8")):
        path = REPO / file
        if not path.is_file() or name not in _test_functions(path):
            missing.append(f"{file}::{name}")
    assert missing == []


def test_every_fault_test_is_named_in_the_doc():
    named = set(TEST_REFERENCE.findall(DOC.read_text(encoding="utf-8")))
    unnamed = [f"{path.relative_to(REPO)}::{name}"
               for path in sorted((REPO / "tests" / "faults").glob("test_*_faults.py"))
               for name in sorted(_test_functions(path))
               if (str(path.relative_to(REPO)), name) not in named]
    assert unnamed == []


def test_the_aws_error_shapes_section_is_the_engines_table():
    # The engine's error shapes have one home (error_shapes); the doc shows that table as generated.
    from smx_validator.local import error_shapes

    text = DOC.read_text(encoding="utf-8")
    assert error_shapes.markdown() in text, (
        "doc/faults.md's error-shapes section differs from smx_validator.local.error_shapes.markdown(); "
        "replace the section between its markers with:\n" + error_shapes.markdown())
