"""doc/input.schema.md is generated from resources/schemas/input.schema.json and must not drift."""

from __future__ import annotations

import json
from pathlib import Path

from smx_validator import schema_doc

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA = REPO_ROOT / "resources/schemas/input.schema.json"
DOC = REPO_ROOT / "doc/input.schema.md"


def test_input_reference_is_in_sync_with_the_schema():
    diff = schema_doc.stale_diff(SCHEMA, DOC)
    assert not diff, (
        "doc/input.schema.md is out of date with the input schema; regenerate it with "
        "`python -m smx_validator.schema_doc` (from the repository root):\n" + diff[:4000]
    )


def test_check_option_fails_on_a_stale_document(tmp_path, capsys):
    stale = tmp_path / "input.schema.md"
    stale.write_text(DOC.read_text(encoding="utf-8").replace("n_splits", "k", 1), encoding="utf-8")
    assert schema_doc.main(["--check", "--schema", str(SCHEMA), "--output", str(stale)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert schema_doc.main(["--schema", str(SCHEMA), "--output", str(stale)]) == 0
    assert schema_doc.main(["--check", "--schema", str(SCHEMA), "--output", str(stale)]) == 0


def test_every_field_of_the_schema_is_documented():
    # A field the renderer skipped (an unknown keyword, a new nesting) would vanish silently.
    text = DOC.read_text(encoding="utf-8")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    missing = []

    def walk(node: dict, path: str) -> None:
        for name, field in node.get("properties", {}).items():
            if f"| `{name}` |" not in text:
                missing.append(f"{path}{name}")
            walk(field, f"{path}{name}.")
            if isinstance(field.get("items"), dict):
                walk(field["items"], f"{path}{name}[].")

    walk(schema, "")
    assert not missing, f"fields of the schema missing from doc/input.schema.md: {missing}"
