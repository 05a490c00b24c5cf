"""template.yaml as API Gateway and Lambda will see it: translated by aws-sam-translator, then resolved.

The translator turns the SAM template into the CloudFormation `sam deploy` would create: the REST API's
OpenAPI body (routes, authorizers, gateway responses) and each function with Globals merged in. The
intrinsic functions left in it (Ref, Fn::Sub, Fn::GetAtt, Fn::If...) are resolved here from the
parameters, so each function's environment is what Lambda would give it.

A nested application (`AWS::Serverless::Application` with a local `Location`, as the authorizer
component is included) is read the same way, with the parameters its parent passes; its functions join
the parent's, named `<Application>.<Function>`, and `!GetAtt <Application>.Outputs.<Name>` is its output.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from local.apigateway import ACCOUNT_ID, API_ID, REGION, GatewayResponse
from local.request_authorizer import identity_headers

STACK_NAME = "local"
#: Nested applications inside nested applications, at most (a template that includes itself stops here).
_MAX_NESTING = 4
_FUNCTION_NAME = re.compile(r"functions/arn:aws:lambda:[^:]+:\d+:function:([^/:]+)(?::[^/]*)?/invocations$")
_NO_VALUE = object()


class TemplateError(Exception):
    """template.yaml cannot be run locally; the message says why."""


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str  # module.function
    runtime: str
    memory_mb: int
    timeout_seconds: int
    environment: dict[str, str]


@dataclass(frozen=True)
class AuthorizerSpec:
    name: str
    function: str  # logical id
    identity_header: str
    validation_expression: str | None
    ttl_seconds: int
    #: "TOKEN", or "REQUEST" (local/request_authorizer.py), whose identity sources are these headers.
    kind: str = "TOKEN"
    identity_headers: tuple[str, ...] = ()


@dataclass(frozen=True)
class RouteSpec:
    method: str  # GET, POST, ... or ANY
    path: str  # the resource path, e.g. /messages/{id}
    function: str  # logical id
    authorizer: str | None  # a name in ApiSpec.authorizers, or None for an open route


@dataclass(frozen=True)
class TableSpec:
    """An AWS::DynamoDB::Table of the template: its name and its resolved properties.

    The name is the logical id, as `Ref` gives it here (and under `sam local`), so a function's
    `TABLE_NAME: !Ref MessagesTable` names the table the local DynamoDB creates.
    """

    logical_id: str
    name: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class ApiSpec:
    logical_id: str
    stage: str
    routes: tuple[RouteSpec, ...]
    authorizers: dict[str, AuthorizerSpec]
    gateway_responses: dict[str, GatewayResponse]
    functions: dict[str, FunctionSpec]
    parameters: dict[str, str]
    tables: dict[str, TableSpec] = field(default_factory=dict)


@dataclass(frozen=True)
class HttpAuthorizerSpec:
    name: str
    function: str  # logical id
    #: Selection expressions, e.g. "$request.header.Authorization"; all required, together the cache key.
    identity_sources: tuple[str, ...]
    payload_version: str  # "2.0": the only one that runs here
    simple_responses: bool
    ttl_seconds: int


@dataclass(frozen=True)
class HttpApiSpec:
    logical_id: str
    stage: str
    routes: tuple[RouteSpec, ...]
    authorizers: dict[str, HttpAuthorizerSpec]
    functions: dict[str, FunctionSpec]
    parameters: dict[str, str]
    tables: dict[str, TableSpec] = field(default_factory=dict)


_Api = TypeVar("_Api", bound=ApiSpec | HttpApiSpec)


def with_variable(api: _Api, name: str, value: str) -> _Api:
    """The API with the variable `name` set to `value` in each function whose template declares it."""
    functions = {
        logical_id: replace(spec, environment={**spec.environment, name: value})
        if name in spec.environment
        else spec
        for logical_id, spec in api.functions.items()
    }
    return replace(api, functions=functions)


def declares_variable(api: ApiSpec | HttpApiSpec, name: str) -> bool:
    return any(name in spec.environment for spec in api.functions.values())


def declared_parameters(template_path: Path) -> frozenset[str]:
    """The names of the template's Parameters (empty if it cannot be read: load_api says why)."""
    from samtranslator.yaml_helper import yaml_parse

    try:
        template = yaml_parse(template_path.read_text())
    except Exception:  # OSError, PyYAML's errors: load_api reports them with the path
        return frozenset()
    parameters = template.get("Parameters") if isinstance(template, dict) else None
    return frozenset(parameters) if isinstance(parameters, dict) else frozenset()


