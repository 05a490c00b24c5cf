"""The local stack, as `make dev` and the end-to-end tests start it: the OpenID provider, a DynamoDB with
the template's tables (when a function declares `DYNAMODB_ENDPOINT_URL`) and the API gateway."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from local.dynamodb import ENDPOINT_VARIABLE, LocalDynamoDB
from local.gateway import Gateway, GatewayServer, Log
from local.http_api import HttpGateway, load_served_api
from local.lambdas import LambdaFunction
from local.provider import KeyStore, ProviderConfig, ProviderServer, TokenIssuer
from local.serving import port_of
from local.template import ApiSpec, HttpApiSpec, declared_parameters, declares_variable, with_variable

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class StackOptions:
    template: Path = ROOT / "template.yaml"
    host: str = "127.0.0.1"
    api_port: int = 3000
    provider_port: int = 3001
    #: 0: any free port (the functions are told which); `make dev` asks for DynamoDB Local's 8000.
    dynamodb_port: int = 0
    #: A DynamoDB of your own (DynamoDB Local, say) for the functions that declare DYNAMODB_ENDPOINT_URL;
    #: None: the stack serves the template's tables itself.
    dynamodb_endpoint: str | None = None
    provider_config: Path = ROOT / "local" / "provider.json"
    key_file: Path = ROOT / ".local" / "provider-keys.json"
    #: A real issuer and audience to trust instead of the local provider (which then does not start).
    external_issuer: str | None = None
    external_audience: str | None = None
    external_jwks_uri: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    api: str | None = None


class LocalStack:
    def __init__(
        self,
        options: StackOptions,
        log: Log = print,
        clock: Callable[[], float] = time.monotonic,
        provider_now: Callable[[], float] = time.time,
        wrap_issuer: Callable[[TokenIssuer], TokenIssuer] | None = None,
    ) -> None:
        """`wrap_issuer`, if given, wraps the local provider's issuer before the provider serves (and so
        before the authorizer's cold start fetches its keys): a test counts what it serves through it."""
        self.options = options
        self.provider: ProviderServer | None = None
        self.issuer: TokenIssuer | None = None
        self.dynamodb: LocalDynamoDB | None = None
        parameters = dict(options.parameters)
        if options.external_issuer:
            if not options.external_audience:
                raise ValueError("an external issuer needs its audience too")
            parameters |= {"IssuerUrl": options.external_issuer, "Audience": options.external_audience}
            parameters["JwksUri"] = options.external_jwks_uri or ""
        # Bound first: its URL is what PublicApiUrl means (clients call it; the 401 names its metadata),
        # and a resource the local provider issues tokens for. Bound, it refuses connections until start().
        with port_of("the API", "API_PORT"):
            self.api_server = GatewayServer(None, options.host, options.api_port, log=log)
        if not options.external_issuer:
            try:
                self.provider, self.issuer = _serve_provider(
                    options, log, provider_now, wrap_issuer, resources=(self.api_server.url,)
                )
            except BaseException:
                self.api_server.close()
                raise
            # The API's URL is a resource the provider issues tokens for (RFC 8707: MCP clients ask for
            # the `resource` of the API's metadata), so the authorizer accepts it as an audience too.
            audiences = f"{self.issuer.config.audience},{self.api_server.url}"
            parameters |= {"IssuerUrl": self.provider.url, "Audience": audiences}
        try:
            declared = declared_parameters(options.template)
            if "PublicApiUrl" in declared:
                parameters.setdefault("PublicApiUrl", self.api_server.url)
            self.api: ApiSpec | HttpApiSpec = load_served_api(options.template, parameters, options.api)
            if declares_variable(self.api, ENDPOINT_VARIABLE):
                endpoint = options.dynamodb_endpoint
                if endpoint is None:
                    with port_of("the local DynamoDB", "DYNAMODB_PORT"):
                        self.dynamodb = LocalDynamoDB(options.host, options.dynamodb_port)
                    self.dynamodb.start()
                    self.dynamodb.create_tables(self.api.tables.values())
                    endpoint = self.dynamodb.url
                self.api = with_variable(self.api, ENDPOINT_VARIABLE, endpoint)
            functions = {name: LambdaFunction(spec) for name, spec in self.api.functions.items()}
            for function in functions.values():
                function.load()  # cold starts now: a bad configuration stops `make dev` with its message
        except BaseException:
            self.api_server.close()
            if self.provider is not None:
                self.provider.stop()
            if self.dynamodb is not None:
                self.dynamodb.stop()
            raise
        self.gateway: Gateway | HttpGateway = (
            HttpGateway(self.api, functions, clock=clock)
            if isinstance(self.api, HttpApiSpec)
            else Gateway(self.api, functions, clock=clock)
        )
        self.api_server.gateway = self.gateway

    @property
    def api_url(self) -> str:
        return self.api_server.url

    @property
    def provider_url(self) -> str | None:
        return self.provider.url if self.provider else None

    @property
    def dynamodb_url(self) -> str | None:
        return self.dynamodb.url if self.dynamodb else None

    def start(self) -> None:
        """Listen on the API's port: until now, connections to it were refused, not left waiting."""
        self.api_server.start()

    def stop(self) -> None:
        self.api_server.stop()
        if self.provider is not None:
            self.provider.stop()
        if self.dynamodb is not None:
            self.dynamodb.stop()


def _serve_provider(
    options: StackOptions,
    log: Log,
    now: Callable[[], float],
    wrap_issuer: Callable[[TokenIssuer], TokenIssuer] | None,
    resources: tuple[str, ...],
) -> tuple[ProviderServer, TokenIssuer]:
    """The local provider, already serving: the authorizer's cold start fetches its keys from it."""
    config = ProviderConfig.load(options.provider_config)
    with port_of("the OpenID provider", "PROVIDER_PORT"):
        provider = ProviderServer(options.host, options.provider_port, log=log)
    try:
        keys = KeyStore(options.key_file, now=now)
        issuer = TokenIssuer(provider.url, config, keys, now=now, resources=resources)
        if wrap_issuer is not None:
            issuer = wrap_issuer(issuer)
        provider.issuer = issuer
        issuer.keys.active()  # the signing key exists before the first request needs it
    except BaseException:
        provider.close()
        raise
    provider.start()
    return provider, issuer
