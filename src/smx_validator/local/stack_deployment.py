"""What ``sam deploy`` would create, created on moto from template.yaml: the IAM roles, the functions
(their handlers run in-process, from CodeUri + Handler, with their layers at /opt), and the state
machine from the real ASL file with the template's DefinitionSubstitutions resolved."""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from smx_validator.template import IntrinsicResolver, SamTemplate, TemplateError

from . import lambda_runtime, moto_bridge

ACCOUNT_ID = "123456789012"  # moto's default account
_LEFTOVER_SUBSTITUTION = re.compile(r"\$\{[A-Za-z0-9_:.]+\}")


@dataclass
class DeployedStack:
    state_machine_arn: str = ""
    function_names: dict[str, str] = field(default_factory=dict)  # logical id -> function name
    functions: dict[str, lambda_runtime.InProcessFunction] = field(default_factory=dict)
    # What the process must set for the in-process handlers (their Environment, Lambda's variables).
    environment: dict[str, str] = field(default_factory=dict)


@dataclass
class StackDeployment:
    template: SamTemplate
    parameters: Mapping[str, Any]
    region: str
    stack_name: str
    client: Callable[[str], Any]
    lambda_timeouts: Mapping[str, float]
    retry_delay_cap_seconds: int | None
    write_logs: Callable[[str, str, list[str]], None]
    on_timeout: Callable[..., None]

    def deploy(self, stack: DeployedStack) -> None:
        """Create everything, filling ``stack`` as it goes (what exists is torn down on failure)."""
        role_arns = {role.logical_id: self._role_arn(role.logical_id) for role in self.template.roles()}
        stack.function_names.update({f.logical_id: self._physical_name(f.logical_id) for f in self.template.functions()})
        function_arns = {logical_id: f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{name}"
                         for logical_id, name in stack.function_names.items()}
        layer_arns = {logical_id: f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:layer:{self._physical_name(logical_id)}:1"
                      for logical_id in self.template.resources_of_type("AWS::Serverless::LayerVersion")}
        resolver = IntrinsicResolver(
            self.template, parameters=self.parameters, region=self.region, account_id=ACCOUNT_ID,
            stack_name=self.stack_name,
            physical_ids={**stack.function_names, **layer_arns,
                          **{logical_id: arn.rsplit("/", 1)[-1] for logical_id, arn in role_arns.items()}},
            attributes={**{(logical_id, "Arn"): arn for logical_id, arn in function_arns.items()},
                        **{(logical_id, "Arn"): arn for logical_id, arn in role_arns.items()}},
        )
        iam = self.client("iam")
        for role in self.template.roles():
            _create_role(iam, role_arns[role.logical_id], resolver.resolve(role.properties))
        layer_dirs = {arn: self.template.layer_content_dir(logical_id) for logical_id, arn in layer_arns.items()}
        environments = {}
        for function in self.template.functions():
            name = stack.function_names[function.logical_id]
            environments[name] = self._deploy_function(function, name, function_arns[function.logical_id],
                                                       resolver, layer_dirs, stack)
        stack.environment.update(lambda_runtime.lambda_environment(environments))
        # The split function accepts local: script images only from this engine (functions/split/app.py).
        stack.environment["SMX_VALIDATOR_OFFLINE_ENGINE"] = "1"
        stack.state_machine_arn = self._deploy_state_machine(resolver)

    def _deploy_function(self, function: Any, name: str, arn: str, resolver: IntrinsicResolver,
                         layer_dirs: Mapping[str, Path], stack: DeployedStack) -> dict[str, str]:
        """Create one function and register its in-process runtime; return its environment variables."""
        role_arn = _create_role(self.client("iam"), self._role_arn(f"{function.logical_id}Role"), {
            "AssumeRolePolicyDocument": _assume_role_policy("lambda.amazonaws.com"),
            "Policies": _sam_policies(list(function.policies), resolver),
        })
        variables = {key: str(value) for key, value in (resolver.resolve(function.environment) or {}).items()}
        layers = [layer_dirs[layer] for layer in resolver.resolve(list(function.layers)) if layer in layer_dirs]
        environment = {key: _layer_path(value, layers) for key, value in variables.items()}
        self.client("lambda").create_function(
            FunctionName=name, Runtime=function.runtime, Role=role_arn, Handler=function.handler,
            Code={"ZipFile": _zip_directory(function.code_dir)}, Timeout=function.timeout,
            MemorySize=function.memory_size, Environment={"Variables": environment},
        )
        code = lambda_runtime.FunctionCode(
            function_name=name, function_arn=arn, code_dir=function.code_dir,
            handler=function.handler, memory_size=function.memory_size,
            timeout=self.lambda_timeouts.get(function.logical_id, function.timeout))
        runtime = lambda_runtime.InProcessFunction(code, log_sink=self.write_logs, on_timeout=self.on_timeout)
        stack.functions[function.logical_id] = runtime
        moto_bridge.register_lambda(name, runtime)
        return environment

    def _deploy_state_machine(self, resolver: IntrinsicResolver) -> str:
        machine = self.template.state_machine()
        definition = self._definition(machine.definition_path, resolver.resolve(machine.substitutions))
        machine_role = _create_role(self.client("iam"), self._role_arn(f"{machine.logical_id}Role"), {
            "AssumeRolePolicyDocument": _assume_role_policy("states.amazonaws.com"),
            "Policies": _sam_policies(list(machine.policies), resolver),
        })
        name = resolver.resolve(machine.name) if machine.name is not None else self._physical_name(machine.logical_id)
        return self.client("stepfunctions").create_state_machine(
            name=name, definition=definition, roleArn=machine_role,
        )["stateMachineArn"]

    def _definition(self, path: Path, substitutions: Mapping[str, Any]) -> str:
        text = path.read_text(encoding="utf-8")
        for key, value in substitutions.items():
            text = text.replace("${" + key + "}", str(value))
        for pseudo, value in {"AWS::Region": self.region, "AWS::AccountId": ACCOUNT_ID, "AWS::Partition": "aws"}.items():
            text = text.replace("${" + pseudo + "}", value)
        leftover = sorted(set(_LEFTOVER_SUBSTITUTION.findall(text)))
        if leftover:
            raise TemplateError(f"{path.name}: {', '.join(leftover)} not in the template's DefinitionSubstitutions")
        if self.retry_delay_cap_seconds is not None:
            document = json.loads(text)
            _cap_retry_delays(document, self.retry_delay_cap_seconds)
            text = json.dumps(document)
        return text

    def _role_arn(self, logical_id: str) -> str:
        return f"arn:aws:iam::{ACCOUNT_ID}:role/{self._physical_name(logical_id)[:64]}"

    def _physical_name(self, logical_id: str) -> str:
        return f"{self.stack_name}-{logical_id}"


