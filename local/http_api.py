"""A local API Gateway HTTP API (`AWS::Serverless::HttpApi`): routes, a Lambda authorizer, payload 2.0.

What an HTTP API does differently from the REST API of local/gateway.py, each with its source in
docs/http-api.md:

- routes are keyed "METHOD /path" (`ANY`, `{param}`, `{proxy+}`, and the `$default` catch-all); a request
  no route takes gets 404 `{"message":"Not Found"}`;
- the Lambda authorizer is a REQUEST authorizer. Its identity sources (`$request.header.X`,
  `$request.querystring.X`, `$context.routeKey`…) must all be present, else 401 `{"message":"Unauthorized"}`
  without invoking it; they are the key of its result cache, which every route shares;
- payload 2.0 events for the authorizer (`routeArn`, `routeKey`, `identitySource`…) and the functions
  (`requestContext.authorizer.lambda` holds the authorizer's context, values as it returned them);
- the authorizer answers a simple response (`isAuthorized`) or an IAM policy evaluated for the routeArn:
  false or a Deny is 403 `{"message":"Forbidden"}`; raising `Unauthorized` is 401; any other error, or an
  answer of the wrong shape, is 500 `{"message":"Internal Server Error"}`;
- no gateway responses: those bodies are API Gateway's own, with no header of the API's (no
  WWW-Authenticate); a function's own response headers reach the client as it set them.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from local.apigateway import (
    ACCOUNT_ID,
    API_ID,
    REGION,
    AuthorizerCache,
    AuthorizerConfigurationError,
    Decision,
    evaluate_policy,
    principal_and_policy,
)
from local.gateway import (
    UNAUTHORIZED,
    MalformedProxyResponse,
    Request,
    Response,
    _event_body,
    _RouteTable,
    _scalar,
    split_target,
)
from local.lambdas import LambdaFunction
from local.template import (
    ApiSpec,
    FunctionSpec,
    HttpApiSpec,
    HttpAuthorizerSpec,
    RouteSpec,
    TemplateError,
    _function_of,
    _load_stack,
    _routes,
    _stage_name,
    inline_body,
    load_api,
    read_template,
)

#: The route key of the catch-all route: it takes what no other route takes.
DEFAULT_ROUTE = "$default"
PAYLOAD_2_0 = "2.0"
_IDENTITY_SOURCE = re.compile(r"\$(request\.header|request\.querystring|context|stageVariables)\.([\w.-]+)")


# The template ------------------------------------------------------------------------------------------


def load_served_api(
    template_path: Path, overrides: Mapping[str, str] | None = None, api_logical_id: str | None = None
) -> ApiSpec | HttpApiSpec:
    """The template's HTTP API when it declares HTTP APIs and no REST API, else its REST API."""
    if serves_http_api(template_path):
        return load_http_api(template_path, overrides, api_logical_id)
    return load_api(template_path, overrides, api_logical_id)


def serves_http_api(template_path: Path) -> bool:
    """True when the template's APIs are HTTP APIs (declared, or implicit in `HttpApi` events) only."""
    resources = read_template(template_path)["Resources"]
    kinds: set[object] = set()
    for resource in resources.values():
        if not isinstance(resource, dict):
            continue
        kinds.add(resource.get("Type"))
        events = (resource.get("Properties") or {}).get("Events") or {}
        kinds.update(event.get("Type") for event in events.values() if isinstance(event, dict))
    rest = kinds & {"AWS::Serverless::Api", "AWS::ApiGateway::RestApi", "Api"}
    http = kinds & {"AWS::Serverless::HttpApi", "AWS::ApiGatewayV2::Api", "HttpApi"}
    return bool(http) and not rest


def load_http_api(
    template_path: Path, overrides: Mapping[str, str] | None = None, api_logical_id: str | None = None
) -> HttpApiSpec:
    """Read, translate and resolve `template_path`; the HTTP API named `api_logical_id` (or the only one)."""
    stack = _load_stack(template_path, overrides or {})
    resources, functions = stack.resources, stack.functions
    apis = sorted(name for name, r in resources.items() if r["Type"] == "AWS::ApiGatewayV2::Api")
    if api_logical_id is not None and api_logical_id not in apis:
        raise TemplateError(f"no API {api_logical_id!r} in the template (found {apis})")
    if api_logical_id is None and len(apis) != 1:
        raise TemplateError(
            f"expected one REST API or one HTTP API, found {apis or 'none'}: choose with --api"
        )
    name = api_logical_id or apis[0]
    body = inline_body(resources, name)
    authorizers = _http_authorizers(body, functions)
    return HttpApiSpec(
        logical_id=name,
        stage=_stage_name(resources, name, ("AWS::ApiGatewayV2::Stage", "ApiId", name)),
        routes=_routes(body, functions, authorizers),  # type: ignore[arg-type]  # reads only the names
        authorizers=authorizers,
        functions=functions,
        parameters=stack.template_parameters(),
        tables=stack.tables(),
    )