def load_api(
    template_path: Path, overrides: Mapping[str, str] | None = None, api_logical_id: str | None = None
) -> ApiSpec:
    """Read, translate and resolve `template_path`; the REST API named `api_logical_id` (or the only one)."""
    stack = _load_stack(template_path, overrides or {})
    resources, functions = stack.resources, stack.functions
    api_name = _choose_api(resources, api_logical_id)
    body = inline_body(resources, api_name)
    authorizers = _authorizers(body, functions)
    routes = _routes(body, functions, authorizers)
    responses = {
        str(kind): GatewayResponse.from_extension(document)
        for kind, document in (body.get("x-amazon-apigateway-gateway-responses") or {}).items()
    }
    responses |= _gateway_response_resources(resources)
    return ApiSpec(
        logical_id=api_name,
        stage=_stage_name(resources, api_name),
        routes=routes,
        authorizers=authorizers,
        gateway_responses=responses,
        functions=functions,
        parameters=stack.template_parameters(),
        tables=stack.tables(),
    )


def inline_body(resources: dict[str, Any], api_name: str) -> dict[str, Any]:
    """The API's OpenAPI document, as SAM writes it inline in the translated template."""
    body = resources[api_name]["Properties"].get("Body")
    if not isinstance(body, dict):
        raise TemplateError(f"{api_name} has no inline OpenAPI body (DefinitionUri is not supported locally)")
    return body


@dataclass(frozen=True)
class _Stack:
    resources: dict[str, Any]  # resolved, those whose condition holds
    functions: dict[str, FunctionSpec]  # its own and its nested applications'
    outputs: dict[str, Any]
    parameters: dict[str, Any]

    def template_parameters(self) -> dict[str, str]:
        """The template's own parameters and their values (not the pseudo parameters, AWS::Region...)."""
        return {name: str(value) for name, value in self.parameters.items() if "::" not in name}

    def tables(self) -> dict[str, TableSpec]:
        return {
            name: TableSpec(name, name, resource["Properties"])
            for name, resource in self.resources.items()
            if resource["Type"] == "AWS::DynamoDB::Table"
        }


def _load_stack(template_path: Path, overrides: Mapping[str, str], prefix: str = "") -> _Stack:
    """One template, its nested applications first; `prefix` names what a nested one creates."""
    template = read_template(template_path)
    stack_name = f"{STACK_NAME}-{prefix.rstrip('.').replace('.', '-')}" if prefix else STACK_NAME
    parameters = _parameter_values(template, overrides, stack_name)
    code_dirs = _take_code_uris(template, template_path.parent)
    nested_templates = _nested_application_templates(template, template_path.parent, prefix)
    translated = _translate(template, parameters)
    nested: dict[str, _Stack] = {}
    resolver = _Resolver(translated, parameters, prefix, nested)
    functions: dict[str, FunctionSpec] = {}
    for name, child_template in nested_templates.items():
        resource = translated["Resources"][name]
        if not resolver.condition_holds(resource.get("Condition")):
            continue
        passed = resolver.resolve(resource.get("Properties", {}).get("Parameters") or {})
        child = _load_stack(
            child_template, {key: _env_text(value) for key, value in passed.items()}, f"{prefix}{name}."
        )
        nested[name] = child
        functions |= child.functions
    resources = {
        name: resolver.resolve(resource)
        for name, resource in translated["Resources"].items()
        if resolver.condition_holds(resource.get("Condition"))
    }
    functions |= {
        prefix + name: _function_spec(prefix + name, resource["Properties"], code_dirs[name])
        for name, resource in resources.items()
        if resource["Type"] == "AWS::Lambda::Function" and name in code_dirs
    }
    outputs = {
        name: resolver.resolve(output.get("Value"))
        for name, output in (translated.get("Outputs") or {}).items()
        if resolver.condition_holds(output.get("Condition"))
    }
    return _Stack(resources, functions, outputs, parameters)


