"""The SAM template read as the deployment sees it: parameters, functions, the state machine.

``template.yaml`` is the one home of the wiring (which function is which ARN, which role the
jobs run with, which DefinitionSubstitutions the ASL gets). The local engine deploys from it
through this module, so there is no second, hand-kept copy of that wiring.

Intrinsic functions are resolved for the values the engine needs: ``Ref`` (parameters,
resources, pseudo parameters), ``Fn::GetAtt``, ``Fn::Sub``, ``Fn::Join``, ``Fn::If`` with
the template's Conditions (``Fn::Equals``/``Not``/``And``/``Or``), and ``AWS::NoValue``.

Why not aws-sam-cli's own resolver (``samcli.lib.intrinsic_resolver``, 1.170.0): tried on this
template, it resolves the DefinitionSubstitutions, the state machine's policies and the
environments alike, but fails on every policy with an optional KMS statement: an ``Fn::If``
whose other branch is ``AWS::NoValue`` raises AttributeError ('NoneType' object has no attribute
'get') and the split's policies raise "Missing Intrinsic property in Fn::If". Those conditional
statements are the least-privilege KMS grants, so the engine keeps this resolver.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from samcli.yamlhelper import yaml_parse

FUNCTION_TYPE = "AWS::Serverless::Function"
LAYER_TYPE = "AWS::Serverless::LayerVersion"
STATE_MACHINE_TYPE = "AWS::Serverless::StateMachine"
ROLE_TYPE = "AWS::IAM::Role"

_NO_VALUE = object()
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class TemplateError(ValueError):
    """The template cannot be deployed as asked (unknown parameter, unsupported intrinsic...)."""


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: str | None = None
    allowed_pattern: str | None = None
    min_value: float | None = None
    max_value: float | None = None

    def check(self, value: str) -> str | None:
        """The problem with ``value`` for this parameter, or None."""
        if self.allowed_pattern is not None and not re.fullmatch(self.allowed_pattern, value):
            return f"{self.name}: {value!r} does not match {self.allowed_pattern}"
        if self.type == "Number":
            try:
                number = float(value)
            except ValueError:
                return f"{self.name}: {value!r} is not a number"
            if self.min_value is not None and number < self.min_value:
                return f"{self.name}: {value} is below the minimum {self.min_value:g}"
            if self.max_value is not None and number > self.max_value:
                return f"{self.name}: {value} is above the maximum {self.max_value:g}"
        return None


@dataclass(frozen=True)
class FunctionResource:
    logical_id: str
    code_dir: Path
    handler: str
    runtime: str
    memory_size: int
    timeout: int
    environment: dict[str, Any] = field(default_factory=dict)  # unresolved values
    layers: tuple[Any, ...] = ()
    policies: tuple[Any, ...] = ()


@dataclass(frozen=True)
class StateMachineResource:
    logical_id: str
    definition_path: Path
    substitutions: dict[str, Any]  # unresolved values
    policies: tuple[Any, ...] = ()
    name: Any = None  # the Name property, unresolved (None: CloudFormation names it)


@dataclass(frozen=True)
class RoleResource:
    logical_id: str
    properties: dict[str, Any]  # unresolved


class SamTemplate:
    """A parsed SAM template and the paths it names (relative to its own directory)."""

    def __init__(self, document: Mapping[str, Any], base_dir: Path):
        self.document = document
        self.base_dir = base_dir
        self.resources: Mapping[str, Any] = document.get("Resources") or {}

    @classmethod
    def load(cls, path: Path | str) -> "SamTemplate":
        path = Path(path)
        return cls(yaml_parse(path.read_text(encoding="utf-8")), path.resolve().parent)

    # -- what the template declares -------------------------------------------------------------

    def parameters(self) -> dict[str, Parameter]:
        declared = self.document.get("Parameters") or {}
        return {
            name: Parameter(
                name=name, type=spec.get("Type", "String"),
                default=None if spec.get("Default") is None else str(spec["Default"]),
                allowed_pattern=spec.get("AllowedPattern"),
                min_value=spec.get("MinValue"), max_value=spec.get("MaxValue"),
            ) for name, spec in declared.items()
        }

    def parameter_values(self, given: Mapping[str, Any]) -> dict[str, str]:
        """Given values plus defaults, checked like CloudFormation checks them."""
        declared = self.parameters()
        unknown = sorted(set(given) - set(declared))
        if unknown:
            raise TemplateError(f"Unknown template parameter(s): {', '.join(unknown)}; the template declares "
                                f"{', '.join(declared)}")
        values, problems = {}, []
        for name, parameter in declared.items():
            value = given.get(name, parameter.default)
            if value is None:
                problems.append(f"{name}: required (no default)")
                continue
            value = str(value)
            problem = parameter.check(value)
            if problem:
                problems.append(problem)
            values[name] = value
        if problems:
            raise TemplateError("Template parameters: " + "; ".join(problems))
        return values

    def resources_of_type(self, resource_type: str) -> dict[str, Mapping[str, Any]]:
        return {logical_id: resource for logical_id, resource in self.resources.items()
                if resource.get("Type") == resource_type}

    def functions(self) -> list[FunctionResource]:
        function_globals = (self.document.get("Globals") or {}).get("Function") or {}
        functions = []
        for logical_id, resource in self.resources_of_type(FUNCTION_TYPE).items():
            properties = resource.get("Properties") or {}
            code_uri = properties.get("CodeUri", function_globals.get("CodeUri"))
            if not isinstance(code_uri, str):
                raise TemplateError(f"{logical_id}: only a local CodeUri directory can run locally, got {code_uri!r}")
            environment = {
                **((function_globals.get("Environment") or {}).get("Variables") or {}),
                **((properties.get("Environment") or {}).get("Variables") or {}),
            }
            functions.append(FunctionResource(
                logical_id=logical_id,
                code_dir=(self.base_dir / code_uri).resolve(),
                handler=properties.get("Handler", function_globals.get("Handler")),
                runtime=properties.get("Runtime", function_globals.get("Runtime", "")),
                memory_size=int(properties.get("MemorySize", function_globals.get("MemorySize", 128))),
                timeout=int(properties.get("Timeout", function_globals.get("Timeout", 3))),
                environment=environment,
                layers=tuple(properties.get("Layers") or ()),
                policies=_as_tuple(properties.get("Policies")),
            ))
        return functions

    def function(self, logical_id: str) -> FunctionResource:
        for function in self.functions():
            if function.logical_id == logical_id:
                return function
        raise TemplateError(f"{logical_id}: no AWS::Serverless::Function of that name in the template")

    def layer_content_dir(self, logical_id: str) -> Path:
        resource = self.resources_of_type(LAYER_TYPE).get(logical_id)
        if resource is None:
            raise TemplateError(f"{logical_id} is not an {LAYER_TYPE} of the template")
        content_uri = (resource.get("Properties") or {}).get("ContentUri")
        if not isinstance(content_uri, str):
            raise TemplateError(f"{logical_id}: only a local ContentUri directory can run locally")
        return (self.base_dir / content_uri).resolve()

    def state_machine(self, logical_id: str | None = None) -> StateMachineResource:
        machines = self.resources_of_type(STATE_MACHINE_TYPE)
        if logical_id is None:
            if len(machines) != 1:
                raise TemplateError(f"The template has {len(machines)} state machines; name the one to deploy")
            logical_id = next(iter(machines))
        properties = machines[logical_id].get("Properties") or {}
        definition_uri = properties.get("DefinitionUri")
        if not isinstance(definition_uri, str):
            raise TemplateError(f"{logical_id}: the engine deploys a local DefinitionUri file, got {definition_uri!r}")
        return StateMachineResource(
            logical_id=logical_id,
            definition_path=(self.base_dir / definition_uri).resolve(),
            substitutions=dict(properties.get("DefinitionSubstitutions") or {}),
            policies=_as_tuple(properties.get("Policies")),
            name=properties.get("Name"),
        )

    def roles(self) -> list[RoleResource]:
        return [RoleResource(logical_id, dict(resource.get("Properties") or {}))
                for logical_id, resource in self.resources_of_type(ROLE_TYPE).items()]

    def conditions(self) -> Mapping[str, Any]:
        return self.document.get("Conditions") or {}


class IntrinsicResolver:
    """Resolves intrinsic functions against one deployment's parameter values and resources."""

    def __init__(self, template: SamTemplate, *, parameters: Mapping[str, str], region: str, account_id: str,
                 partition: str = "aws", physical_ids: Mapping[str, str] | None = None,
                 attributes: Mapping[tuple[str, str], str] | None = None, stack_name: str = "local"):
        self._template = template
        self._refs = {
            **parameters,
            "AWS::Region": region, "AWS::AccountId": account_id, "AWS::Partition": partition,
            "AWS::StackName": stack_name, "AWS::URLSuffix": "amazonaws.com",
            **(physical_ids or {}),
        }
        self._attributes = dict(attributes or {})
        self._condition_cache: dict[str, bool] = {}

    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic replaced; ``AWS::NoValue`` entries are dropped."""
        resolved = self._resolve(value)
        return None if resolved is _NO_VALUE else resolved

    def condition(self, name: str) -> bool:
        if name not in self._condition_cache:
            conditions = self._template.conditions()
            if name not in conditions:
                raise TemplateError(f"Unknown condition {name!r}")
            self._condition_cache[name] = bool(self._resolve(conditions[name]))
        return self._condition_cache[name]

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in (self._resolve(item) for item in value) if item is not _NO_VALUE]
        if not isinstance(value, Mapping):
            return value
        if len(value) == 1:
            (key, argument), = value.items()
            handler = _INTRINSICS.get(key)
            if handler is not None:
                return handler(self, argument)
            if key.startswith("Fn::"):
                raise TemplateError(f"The local engine does not resolve {key}")
        return {key: resolved for key, resolved in ((key, self._resolve(item)) for key, item in value.items())
                if resolved is not _NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name not in self._refs:
            raise TemplateError(f"Ref {name}: not a parameter, pseudo parameter or deployed resource")
        return self._refs[name]

    def _get_att(self, argument: Any) -> str:
        logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
        key = (logical_id, self._resolve(attribute))
        if key not in self._attributes:
            raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute}: the resource is not deployed locally")
        return self._attributes[key]

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], self._resolve(argument[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                return str(self._get_att(name))
            return str(self._ref(name))

        return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")

    def _join(self, argument: Any) -> str:
        delimiter, items = argument
        return delimiter.join(str(item) for item in self._resolve(items))

    def _if(self, argument: Any) -> Any:
        name, when_true, when_false = argument
        return self._resolve(when_true if self.condition(name) else when_false)

    def _equals(self, argument: Any) -> bool:
        left, right = (self._resolve(item) for item in argument)
        return str(left) == str(right)

    def _not(self, argument: Any) -> bool:
        return not self._resolve(argument[0])

    def _and(self, argument: Any) -> bool:
        return all(self._resolve(item) for item in argument)

    def _or(self, argument: Any) -> bool:
        return any(self._resolve(item) for item in argument)

    def _condition_ref(self, name: str) -> bool:
        return self.condition(name)


_INTRINSICS = {
    "Ref": IntrinsicResolver._ref,
    "Fn::GetAtt": IntrinsicResolver._get_att,
    "Fn::Sub": IntrinsicResolver._sub,
    "Fn::Join": IntrinsicResolver._join,
    "Fn::If": IntrinsicResolver._if,
    "Fn::Equals": IntrinsicResolver._equals,
    "Fn::Not": IntrinsicResolver._not,
    "Fn::And": IntrinsicResolver._and,
    "Fn::Or": IntrinsicResolver._or,
    "Condition": IntrinsicResolver._condition_ref,
}


def _as_tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    return tuple(value) if isinstance(value, list) else (value,)