def _http_authorizers(
    body: dict[str, Any], functions: dict[str, FunctionSpec]
) -> dict[str, HttpAuthorizerSpec]:
    authorizers = {}
    for name, definition in ((body.get("components") or {}).get("securitySchemes") or {}).items():
        extension = definition.get("x-amazon-apigateway-authorizer")
        if extension is None:
            continue
        if str(extension.get("type", "")).lower() != "request":
            raise TemplateError(f"authorizer {name}: only Lambda (REQUEST) authorizers run locally")
        sources = extension.get("identitySource") or []
        sources = [sources] if isinstance(sources, str) else sources
        for source in sources:
            if not isinstance(source, str) or not _IDENTITY_SOURCE.fullmatch(source):
                raise TemplateError(f"authorizer {name}: identity source {source!r} is not supported locally")
        version = str(extension.get("authorizerPayloadFormatVersion", ""))
        if version != PAYLOAD_2_0:
            raise TemplateError(f"authorizer {name}: only payload format 2.0 authorizers run locally")
        # Unset, an HTTP API caches nothing (the API reference: 0 turns caching off; SAM sets it from
        # ReauthorizeEvery).
        ttl = int(extension.get("authorizerResultTtlInSeconds", 0))
        if not 0 <= ttl <= 3600:
            raise TemplateError(f"authorizer {name}: ReauthorizeEvery {ttl} is outside 0..3600")
        if ttl > 0 and not sources:
            raise TemplateError(f"authorizer {name}: caching needs at least one identity source")
        authorizers[name] = HttpAuthorizerSpec(
            name=name,
            function=_function_of(extension.get("authorizerUri"), functions, f"authorizer {name}"),
            identity_sources=tuple(sources),
            payload_version=version,
            simple_responses=extension.get("enableSimpleResponses") is True,
            ttl_seconds=ttl,
        )
    return authorizers


# The authorizer's answers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpAuthorizerResult:
    """What the authorizer answered: a simple response, or an IAM policy (then `policy` is set)."""

    is_authorized: bool
    context: dict[str, Any]
    policy: dict[str, Any] | None = None
    principal_id: str | None = None

    @classmethod
    def parse(cls, result: object, simple_responses: bool) -> HttpAuthorizerResult:
        if not isinstance(result, dict):
            raise AuthorizerConfigurationError("the authorizer result is not an object")
        context = result.get("context") or {}
        if not isinstance(context, dict):
            raise AuthorizerConfigurationError("context is not an object")
        if simple_responses:
            verdict = result.get("isAuthorized")
            if not isinstance(verdict, bool):
                raise AuthorizerConfigurationError("isAuthorized is missing or not a boolean")
            return cls(verdict, dict(context))
        principal_id, policy = principal_and_policy(result)
        return cls(False, dict(context), policy, principal_id)

    def decision(self, route_arn: str) -> Decision:
        if self.policy is None:
            return Decision.ALLOW if self.is_authorized else Decision.IMPLICIT_DENY
        return evaluate_policy(self.policy, route_arn)


# The gateway -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Authorizer:
    spec: HttpAuthorizerSpec
    function: LambdaFunction
    cache: AuthorizerCache[tuple[str, ...], HttpAuthorizerResult]


@dataclass
class _Call:
    request: Request
    raw_path: str
    raw_query: str
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    route: RouteSpec | None = None
    path_parameters: dict[str, str] = field(default_factory=dict)
    authorizer: dict[str, Any] | None = None

    @property
    def route_key(self) -> str:
        assert self.route is not None  # noqa: S101 - set by handle() before anything reads it
        if self.route.path == DEFAULT_ROUTE:
            return DEFAULT_ROUTE
        return f"{self.route.method} {self.route.path}"

    @property
    def headers(self) -> dict[str, str]:
        """Payload 2.0 headers: names in lower case, repeated values joined with commas; no cookies."""
        joined: dict[str, str] = {}
        for name, value in self.request.headers:
            key = name.lower()
            if key != "cookie":
                joined[key] = f"{joined[key]},{value}" if key in joined else value
        return joined

    @property
    def cookies(self) -> list[str]:
        return [
            cookie.strip()
            for name, value in self.request.headers
            if name.lower() == "cookie"
            for cookie in value.split(";")
            if cookie.strip()
        ]

    def query(self) -> dict[str, str]:
        joined: dict[str, str] = {}
        for name, value in parse_qsl(self.raw_query, keep_blank_values=True):
            joined[name] = f"{joined[name]},{value}" if name in joined else value
        return joined