def read_template(template_path: Path) -> dict[str, Any]:
    from samtranslator.yaml_helper import yaml_parse

    try:
        text = template_path.read_text()
    except OSError as error:
        raise TemplateError(f"cannot read {template_path}: {error}") from None
    try:
        template = yaml_parse(text)
    except Exception as error:  # PyYAML's parser and scanner errors
        raise TemplateError(f"cannot read {template_path}: {error}") from None
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise TemplateError(f"{template_path} has no Resources")
    return template


def _nested_application_templates(template: dict[str, Any], base: Path, prefix: str) -> dict[str, Path]:
    """The child template of each nested application; only a local Location can run here."""
    children = {}
    for name, resource in template["Resources"].items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Serverless::Application":
            continue
        location = (resource.get("Properties") or {}).get("Location")
        if not isinstance(location, str) or location.startswith(("s3://", "https://", "http://")):
            raise TemplateError(
                f"{prefix}{name}: only a nested application whose Location is a local template runs here"
            )
        if prefix.count(".") >= _MAX_NESTING:
            raise TemplateError(f"{prefix}{name}: nested applications more than {_MAX_NESTING} deep")
        path = (base / location).resolve()
        if not path.is_file():
            raise TemplateError(f"{prefix}{name}: Location {location!r} is not a file next to the template")
        children[name] = path
    return children


# Translation -----------------------------------------------------------------------------------------


def _parameter_values(
    template: dict[str, Any], overrides: Mapping[str, str], stack_name: str = STACK_NAME
) -> dict[str, Any]:
    declared = template.get("Parameters") or {}
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise TemplateError(f"unknown parameter(s) {', '.join(unknown)}; the template has {sorted(declared)}")
    values: dict[str, Any] = {
        name: definition["Default"] for name, definition in declared.items() if "Default" in definition
    }
    values.update(overrides)
    missing = sorted(set(declared) - set(values))
    if missing:
        raise TemplateError(f"parameter(s) {', '.join(missing)} have no default: pass a value")
    values |= {
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Partition": "aws",
        "AWS::StackName": stack_name,
        "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{stack_name}/local",
        "AWS::URLSuffix": "amazonaws.com",
    }
    return values


def _take_code_uris(template: dict[str, Any], base: Path) -> dict[str, Path]:
    """Each function's local code directory; the template gets an S3 placeholder the translator accepts."""
    globals_uri = ((template.get("Globals") or {}).get("Function") or {}).get("CodeUri")
    code_dirs = {}
    for name, resource in template["Resources"].items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties = resource.setdefault("Properties", {})
        uri = properties.get("CodeUri", globals_uri)
        if not isinstance(uri, str) or uri.startswith("s3://"):
            raise TemplateError(f"{name}: CodeUri must be a local directory to run here")
        code_dir = (base / uri).resolve()
        if not code_dir.is_dir():
            raise TemplateError(f"{name}: CodeUri {uri!r} is not a directory next to the template")
        code_dirs[name] = code_dir
        properties["CodeUri"] = f"s3://local-stack/{name}"
    return code_dirs


