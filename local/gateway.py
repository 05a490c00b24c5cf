"""A local API Gateway (REST) for the API in template.yaml: routes, TOKEN authorizer, proxy events.

`Gateway.handle` is the whole request pipeline, independent of any HTTP server; `GatewayServer` puts it
on a port. Each request ends in one console line: method, path, status, latency, authorizer decision.
"""

from __future__ import annotations

import base64
import re
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from local.apigateway import (
    ACCOUNT_ID,
    API_ID,
    AuthorizerCache,
    AuthorizerConfigurationError,
    AuthorizerResult,
    Decision,
    GatewayResponses,
    evaluate_policy,
    identity_is_acceptable,
    method_arn,
    remapped_header,
    routed_path,
    routed_segments,
)
from local.lambdas import LambdaFunction
from local.request_authorizer import cache_key, missing_identity, request_authorizer_event
from local.serving import BackgroundServer, KeepAliveHandler
from local.template import ApiSpec, AuthorizerSpec, RouteSpec

#: The error text a TOKEN authorizer raises for API Gateway to answer 401.
UNAUTHORIZED = "Unauthorized"
_ERROR_TYPES = {
    "UNAUTHORIZED": "UnauthorizedException",
    "ACCESS_DENIED": "AccessDeniedException",
    "AUTHORIZER_FAILURE": "AuthorizerFailureException",
    "AUTHORIZER_CONFIGURATION_ERROR": "AuthorizerConfigurationException",
    "MISSING_AUTHENTICATION_TOKEN": "MissingAuthenticationTokenException",
}


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # path and query string, as received
    headers: list[tuple[str, str]]
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    host: str = "127.0.0.1"


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    decision: str = "-"  # what the authorizer step decided, for the console


@dataclass(frozen=True)
class _Authorizer:
    spec: AuthorizerSpec
    function: LambdaFunction
    expression: re.Pattern[str] | None
    cache: AuthorizerCache[str, AuthorizerResult]


@dataclass
class _Call:
    """One request on its way through the pipeline, with the `$context` variables it has so far."""

    request: Request
    raw_path: str  # as the client sent it: percent-encoded, doubled slashes and all
    query: list[tuple[str, str]]
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    route: RouteSpec | None = None
    path_parameters: dict[str, str] = field(default_factory=dict)
    authorizer: dict[str, Any] | None = None

    @property
    def path(self) -> str:
        """The path the proxy event carries (`event.path`)."""
        return routed_path(self.raw_path)

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.request.headers if key.lower() == name.lower()]
        return values[-1] if values else None