class HttpGateway:
    """The whole request pipeline of a local HTTP API, independent of any HTTP server (GatewayServer)."""

    def __init__(
        self,
        api: HttpApiSpec,
        functions: Mapping[str, LambdaFunction],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self._functions = functions
        self._default = next((route for route in api.routes if route.path == DEFAULT_ROUTE), None)
        self._routes = _RouteTable(tuple(route for route in api.routes if route.path != DEFAULT_ROUTE))
        self._authorizers = {
            name: _Authorizer(spec, functions[spec.function], AuthorizerCache(spec.ttl_seconds, clock))
            for name, spec in api.authorizers.items()
        }

    def handle(self, request: Request) -> Response:
        raw_path, query = split_target(request.target)
        call = _Call(request, raw_path, query)
        match = self._routes.find(request.method, raw_path)
        if match is None and self._default is not None:
            match = self._default, {}
        if match is None:
            return self._error(call, 404, "Not Found", "no such route")
        call.route, call.path_parameters = match
        decision = "open route"
        if call.route.authorizer is not None:
            denial, decision = self._authorize(call, self._authorizers[call.route.authorizer])
            if denial is not None:
                return denial
        response = self._integrate(call)
        response.decision = decision
        return response

    # The authorizer -----------------------------------------------------------------------------------

    def _authorize(self, call: _Call, authorizer: _Authorizer) -> tuple[Response | None, str]:
        spec = authorizer.spec
        identity = tuple(self._identity_value(call, source) for source in spec.identity_sources)
        missing = [source for source, value in zip(spec.identity_sources, identity, strict=True) if not value]
        if missing:
            reason = f"unauthorized ({', '.join(missing)} missing; authorizer not called)"
            return self._error(call, 401, UNAUTHORIZED, reason), reason
        key = tuple(value or "" for value in identity)
        route_arn = self._route_arn(call)
        result = authorizer.cache.get(key) if spec.identity_sources else None
        source = "cached"
        if result is None:
            source = "authorizer called"
            try:
                raw = authorizer.function.invoke(self._authorizer_event(call, key, route_arn))
            except Exception as error:  # what Lambda reports as the function's error
                if str(error) == UNAUTHORIZED:
                    return self._error(call, 401, UNAUTHORIZED, "unauthorized"), "unauthorized"
                reason = f"authorizer error ({type(error).__name__}: {error})"
                return self._error(call, 500, "Internal Server Error", reason), reason
            try:
                result = HttpAuthorizerResult.parse(raw, spec.simple_responses)
            except AuthorizerConfigurationError as problem:
                reason = f"authorizer answer refused ({problem})"
                return self._error(call, 500, "Internal Server Error", reason), reason
            if spec.identity_sources:
                authorizer.cache.put(key, result)
        verdict = result.decision(route_arn)
        summary = f"{f'principal {result.principal_id}, ' if result.principal_id else ''}{source}"
        if verdict is not Decision.ALLOW:
            reason = f"{verdict.value} ({summary})"
            return self._error(call, 403, "Forbidden", reason), reason
        call.authorizer = {"lambda": result.context}
        return None, f"allow ({summary})"

    def _identity_value(self, call: _Call, source: str) -> str | None:
        match = _IDENTITY_SOURCE.fullmatch(source)
        assert match is not None  # noqa: S101 - checked when the template was read
        kind, name = match.groups()
        if kind == "request.header":
            return call.headers.get(name.lower()) or None
        if kind == "request.querystring":
            return call.query().get(name) or None
        if kind == "context":
            return str(self._context_variables(call).get(name) or "") or None
        return None  # no stage variables here

    def _context_variables(self, call: _Call) -> dict[str, Any]:
        return {
            "routeKey": call.route_key,
            "httpMethod": call.request.method,
            "path": call.raw_path,
            "stage": self.api.stage,
            "requestId": call.request_id,
            "apiId": API_ID,
            "domainName": call.request.host,
            "identity.sourceIp": call.request.source_ip,
        }

    def _route_arn(self, call: _Call) -> str:
        # The request's own method and path, as the policy is evaluated against them.
        return (
            f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{API_ID}/{self.api.stage}/"
            f"{call.request.method}/{call.raw_path.removeprefix('/')}"
        )

    def _authorizer_event(self, call: _Call, identity: tuple[str, ...], route_arn: str) -> dict[str, Any]:
        return {
            "version": PAYLOAD_2_0,
            "type": "REQUEST",
            "routeArn": route_arn,
            "identitySource": list(identity),
            **self._request_fields(call),
        }

    # The integration ----------------------------------------------------------------------------------

    def _integrate(self, call: _Call) -> Response:
        assert call.route is not None  # noqa: S101 - set by handle() before integrating
        function = self._functions[call.route.function]
        body, is_base64 = _event_body(call.request)
        event = {
            "version": PAYLOAD_2_0,
            **self._request_fields(call),
            **({"body": body} if body is not None else {}),
            "isBase64Encoded": is_base64,
        }
        if call.authorizer is not None:
            event["requestContext"]["authorizer"] = call.authorizer
        try:
            return _payload_2_0_response(function.invoke(event), call.request_id)
        except Exception:
            print(f"{call.route.function} failed:\n{traceback.format_exc()}", file=sys.stderr, end="")
            return self._error(call, 500, "Internal Server Error", "function error")

    def _request_fields(self, call: _Call) -> dict[str, Any]:
        """What the authorizer's event and the function's event both carry about the request."""
        request, headers = call.request, call.headers
        forwarded = {
            "x-forwarded-for": request.source_ip,
            "x-forwarded-port": request.host.rpartition(":")[2] if ":" in request.host else "80",
            "x-forwarded-proto": "http",
        }
        headers = {**headers, **{name: value for name, value in forwarded.items() if name not in headers}}
        query = call.query()
        return {
            "routeKey": call.route_key,
            "rawPath": call.raw_path,
            "rawQueryString": call.raw_query,
            **({"cookies": call.cookies} if call.cookies else {}),
            "headers": headers,
            **({"queryStringParameters": query} if query else {}),
            "requestContext": {
                "accountId": ACCOUNT_ID,
                "apiId": API_ID,
                "domainName": request.host,
                "domainPrefix": request.host.partition(".")[0],
                "http": {
                    "method": request.method,
                    "path": call.raw_path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": request.source_ip,
                    "userAgent": headers.get("user-agent", ""),
                },
                "requestId": call.request_id,
                "routeKey": call.route_key,
                "stage": self.api.stage,
                "time": call.started.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "timeEpoch": int(call.started.timestamp() * 1000),
            },
            **({"pathParameters": dict(call.path_parameters)} if call.path_parameters else {}),
        }

    # API Gateway's own answers ------------------------------------------------------------------------

    @staticmethod
    def _error(call: _Call, status: int, message: str, decision: str) -> Response:
        body = ('{"message":"' + message + '"}').encode()
        headers = [("Content-Type", "application/json"), ("apigw-requestid", call.request_id)]
        return Response(status, headers, body, decision)


def _payload_2_0_response(result: object, request_id: str) -> Response:
    """The function's answer as an HTTP API reads payload 2.0: a `statusCode` object is the response; any
    other JSON value is a 200 body (the "inferred" format); malformed → 500."""
    if not (isinstance(result, dict) and "statusCode" in result):
        inferred = result if isinstance(result, str) else json.dumps(result)
        return Response(
            200, [("Content-Type", "application/json"), ("apigw-requestid", request_id)], inferred.encode()
        )
    status = result.get("statusCode")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedProxyResponse(f"statusCode {status!r} is not an HTTP status")
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        raise MalformedProxyResponse("body must be a string")
    single = result.get("headers") or {}
    if not isinstance(single, dict):
        raise MalformedProxyResponse("headers is not an object")
    headers = [(name, _scalar(value)) for name, value in single.items()]
    cookies = result.get("cookies") or []
    if not isinstance(cookies, list) or not all(isinstance(cookie, str) for cookie in cookies):
        raise MalformedProxyResponse("cookies is not a list of strings")
    headers.extend(("Set-Cookie", cookie) for cookie in cookies)
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    headers.append(("apigw-requestid", request_id))
    raw = (body or "").encode()
    if result.get("isBase64Encoded") is True:
        raw = base64.b64decode(body or "")
    return Response(status, headers, raw)