def resolve_before_sam(template: dict[str, Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
    """What AWS::LanguageExtensions resolves before the SAM transform, where the template relies on it:
    every Fn::If on a condition its Metadata's `ResolvedBeforeSam` lists (an authorizer's type and
    identity sources must reach SAM as plain values), AWS::NoValue dropped. The other conditions are
    left to CloudFormation, which decides them at deploy time to the same end.
    """
    listed = ((template.get("Metadata") or {}).get("ResolvedBeforeSam") or {}).get("Conditions") or []
    if not listed:
        return template
    defaults = {
        name: declared["Default"]
        for name, declared in (template.get("Parameters") or {}).items()
        if isinstance(declared, dict) and "Default" in declared
    }
    resolver = _Resolver(template, defaults | dict(parameters))
    decided = {name: resolver.condition_holds(name) for name in listed}
    resolved = copy.deepcopy(template)
    for section in ("Resources", "Outputs"):
        if section in resolved:
            resolved[section] = _decide_conditions(resolved[section], decided)
    return resolved


def _decide_conditions(node: Any, decided: Mapping[str, bool]) -> Any:
    if isinstance(node, list):
        items = (_decide_conditions(item, decided) for item in node)
        return [item for item in items if item is not _NO_VALUE]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Fn::If"} and node["Fn::If"][0] in decided:
        condition, when_true, when_false = node["Fn::If"]
        chosen = when_true if decided[condition] else when_false
        return _NO_VALUE if chosen == {"Ref": "AWS::NoValue"} else _decide_conditions(chosen, decided)
    resolved = {key: _decide_conditions(value, decided) for key, value in node.items()}
    return {key: value for key, value in resolved.items() if value is not _NO_VALUE}


def _translate(template: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    import boto3
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=REGION))
    # The translator warns about feature toggles it looks up; they mean nothing here.
    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    try:
        translated: dict[str, Any] = translator.translate(
            resolve_before_sam(template, parameters),
            parameter_values=dict(parameters),
            get_managed_policy_map=lambda: {},
        )
    except InvalidDocumentException as error:
        problems = "; ".join(str(cause) for cause in error.causes)
        raise TemplateError(f"aws-sam-translator refused the template: {problems}") from None
    return translated


# Intrinsic functions ----------------------------------------------------------------------------------


class _Resolver:
    def __init__(
        self,
        template: dict[str, Any],
        parameters: dict[str, Any],
        prefix: str = "",
        nested: Mapping[str, _Stack] | None = None,
    ) -> None:
        self._parameters = parameters
        self._resources = template.get("Resources", {})
        self._conditions = template.get("Conditions") or {}
        self._mappings = template.get("Mappings") or {}
        self._prefix = prefix  # what a resource's name starts with in a nested application
        self._nested = nested if nested is not None else {}

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [item for item in (self.resolve(item) for item in node) if item is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, value),) = node.items()
            handler = _INTRINSICS.get(key)
            if handler is not None:
                return handler(self, value)
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not _NO_VALUE}

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self._parameters:
            value = self._parameters[name]
            return ",".join(map(str, value)) if isinstance(value, list) else value
        if name in self._resources:
            kind = self._resources[name].get("Type")
            if kind == "AWS::Lambda::Alias":
                # An alias's Ref is its ARN: the function's, qualified by the alias name.
                alias = self._resources[name].get("Properties", {})
                function = self.resolve(alias.get("FunctionName"))
                alias_name = self.resolve(alias.get("Name"))
                return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function}:{alias_name}"
            return API_ID if kind == "AWS::ApiGateway::RestApi" else self._prefix + name
        raise TemplateError(f"Ref to unknown name {name!r}")

    def get_att(self, value: Any) -> Any:
        name, attribute = value.split(".", 1) if isinstance(value, str) else value
        kind = self._resources.get(name, {}).get("Type")
        if kind == "AWS::Lambda::Function" and attribute == "Arn":
            # Named by logical id, so an integration or authorizer URI leads back to the function.
            return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self._prefix}{name}"
        if kind == "AWS::CloudFormation::Stack" and attribute.startswith("Outputs."):
            output = attribute.removeprefix("Outputs.")
            outputs = self._nested[name].outputs if name in self._nested else {}
            if output not in outputs:
                raise TemplateError(f"{self._prefix}{name} has no output {output!r} here")
            return outputs[output]
        if kind == "AWS::IAM::Role" and attribute == "Arn":
            return f"arn:aws:iam::{ACCOUNT_ID}:role/{name}"
        if kind == "AWS::ApiGateway::RestApi" and attribute == "RootResourceId":
            return "root"
        return f"{name}.{attribute}"

    def sub(self, value: Any) -> str:
        text, variables = (value, {}) if isinstance(value, str) else (value[0], self.resolve(value[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".", 1)[0] in self._resources:
                return str(self.get_att(name))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def condition_holds(self, name: str | None) -> bool:
        if name is None:
            return True
        if name not in self._conditions:
            raise TemplateError(f"unknown condition {name!r}")
        return bool(self.resolve(self._conditions[name]))

    def find_in_map(self, value: list[Any]) -> Any:
        mapping, top, second = (str(self.resolve(part)) for part in value)
        try:
            return self._mappings[mapping][top][second]
        except KeyError:
            raise TemplateError(f"Fn::FindInMap: {mapping}/{top}/{second} is not in Mappings") from None

    def if_(self, value: list[Any]) -> Any:
        condition, when_true, when_false = value
        return self.resolve(when_true if self.condition_holds(condition) else when_false)


_INTRINSICS: dict[str, Any] = {
    "Ref": lambda r, v: r.ref(v),
    "Fn::GetAtt": lambda r, v: r.get_att(v),
    "Fn::Sub": lambda r, v: r.sub(v),
    "Fn::Join": lambda r, v: str(v[0]).join(str(item) for item in r.resolve(v[1])),
    "Fn::Select": lambda r, v: r.resolve(v[1])[int(r.resolve(v[0]))],
    "Fn::Split": lambda r, v: str(r.resolve(v[1])).split(v[0]),
    "Fn::If": lambda r, v: r.if_(v),
    "Fn::FindInMap": lambda r, v: r.find_in_map(v),
    "Fn::Equals": lambda r, v: str(r.resolve(v[0])) == str(r.resolve(v[1])),
    "Fn::Not": lambda r, v: not r.resolve(v[0]),
    "Fn::And": lambda r, v: all(r.resolve(item) for item in v),
    "Fn::Or": lambda r, v: any(r.resolve(item) for item in v),
    "Condition": lambda r, v: r.condition_holds(v),
}


# The API and its functions ------------------------------------------------------------------------------


def _function_spec(name: str, properties: dict[str, Any], code_dir: Path) -> FunctionSpec:
    handler = properties.get("Handler")
    if not isinstance(handler, str) or "." not in handler:
        raise TemplateError(f"{name}: Handler must be module.function")
    variables = (properties.get("Environment") or {}).get("Variables") or {}
    return FunctionSpec(
        logical_id=name,
        code_dir=code_dir,
        handler=handler,
        runtime=str(properties.get("Runtime", "python3.12")),
        memory_mb=int(properties.get("MemorySize", 128)),
        timeout_seconds=int(properties.get("Timeout", 3)),
        environment={key: _env_text(value) for key, value in variables.items()},
    )


def _env_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _choose_api(resources: dict[str, Any], wanted: str | None) -> str:
    apis = sorted(name for name, r in resources.items() if r["Type"] == "AWS::ApiGateway::RestApi")
    if wanted is not None:
        if wanted not in apis:
            raise TemplateError(f"no REST API {wanted!r} in the template (found {apis})")
        return wanted
    if len(apis) != 1:
        raise TemplateError(f"expected one REST API, found {apis or 'none'}: choose one with --api")
    return apis[0]


def _function_of(uri: Any, functions: dict[str, FunctionSpec], what: str) -> str:
    match = _FUNCTION_NAME.search(uri) if isinstance(uri, str) else None
    if match is None or match.group(1) not in functions:
        raise TemplateError(f"{what}: {uri!r} is not a Lambda function of this template")
    return match.group(1)


def _authorizers(body: dict[str, Any], functions: dict[str, FunctionSpec]) -> dict[str, AuthorizerSpec]:
    authorizers = {}
    # Swagger 2 keeps them in securityDefinitions, OpenAPI 3 in components.securitySchemes.
    schemes = body.get("securityDefinitions") or (body.get("components") or {}).get("securitySchemes") or {}
    for name, definition in schemes.items():
        extension = definition.get("x-amazon-apigateway-authorizer")
        if extension is None:
            continue
        kind = str(extension.get("type", "")).upper()
        if kind not in ("TOKEN", "REQUEST"):
            raise TemplateError(f"authorizer {name}: only TOKEN and REQUEST authorizers run locally")
        try:
            headers = identity_headers(str(extension.get("identitySource", ""))) if kind == "REQUEST" else ()
        except ValueError as problem:
            raise TemplateError(f"authorizer {name}: {problem}") from None
        expression = extension.get("identityValidationExpression")
        if expression is not None:
            try:
                re.compile(expression)
            except re.error as error:
                raise TemplateError(f"authorizer {name}: bad ValidationExpression ({error})") from None
        ttl = int(extension.get("authorizerResultTtlInSeconds", 300))
        if not 0 <= ttl <= 3600:
            raise TemplateError(f"authorizer {name}: ReauthorizeEvery {ttl} is outside 0..3600")
        if kind == "REQUEST" and ttl > 0 and not headers:
            # API Gateway refuses it too: its identity sources are the cache's key.
            raise TemplateError(f"authorizer {name}: a cached REQUEST authorizer needs identity sources")
        authorizers[name] = AuthorizerSpec(
            name=name,
            function=_function_of(extension.get("authorizerUri"), functions, f"authorizer {name}"),
            identity_header=str(definition.get("name", "Authorization")),
            validation_expression=expression if kind == "TOKEN" else None,
            ttl_seconds=ttl,
            kind=kind,
            identity_headers=headers,
        )
    return authorizers


def _routes(
    body: dict[str, Any], functions: dict[str, FunctionSpec], authorizers: dict[str, AuthorizerSpec]
) -> tuple[RouteSpec, ...]:
    default_security = body.get("security") or []
    routes = []
    for path, operations in (body.get("paths") or {}).items():
        for key, operation in operations.items():
            if (key.startswith("x-") and key != "x-amazon-apigateway-any-method") or key == "parameters":
                continue
            method = "any" if key == "x-amazon-apigateway-any-method" else key
            integration = operation.get("x-amazon-apigateway-integration") or {}
            if integration.get("type") != "aws_proxy":
                raise TemplateError(f"{method.upper()} {path}: only Lambda proxy integrations run locally")
            security = operation.get("security", default_security)
            names = [name for requirement in security for name in requirement if name in authorizers]
            routes.append(
                RouteSpec(
                    method=method.upper(),
                    path=path,
                    function=_function_of(integration.get("uri"), functions, f"{method.upper()} {path}"),
                    authorizer=names[0] if names else None,
                )
            )
    return tuple(routes)


def _gateway_response_resources(resources: dict[str, Any]) -> dict[str, GatewayResponse]:
    responses = {}
    for resource in resources.values():
        properties = resource.get("Properties") or {}
        if resource["Type"] == "AWS::ApiGateway::GatewayResponse" and properties.get("RestApiId") == API_ID:
            responses[properties["ResponseType"]] = GatewayResponse.from_extension(
                {
                    "statusCode": properties.get("StatusCode"),
                    "responseParameters": properties.get("ResponseParameters"),
                    "responseTemplates": properties.get("ResponseTemplates"),
                }
            )
    return responses


def _stage_name(
    resources: dict[str, Any],
    api_name: str,
    stage_of: tuple[str, str, str] = ("AWS::ApiGateway::Stage", "RestApiId", API_ID),
) -> str:
    """The API's stage: that of the resource of type `stage_of[0]` whose `stage_of[1]` is `stage_of[2]`."""
    kind, api_property, api_ref = stage_of
    for resource in resources.values():
        properties = resource.get("Properties") or {}
        if resource["Type"] == kind and properties.get(api_property) == api_ref:
            return str(properties["StageName"])
    raise TemplateError(f"{api_name} has no stage")
