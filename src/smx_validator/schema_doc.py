"""Generate doc/input.schema.md, the execution input reference, from the one JSON Schema.

    python -m smx_validator.schema_doc           # (re)write doc/input.schema.md
    python -m smx_validator.schema_doc --check   # exit 1 when it is out of date

Run it from the repository root. The schema stays the single source: every object gets a
section with a table of its fields (type, required, default, allowed values and limits,
description); ``$ref`` is followed, so shared definitions read like any other field.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from pathlib import Path
from typing import Any

from smx_validator.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE

SCHEMA_PATH = Path("resources/schemas/input.schema.json")
DOC_PATH = Path("doc/input.schema.md")


def render(schema: dict[str, Any], source: str = str(SCHEMA_PATH)) -> str:
    """The Markdown reference of ``schema`` (``source`` names it in the header)."""
    return _Renderer(schema).document(source)


def stale_diff(schema_path: Path = SCHEMA_PATH, doc_path: Path = DOC_PATH) -> str:
    """A unified diff from ``doc_path`` to what it should be; empty when it is up to date."""
    expected = render(_load(schema_path), _display(schema_path))
    current = doc_path.read_text(encoding="utf-8") if doc_path.exists() else ""
    if current == expected:
        return ""
    return "".join(
        difflib.unified_diff(
            current.splitlines(keepends=True), expected.splitlines(keepends=True), str(doc_path), "generated"
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m smx_validator.schema_doc", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 when the document is out of date")
    parser.add_argument("--schema", type=Path, default=SCHEMA_PATH, help=f"JSON Schema (default: {SCHEMA_PATH})")
    parser.add_argument("--output", type=Path, default=DOC_PATH, help=f"Markdown file (default: {DOC_PATH})")
    args = parser.parse_args(argv)

    try:
        if args.check:
            diff = stale_diff(args.schema, args.output)
            if diff:
                print(diff, file=sys.stderr)
                print(
                    f"{args.output} is out of date with {args.schema}: run python -m smx_validator.schema_doc",
                    file=sys.stderr,
                )
                return EXIT_FAILED
            return EXIT_OK
        text = render(_load(args.schema), _display(args.schema))
    except (OSError, ValueError) as error:
        print(f"schema_doc: {error}", file=sys.stderr)
        return EXIT_USAGE
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)
    return EXIT_OK


def _load(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _display(path: Path) -> str:
    # The header names the schema as the repository does, wherever the command ran from.
    path = Path(path)
    return str(SCHEMA_PATH) if path.resolve().as_posix().endswith(SCHEMA_PATH.as_posix()) else path.as_posix()


# --- rendering ----------------------------------------------------------------------------------


def _code(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _cell(text: str) -> str:
    # A table cell is one line, and `|` would end it even inside a code span.
    return " ".join(text.split()).replace("|", "\\|")


def _anchor(path: str) -> str:
    return "input-" + re.sub(r"[^a-z0-9_]+", "-", path.lower()).strip("-") if path else "input"


def _bounds(low: Any, high: Any) -> str:
    if low is not None and high is not None:
        return f"{low} to {high}"
    return f"≥ {low}" if low is not None else f"≤ {high}"


def _count(low: Any, high: Any, one: str, many: str) -> str:
    if low is not None and high is not None:
        return f"{low} to {high} {many}"
    if low is not None:
        return f"at least {low} {one if low == 1 else many}"
    return f"at most {high} {one if high == 1 else many}"


class _Renderer:
    def __init__(self, schema: dict[str, Any]):
        self.root = schema
        self.sections: list[str] = []
        self.contents: list[str] = []

    # -- schema navigation --

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        """``node`` with its ``$ref`` merged in; the referring node's own keywords win (as in 2020-12)."""
        while "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/"):
                raise ValueError(f"only local $ref are supported, not {ref!r}")
            target: Any = self.root
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return node

    @staticmethod
    def is_record(node: dict[str, Any]) -> bool:
        return "properties" in node

    # -- document --

    def document(self, source: str) -> str:
        self.section(self.root, "", "Top level", 0)
        title = self.root.get("title", "Input reference")
        head = [
            f"# {title}",
            "",
            f"<!-- Generated from {source} by `python -m smx_validator.schema_doc`: edit the schema instead. -->",
            "",
            self.root.get("description", ""),
            "",
            "## Contents",
            "",
            *self.contents,
            "",
        ]
        return "\n".join(head + self.sections).rstrip("\n") + "\n"

    def section(self, node: dict[str, Any], path: str, title: str, depth: int) -> None:
        node = self.resolve(node)
        self.contents.append(f"{'  ' * depth}- [{title}](#{_anchor(path)})")
        lines = [f'<a id="{_anchor(path)}"></a>', "", f"## {title}", ""]
        if path and node.get("description"):
            lines += [node["description"], ""]
        if node.get("additionalProperties") is False:
            lines += ["No other fields are allowed.", ""]
        lines += [
            "| Field | Type | Required | Default | Allowed values and limits | Description |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        required = set(node.get("required", []))
        children = []
        for name, field in node["properties"].items():
            field_path = f"{path}.{name}" if path else name
            lines.append(self.row(name, field, field_path, name in required, children))
        self.sections += lines + [""]
        for child, child_path, child_title in children:
            self.section(child, child_path, child_title, depth + 1)

    def row(self, name: str, field: dict[str, Any], path: str, required: bool, children: list) -> str:
        field = self.resolve(field)
        kind = self.type_of(field)
        items = self.resolve(field.get("items", {})) if isinstance(field.get("items"), dict) else {}
        if self.is_record(field):
            children.append((field, path, f"`{path}`"))
            other = [name for name in (field["type"] if isinstance(field.get("type"), list) else []) if name != "object"]
            kind = " or ".join([*other, f"object ([fields](#{_anchor(path)}))"])
        elif items and self.is_record(items):
            children.append((items, f"{path}[]", f"`{path}[]` (each item)"))
            kind = f"array of object ([fields](#{_anchor(path + '[]')}))"
        description = field.get("description", "")
        if field.get("examples"):
            description += " Example: " + ", ".join(_code(e) for e in field["examples"]) + "."
        default = _code(field["default"]) if "default" in field else ""
        cells = [_code(name), kind, "yes" if required else "no", default, "<br>".join(self.limits(field)), description]
        return "| " + " | ".join(_cell(c) for c in cells) + " |"

    # -- one schema's type and limits --

    def type_of(self, node: dict[str, Any]) -> str:
        node = self.resolve(node)
        if "oneOf" in node or "anyOf" in node:
            return " or ".join(self.type_of(option) for option in node.get("oneOf") or node["anyOf"])
        kind = node.get("type")
        if kind is None and "enum" in node:
            names = {type(v).__name__ for v in node["enum"]}
            kind = (
                {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}.get(names.pop())
                if len(names) == 1
                else None
            )
        if isinstance(kind, list):
            return " or ".join(kind)
        if kind == "array" and isinstance(node.get("items"), dict):
            return f"array of {self.type_of(node['items'])}"
        if kind == "object" and isinstance(node.get("additionalProperties"), dict) and "properties" not in node:
            return f"map of {self.type_of(node['additionalProperties'])}"
        return kind or "any"

    def limits(self, node: dict[str, Any], prefix: str = "") -> list[str]:
        node = self.resolve(node)
        found = []
        if "enum" in node:
            found.append("one of " + ", ".join(_code(v) for v in node["enum"]))
        if "const" in node:
            found.append("exactly " + _code(node["const"]))
        if "minimum" in node or "maximum" in node:
            found.append(_bounds(node.get("minimum"), node.get("maximum")))
        if "exclusiveMinimum" in node:
            found.append(f"> {node['exclusiveMinimum']}")
        if "exclusiveMaximum" in node:
            found.append(f"< {node['exclusiveMaximum']}")
        if "minLength" in node or "maxLength" in node:
            found.append(_count(node.get("minLength"), node.get("maxLength"), "character", "characters"))
        if "pattern" in node:
            found.append("pattern " + _code(node["pattern"]))
        if "minItems" in node or "maxItems" in node:
            found.append(_count(node.get("minItems"), node.get("maxItems"), "item", "items"))
        if "minProperties" in node or "maxProperties" in node:
            found.append(_count(node.get("minProperties"), node.get("maxProperties"), "entry", "entries"))
        found = [prefix + text for text in found]
        # Constraints of what a field contains, when it has no section of its own.
        for option in node.get("oneOf") or node.get("anyOf") or []:
            found += self.limits(option, f"{self.type_of(option)}: ")
        items = node.get("items")
        if isinstance(items, dict) and not self.is_record(self.resolve(items)):
            found += self.limits(items, prefix + "each item: ")
        if isinstance(node.get("propertyNames"), dict):
            found += self.limits(node["propertyNames"], prefix + "keys: ")
        if isinstance(node.get("additionalProperties"), dict):
            found += self.limits(node["additionalProperties"], prefix + "values: ")
        return found


if __name__ == "__main__":
    sys.exit(main())