class Gateway:
    def __init__(
        self,
        api: ApiSpec,
        functions: Mapping[str, LambdaFunction],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.api = api
        self._functions = functions
        self._routes = _RouteTable(api.routes)
        self._responses = GatewayResponses(api.gateway_responses)
        self._authorizers = {
            name: _Authorizer(
                spec=spec,
                function=functions[spec.function],
                expression=re.compile(spec.validation_expression) if spec.validation_expression else None,
                cache=AuthorizerCache(spec.ttl_seconds, clock),
            )
            for name, spec in api.authorizers.items()
        }

    def handle(self, request: Request) -> Response:
        raw_path, query = split_target(request.target)
        call = _Call(request, raw_path, parse_qsl(query, keep_blank_values=True))
        match = self._routes.find(request.method, call.raw_path)
        if match is None:
            response = self._gateway_response(
                call, "MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token"
            )
            response.decision = "no such route"
            return response
        call.route, call.path_parameters = match
        decision = "open route"
        if call.route.authorizer is not None:
            denial, decision = self._authorize(call, self._authorizers[call.route.authorizer])
            if denial is not None:
                denial.decision = decision
                return denial
        response = self._integrate(call)
        response.decision = decision
        return response

    # The authorizer -----------------------------------------------------------------------------------

    def _authorize(self, call: _Call, authorizer: _Authorizer) -> tuple[Response | None, str]:
        assert call.route is not None  # noqa: S101 - set by handle() before authorizing
        arn = method_arn(API_ID, self.api.stage, call.request.method, call.raw_path)
        if authorizer.spec.kind == "REQUEST":
            missing = missing_identity(authorizer.spec.identity_headers, call.header)
            if missing is not None:
                return (
                    self._gateway_response(call, "UNAUTHORIZED", UNAUTHORIZED),
                    f"unauthorized ({missing} missing; authorizer not called)",
                )
            identity = cache_key(authorizer.spec.identity_headers, call.header)
            event = self._request_authorizer_event(call, arn)
        else:
            identity = call.header(authorizer.spec.identity_header)
            if identity is None or not identity_is_acceptable(identity, authorizer.expression):
                reason = "missing" if identity is None else "fails the validation expression"
                return (
                    self._gateway_response(call, "UNAUTHORIZED", UNAUTHORIZED),
                    f"unauthorized ({authorizer.spec.identity_header} {reason}; authorizer not called)",
                )
            event = {"type": "TOKEN", "authorizationToken": identity, "methodArn": arn}
        result = authorizer.cache.get(identity) if identity is not None else None
        source = "cached"
        latency_ms = 0
        if result is None:
            source = "authorizer called"
            started = time.perf_counter()
            try:
                raw = authorizer.function.invoke(event)
            except Exception as error:  # what Lambda reports as the function's error
                if str(error) == UNAUTHORIZED:
                    return self._gateway_response(call, "UNAUTHORIZED", UNAUTHORIZED), "unauthorized"
                return (
                    self._gateway_response(call, "AUTHORIZER_FAILURE", None),
                    f"authorizer error ({type(error).__name__}: {error})",
                )
            latency_ms = round((time.perf_counter() - started) * 1000)
            try:
                result = AuthorizerResult.parse(raw)
            except AuthorizerConfigurationError as problem:
                return (
                    self._gateway_response(call, "AUTHORIZER_CONFIGURATION_ERROR", None),
                    f"authorizer configuration error ({problem})",
                )
            if identity is not None:
                authorizer.cache.put(identity, result)
        call.authorizer = result.request_context(latency_ms)
        verdict = evaluate_policy(result.policy, arn)
        summary = f"principal {result.principal_id}, {source}"
        if verdict is Decision.EXPLICIT_DENY:
            message = "User is not authorized to access this resource with an explicit deny"
            return self._gateway_response(call, "ACCESS_DENIED", message), f"deny ({summary})"
        if verdict is Decision.IMPLICIT_DENY:
            message = "User is not authorized to access this resource"
            return self._gateway_response(call, "ACCESS_DENIED", message), f"no allow ({summary})"
        return None, f"allow ({summary})"

    def _request_authorizer_event(self, call: _Call, arn: str) -> dict[str, Any]:
        assert call.route is not None  # noqa: S101 - set by handle() before authorizing
        request = call.request
        return request_authorizer_event(
            method_arn=arn,
            resource=call.route.path,
            path=call.path,
            raw_path=call.raw_path,
            method=request.method,
            headers=[*request.headers, *self._forwarding_headers(request)],
            query=call.query,
            path_parameters=call.path_parameters,
            stage=self.api.stage,
            host=request.host,
            request_id=call.request_id,
            identity=_identity(request, call.header("User-Agent")),
            api_id=API_ID,
            account_id=ACCOUNT_ID,
        )

    # The integration ----------------------------------------------------------------------------------

    def _integrate(self, call: _Call) -> Response:
        assert call.route is not None  # noqa: S101 - set by handle() before integrating
        function = self._functions[call.route.function]
        try:
            result = function.invoke(self._proxy_event(call))
            return _proxy_response(result, call.request_id)
        except Exception:
            print(f"{call.route.function} failed:\n{traceback.format_exc()}", file=sys.stderr, end="")
            response = self._gateway_response(call, "BAD_GATEWAY", "Internal server error")
            return response

    def _proxy_event(self, call: _Call) -> dict[str, Any]:
        route, request = call.route, call.request
        assert route is not None  # noqa: S101 - set by handle() before integrating
        multi_headers: dict[str, list[str]] = {}
        for name, value in [*request.headers, *self._forwarding_headers(request)]:
            multi_headers.setdefault(name, []).append(value)
        multi_query: dict[str, list[str]] = {}
        for name, value in call.query:
            multi_query.setdefault(name, []).append(value)
        body, is_base64 = _event_body(request)
        return {
            "resource": route.path,
            "path": call.path,
            "httpMethod": request.method,
            "headers": {name: values[-1] for name, values in multi_headers.items()} or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": call.path_parameters or None,
            "stageVariables": None,
            "requestContext": {
                "resourceId": _resource_id(route.path),
                "resourcePath": route.path,
                "httpMethod": request.method,
                "extendedRequestId": call.request_id,
                "requestTime": call.started.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                # The path the client sent, spelled as sent: this gateway serves the stage at the root
                # of its host, as API Gateway serves a custom domain mapped to the stage with an empty
                # base path.
                "path": call.raw_path,
                "accountId": ACCOUNT_ID,
                "protocol": "HTTP/1.1",
                "stage": self.api.stage,
                "domainPrefix": request.host.split(".")[0],
                "requestTimeEpoch": int(call.started.timestamp() * 1000),
                "requestId": call.request_id,
                "identity": _identity(request, call.header("User-Agent")),
                "domainName": request.host,
                "deploymentId": "local",
                "apiId": API_ID,
                **({"authorizer": call.authorizer} if call.authorizer is not None else {}),
            },
            "body": body,
            "isBase64Encoded": is_base64,
        }

    @staticmethod
    def _forwarding_headers(request: Request) -> list[tuple[str, str]]:
        present = {name.lower() for name, _ in request.headers}
        port = request.host.rpartition(":")[2] if ":" in request.host else "80"
        added = [
            ("X-Forwarded-For", request.source_ip),
            ("X-Forwarded-Port", port),
            ("X-Forwarded-Proto", "http"),
        ]
        return [(name, value) for name, value in added if name.lower() not in present]

    # Gateway responses -------------------------------------------------------------------------------

    def _gateway_response(self, call: _Call, response_type: str, message: str | None) -> Response:
        context: dict[str, Any] = {
            "requestId": call.request_id,
            "extendedRequestId": call.request_id,
            "httpMethod": call.request.method,
            "path": call.raw_path,
            "resourcePath": call.route.path if call.route else None,
            "stage": self.api.stage,
            "apiId": API_ID,
            "accountId": ACCOUNT_ID,
            "domainName": call.request.host,
            "identity.sourceIp": call.request.source_ip,
            "identity.userAgent": call.header("User-Agent"),
            "requestTime": call.started.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(call.started.timestamp() * 1000),
        }
        for key, value in (call.authorizer or {}).items():
            context[f"authorizer.{key}"] = value
        rendered = self._responses.render(
            response_type,
            message,
            context,
            dict(call.request.headers),
            dict(call.query),
        )
        headers = [*rendered.headers.items(), ("x-amzn-RequestId", call.request_id)]
        if response_type in _ERROR_TYPES:
            headers.append(("x-amzn-ErrorType", _ERROR_TYPES[response_type]))
        return Response(rendered.status, headers, rendered.body.encode())


class _RouteTable:
    """Resource paths matched as API Gateway does: literal segments before {param}, then {proxy+}."""

    def __init__(self, routes: tuple[RouteSpec, ...]) -> None:
        self._routes = sorted(routes, key=lambda route: _specificity(route.path), reverse=True)

    def find(self, method: str, path: str) -> tuple[RouteSpec, dict[str, str]] | None:
        for resource in dict.fromkeys(route.path for route in self._routes):
            parameters = _match_resource(resource, path)
            if parameters is None:
                continue
            candidates = [route for route in self._routes if route.path == resource]
            for wanted in (method, "ANY"):
                for route in candidates:
                    if route.method == wanted:
                        return route, parameters
            return None  # the resource exists without this method: API Gateway answers 403 too
        return None


def _specificity(path: str) -> tuple[int, ...]:
    return tuple(
        0 if segment.endswith("+}") else 1 if segment.startswith("{") else 2
        for segment in path.strip("/").split("/")
    )


def _match_resource(resource: str, path: str) -> dict[str, str] | None:
    # Segments compare exactly: letter case and percent-encodings included, and a parameter's value stays
    # encoded (docs/local-stack.md, "Paths and their spellings").
    wanted = resource.strip("/").split("/") if resource.strip("/") else []
    actual = routed_segments(path)
    parameters: dict[str, str] = {}
    for index, segment in enumerate(wanted):
        if segment.startswith("{") and segment.endswith("+}"):
            rest = "/".join(actual[index:])
            if not rest:
                return None
            parameters[segment[1:-2]] = rest
            return parameters
        if index >= len(actual) or not actual[index]:
            return None  # an empty segment is no value of a parameter and no literal segment
        if segment.startswith("{") and segment.endswith("}"):
            parameters[segment[1:-1]] = actual[index]
        elif segment != actual[index]:
            return None
    return parameters if len(actual) == len(wanted) else None


def split_target(target: str) -> tuple[str, str]:
    """The path (still percent-encoded) and the query of a request target.

    A target that starts with `//` is a path (`//orders`), not a URL's authority as urlsplit reads it;
    only an absolute URL (`http://host/path`) is split as one.
    """
    if not target.startswith("/"):
        parts = urlsplit(target)
        return parts.path or "/", parts.query
    path, _, query = target.partition("?")
    return path.partition("#")[0], query


def _resource_id(path: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, path).hex[:6]


def _identity(request: Request, user_agent: str | None) -> dict[str, Any]:
    fields = (
        "cognitoIdentityPoolId",
        "accountId",
        "cognitoIdentityId",
        "caller",
        "accessKey",
        "cognitoAuthenticationType",
        "cognitoAuthenticationProvider",
        "userArn",
        "user",
    )
    return {**dict.fromkeys(fields), "sourceIp": request.source_ip, "userAgent": user_agent}


def _event_body(request: Request) -> tuple[str | None, bool]:
    if not request.body:
        return None, False
    try:
        return request.body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(request.body).decode(), True


class MalformedProxyResponse(Exception):
    pass


def _proxy_response(result: object, request_id: str) -> Response:
    """The function's answer as API Gateway's proxy integration reads it; malformed → 502."""
    if not isinstance(result, dict):
        raise MalformedProxyResponse("the function's result is not an object")
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedProxyResponse(f"statusCode {status!r} is not an HTTP status")
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        raise MalformedProxyResponse("body must be a string")
    headers: list[tuple[str, str]] = []
    for name, values in (result.get("multiValueHeaders") or {}).items():
        if not isinstance(values, list):
            raise MalformedProxyResponse(f"multiValueHeaders[{name!r}] is not a list")
        headers.extend((remapped_header(name), _scalar(value)) for value in values)
    single = result.get("headers") or {}
    if not isinstance(single, dict):
        raise MalformedProxyResponse("headers is not an object")
    headers.extend((remapped_header(name), _scalar(value)) for name, value in single.items())
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    headers.append(("x-amzn-RequestId", request_id))
    raw = (body or "").encode()
    if result.get("isBase64Encoded") is True:
        raw = base64.b64decode(body or "")
    return Response(status, headers, raw)


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise MalformedProxyResponse(f"header value {value!r} is not a string")


# The HTTP server ---------------------------------------------------------------------------------------

Log = Callable[[str], None]


class RequestPipeline(Protocol):
    """A gateway's whole pipeline: this module's REST API, or local/http_api.py's HTTP API."""

    def handle(self, request: Request) -> Response: ...


def console_line(request: Request, response: Response, latency_ms: float) -> str:
    path = split_target(request.target)[0]
    return f"{request.method} {path} → {response.status} in {latency_ms:.1f} ms · {response.decision}"


class GatewayServer(BackgroundServer):
    """Binds first, so a port of 0 has its number for the template (PublicApiUrl); then `start()`.

    `gateway` may be set after construction, before `start()`.
    """

    def __init__(
        self, gateway: RequestPipeline | None, host: str = "127.0.0.1", port: int = 3000, log: Log = print
    ) -> None:
        self.gateway = gateway
        server = self

        class Handler(KeepAliveHandler):
            def _serve(self) -> None:
                started = time.perf_counter()
                length = self.headers.get("Content-Length")
                if self.headers.get("Transfer-Encoding"):
                    self._write(Response(411, [("Content-Type", "text/plain")], b"Content-Length required\n"))
                    self.close_connection = True
                    return
                body = self.rfile.read(int(length)) if length and length.isdigit() else b""
                request = Request(
                    method=self.command,
                    # As received: http.server turns a leading `//` into `/` in self.path (gh-87389), and
                    # a REST API passes that spelling on (docs/local-stack.md).
                    target=self.requestline.split()[1],
                    headers=list(self.headers.items()),
                    body=body,
                    source_ip=self.client_address[0],
                    host=self.headers.get("Host") or f"{host}:{server.port}",
                )
                if server.gateway is None:
                    raise RuntimeError("GatewayServer started before its gateway was set")
                response = server.gateway.handle(request)
                # Logged before the answer is written, so whoever gets the answer can see the line.
                log(console_line(request, response, (time.perf_counter() - started) * 1000))
                self._write(response)

            def _write(self, response: Response) -> None:
                self.send_response(response.status)
                for name, value in response.headers:
                    if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(response.body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass  # one line per request is written by _serve

        super().__init__(host, port, Handler, "gateway")
