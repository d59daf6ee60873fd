"""SAR packaging: put the state machine definition inline in a SAM template.

The Serverless Application Repository does not rewrite an ``AWS::Serverless::StateMachine``'s
local ``DefinitionUri`` to its own bucket (aws/serverless-application-model#2000), so a published
template must carry the definition itself: ``Definition`` (the parsed ASL) plus the unchanged
``DefinitionSubstitutions``. ``sam package`` then uploads the code and layers as usual.

    smx-validator sar-template .aws-sam/build/template.yaml --output .aws-sam/build/sar-template.yaml
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any

from smx_validator.exit_codes import EXIT_OK, EXIT_USAGE

# samcli's YAML helper reads and writes CloudFormation short-form intrinsics (!Ref, !GetAtt, !Sub,
# !If ...), which plain PyYAML rejects; it is the same helper `sam build` and `sam package` use.
from samcli.yamlhelper import yaml_dump, yaml_parse

STATE_MACHINE_TYPE = "AWS::Serverless::StateMachine"


class SarTemplateError(Exception):
    """The template cannot be made SAR-ready; the message says which resource and why."""


def inline_definition(template_path: Path, relative_to: Path | None = None) -> str:
    """The template at ``template_path`` with every local state machine ``DefinitionUri`` inlined.

    ``DefinitionUri`` paths are resolved against the template's directory, as SAM does. Other
    local paths (CodeUri, ContentUri, LicenseUrl, ReadmeUrl) are kept relative to the template's
    directory, or rewritten relative to ``relative_to`` when the result is written elsewhere.
    """
    template_path = Path(template_path)
    template = inlined_template(template_path)
    if relative_to is not None:
        template = _relocate_local_paths(template, template_path.parent, Path(relative_to))
    return yaml_dump(template)


def inlined_template(template_path: Path) -> dict[str, Any]:
    """The parsed template with the definitions inlined (see :func:`inline_definition`)."""
    template_path = Path(template_path)
    template = yaml_parse(template_path.read_text(encoding="utf-8"))
    if not isinstance(template, dict):
        raise SarTemplateError(f"{template_path}: not a SAM template (expected a mapping at the top level)")

    state_machines = {
        logical_id: resource
        for logical_id, resource in (template.get("Resources") or {}).items()
        if isinstance(resource, dict) and resource.get("Type") == STATE_MACHINE_TYPE
    }
    if not state_machines:
        raise SarTemplateError(f"{template_path}: no {STATE_MACHINE_TYPE} resource to inline")

    for logical_id, resource in state_machines.items():
        properties = resource.get("Properties") or {}
        if "DefinitionUri" not in properties:
            continue  # already inline: running the command twice is harmless
        definition = _read_definition(template_path, logical_id, properties["DefinitionUri"])
        # Definition takes the place of DefinitionUri, where a reviewer of the template looks for it.
        resource["Properties"] = OrderedDict(
            ("Definition", definition) if key == "DefinitionUri" else (key, value) for key, value in properties.items()
        )
    return template


def _read_definition(template_path: Path, logical_id: str, uri: Any) -> Any:
    # An S3 DefinitionUri ({Bucket, Key} or s3://...) is exactly what SAR cannot follow either,
    # and we have no way to fetch it offline: say so instead of publishing a broken template.
    if not isinstance(uri, str) or uri.startswith("s3://"):
        raise SarTemplateError(
            f"{logical_id}: DefinitionUri {uri!r} is not a local file; point it at the ASL file in the repository"
        )
    asl_path = (template_path.parent / uri).resolve()
    try:
        text = asl_path.read_text(encoding="utf-8")
    except OSError as error:
        raise SarTemplateError(
            f"{logical_id}: cannot read DefinitionUri {uri} ({asl_path}): {error.strerror}"
        ) from error
    try:
        # OrderedDict keeps the ASL's own key order in the YAML (yaml_dump sorts plain dicts).
        return json.loads(text, object_pairs_hook=OrderedDict)
    except json.JSONDecodeError as error:
        raise SarTemplateError(f"{logical_id}: {asl_path} is not valid JSON: {error}") from error


def _relocate_local_paths(template: dict[str, Any], original_root: Path, new_root: Path) -> dict[str, Any]:
    # The same rewrite `sam build` applies when it moves a template; it covers CodeUri,
    # ContentUri and the SAR metadata's LicenseUrl/ReadmeUrl. Private to samcli, so the
    # exact aws-sam-cli pin in requirements-dev.txt and tests/deploy/test_sar.py guard it.
    from samcli.commands._utils.template import _update_relative_paths

    return _update_relative_paths(template, str(original_root), str(new_root))


def main(argv: list[str] | None = None) -> int:
    """``smx-validator sar-template TEMPLATE [--output OUT]``; ``argv`` is what follows the subcommand."""
    parser = argparse.ArgumentParser(
        prog="smx-validator sar-template",
        description="Write TEMPLATE with the state machine definition inline (Definition instead of "
        "DefinitionUri), as the Serverless Application Repository needs. Run it on the `sam build` "
        "output, then `sam package` and `sam publish` the result.",
    )
    parser.add_argument("template", type=Path, help="SAM template: template.yaml or .aws-sam/build/template.yaml")
    parser.add_argument(
        "--output",
        "-o",
        type=Path,
        help="where to write the result (default: stdout); local paths are rewritten relative to it",
    )
    args = parser.parse_args(argv)

    try:
        if args.output is None:
            text = inline_definition(args.template)
        else:
            text = inline_definition(args.template, relative_to=args.output.resolve().parent)
    except (OSError, SarTemplateError) as error:
        print(f"smx-validator sar-template: {error}", file=sys.stderr)
        return EXIT_USAGE

    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output} (state machine definition inline)", file=sys.stderr)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