def _create_role(iam: Any, arn: str, properties: Mapping[str, Any]) -> str:
    name = arn.rsplit("/", 1)[-1]
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(properties.get("AssumeRolePolicyDocument", {})))
    for index, policy in enumerate(properties.get("Policies") or []):
        iam.put_role_policy(RoleName=name, PolicyName=policy.get("PolicyName", f"policy{index}"),
                            PolicyDocument=json.dumps(policy["PolicyDocument"]))
    return arn


def _cap_retry_delays(node: Any, cap: int) -> None:
    """Every Retry of every state, at any depth (Map ItemProcessor/Iterator, Parallel Branches)."""
    if isinstance(node, dict):
        for retrier in node.get("Retry", []) if isinstance(node.get("Retry"), list) else []:
            retrier["IntervalSeconds"] = min(int(retrier.get("IntervalSeconds", 1)), cap)
            retrier["MaxDelaySeconds"] = min(int(retrier.get("MaxDelaySeconds", cap)), cap)
        for value in node.values():
            _cap_retry_delays(value, cap)
    elif isinstance(node, list):
        for item in node:
            _cap_retry_delays(item, cap)


def _assume_role_policy(service: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}


def _sam_policies(policies: list[Any], resolver: IntrinsicResolver) -> list[dict[str, Any]]:
    """SAM ``Policies`` entries as inline role policies: policy documents as written, SAM policy
    templates (``LambdaInvokePolicy: {FunctionName: ...}``) expanded by the SAM translator's own
    processor, as ``sam deploy`` expands them. AWS managed policy names are not emulated."""
    from samtranslator.policy_template_processor.processor import PolicyTemplatesProcessor

    templates = PolicyTemplatesProcessor(PolicyTemplatesProcessor.get_default_policy_templates_json())
    documents = []
    for index, policy in enumerate(resolver.resolve(list(policies or [])) or []):
        if isinstance(policy, Mapping) and len(policy) == 1 and templates.has(next(iter(policy))):
            name, values = next(iter(policy.items()))
            policy = resolver.resolve(templates.convert(name, dict(values or {})))
        if isinstance(policy, Mapping) and "Statement" in policy:
            documents.append({"PolicyName": f"inline{index}",
                              "PolicyDocument": {"Version": "2012-10-17", **policy}})
    return documents


def _layer_path(value: str, layer_dirs: list[Path]) -> str:
    """Layers are mounted at /opt in Lambda; locally /opt/... is the layer's ContentUri directory."""
    if not value.startswith("/opt/") or not layer_dirs:
        return value
    relative = value[len("/opt/"):]
    for layer_dir in layer_dirs:
        if (layer_dir / relative).exists():
            return str(layer_dir / relative)
    return str(layer_dirs[0] / relative)


def _zip_directory(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(_code_files(directory)):
            archive.write(path, path.relative_to(directory).as_posix())
    return buffer.getvalue()


def _code_files(directory: Path) -> Iterator[Path]:
    for path in directory.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            yield path
