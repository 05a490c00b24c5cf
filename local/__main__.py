"""`python -m local dev | token | rotate-key | dynamodb | sam-local`: what `make dev`, `make token`,
`make rotate-key` and `make sam-local` run, and a local DynamoDB with the template's tables on its own."""

from __future__ import annotations

import argparse
import base64
import json
import signal
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from local import authorizer_env
from local.dpop_client import ProofKey
from local.dynamodb import DEFAULT_PORT as DEFAULT_DYNAMODB_PORT
from local.dynamodb import LocalDynamoDB, LocalDynamoDBError
from local.http_api import load_served_api
from local.lambdas import FunctionLoadError
from local.provider import TOKEN_PATH, ConfigError, KeyStore, ProviderConfig
from local.sam_local import SamLocalError, SamLocalOptions, split_arguments
from local.sam_local import run as run_sam_local
from local.serving import PortUnavailable
from local.stack import LocalStack, StackOptions
from local.template import HttpApiSpec, TemplateError

DEFAULT_CLIENT = ("dev-client", "dev-secret")
#: Where template.yaml serves its RFC 9728 metadata (functions/api/messages_api/resource_metadata.py).
METADATA_PATH = "/.well-known/oauth-protected-resource"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    dev = commands.add_parser("dev", help="run the provider and the API in the foreground")
    dev.add_argument("--template", type=Path, default=StackOptions.template)
    dev.add_argument(
        "--provider-config",
        type=Path,
        default=StackOptions.provider_config,
        help="the local provider's audience, scopes and clients (default: local/provider.json)",
    )
    dev.add_argument("--api-port", type=int, default=3000)
    dev.add_argument("--provider-port", type=int, default=3001)
    dev.add_argument("--dynamodb-port", type=int, default=DEFAULT_DYNAMODB_PORT)
    dev.add_argument(
        "--dynamodb-endpoint", help="a DynamoDB of your own for the functions (then none is started)"
    )
    dev.add_argument("--issuer", help="trust this external issuer instead of the local provider")
    dev.add_argument("--audience", help="the audience tokens of --issuer carry")
    dev.add_argument("--jwks-uri", help="the JWKS URL of --issuer, to skip discovery")
    dev.add_argument(
        "--parameter", action="append", default=[], metavar="NAME=VALUE", help="a template parameter"
    )

    token = commands.add_parser("token", help="print an access token from the running local provider")
    token.add_argument("--provider-port", type=int, default=3001)
    token.add_argument("--scope", default="", help="space-separated scopes (default: all the client's)")
    token.add_argument("--client-id", default=DEFAULT_CLIENT[0])
    token.add_argument("--client-secret", help="default: the client's secret in local/provider.json")
    token.add_argument(
        "--dpop",
        action="store_true",
        help="send a DPoP proof: the token is bound to this machine's key (.local/dpop-key.pem)",
    )

    proof = commands.add_parser("proof", help="print a DPoP proof for one request, signed with the DPoP key")
    proof.add_argument("--method", default="GET", help="the request's method (default GET)")
    proof.add_argument("--url", required=True, help="the URL the request calls, as the client calls it")
    proof.add_argument("--token", required=True, help="the access token sent with it (for ath)")

    commands.add_parser("rotate-key", help="start signing with a new key; the old one stays published")

    dynamodb = commands.add_parser(
        "dynamodb", help="only a DynamoDB with the template's tables, in the foreground (for sam local)"
    )
    dynamodb.add_argument("--template", type=Path, default=StackOptions.template)
    dynamodb.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    dynamodb.add_argument("--port", type=int, default=DEFAULT_DYNAMODB_PORT)

    sam = commands.add_parser("sam-local", help="the provider and `sam local start-api`, in the foreground")
    sam.add_argument("--template", type=Path, default=StackOptions.template)
    sam.add_argument("--sam", required=True, help="the SAM CLI to run")
    sam.add_argument("--api-port", type=int, default=3000)
    sam.add_argument("--provider-port", type=int, default=3001)
    sam.add_argument("--dynamodb-port", type=int, default=DEFAULT_DYNAMODB_PORT)
    sam.add_argument("--runtime-python", help="the functions' runtime Python, if not on PATH by its name")
    sam.add_argument("--sam-args", default="", help="more arguments for sam local start-api, one string")
    sam.add_argument(
        "--parameter", action="append", default=[], metavar="NAME=VALUE", help="a template parameter"
    )

    args = parser.parse_args(argv)
    try:
        if args.command == "dev":
            return _dev(args)
        if args.command == "token":
            return _token(args)
        if args.command == "proof":
            return _proof(args)
        if args.command == "dynamodb":
            return _dynamodb(args)
        if args.command == "sam-local":
            return _sam_local(args)
        return _rotate_key()
    except (
        ConfigError,
        TemplateError,
        FunctionLoadError,
        LocalDynamoDBError,
        SamLocalError,
        PortUnavailable,
        ValueError,
        OSError,
    ) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _parameters(items: list[str]) -> dict[str, str]:
    """The template parameters given as --parameter NAME=VALUE."""
    parameters = {}
    for item in items:
        name, separator, value = item.partition("=")
        if not separator:
            raise ValueError(f"--parameter {item!r} is not NAME=VALUE")
        parameters[name] = value
    return parameters


def _dev(args: argparse.Namespace) -> int:
    parameters = _parameters(args.parameter)
    options = StackOptions(
        template=args.template,
        provider_config=args.provider_config,
        api_port=args.api_port,
        provider_port=args.provider_port,
        dynamodb_port=args.dynamodb_port,
        dynamodb_endpoint=args.dynamodb_endpoint or None,
        external_issuer=args.issuer or None,
        external_audience=args.audience or None,
        external_jwks_uri=args.jwks_uri or None,
        parameters=parameters,
    )
    # The functions' cold starts take a few seconds; until the banner, the ports refuse connections.
    print("Starting: loading the template and the functions (a few seconds)...", flush=True)
    stack = LocalStack(options, log=lambda line: print(line, flush=True))
    stack.start()
    settings = authorizer_environment(stack)
    if settings is not None:
        authorizer_env.write(settings)
    try:
        print(_banner(stack, explain=settings is not None), flush=True)
        _wait_for_a_stop_signal()
    finally:
        if settings is not None:
            authorizer_env.remove()
        stack.stop()
    print("stopped", flush=True)
    return 0


def authorizer_environment(stack: LocalStack) -> dict[str, str] | None:
    """The environment the stack's authorizer runs with (the API's first, if it has several)."""
    api = stack.api
    return next((dict(api.functions[spec.function].environment) for spec in api.authorizers.values()), None)


def _dynamodb(args: argparse.Namespace) -> int:
    # Translated with the template's defaults: the tables do not depend on the provider parameters.
    parameters = {"IssuerUrl": "https://issuer.invalid", "Audience": "local"}
    tables = load_served_api(args.template, parameters).tables
    if not tables:
        raise ValueError(f"{args.template} has no AWS::DynamoDB::Table")
    dynamodb = LocalDynamoDB(args.host, args.port)
    dynamodb.start()
    try:
        dynamodb.create_tables(tables.values())
        names = ", ".join(table.name for table in tables.values())
        print(f"DynamoDB  {dynamodb.url}  (moto, in memory; tables {names}). Ctrl-C stops it.", flush=True)
        _wait_for_a_stop_signal()
    finally:
        dynamodb.stop()
    return 0


def _wait_for_a_stop_signal() -> None:
    stopped = threading.Event()
    # Ctrl-C or a TERM stops the servers, even when started in the background with SIGINT ignored.
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stopped.set())
    while not stopped.wait(0.5):
        pass


def _sam_local(args: argparse.Namespace) -> int:
    options = SamLocalOptions(
        sam=args.sam,
        api_port=args.api_port,
        provider_port=args.provider_port,
        dynamodb_port=args.dynamodb_port,
        sam_arguments=split_arguments(args.sam_args),
        runtime_python=args.runtime_python or None,
        template=args.template.resolve(),
        parameters=tuple(_parameters(args.parameter).items()),
    )
    return run_sam_local(options)


def _banner(stack: LocalStack, explain: bool = False) -> str:
    api = stack.api
    authorizer = authorizer_environment(stack) or {}
    kind = "HTTP API, " if isinstance(api, HttpApiSpec) else ""
    lines = [
        "",
        f"API       {stack.api_url}  ({kind}stage {api.stage}, template {stack.options.template.name})",
    ]
    for route in sorted(api.routes, key=lambda r: (r.path, r.method)):
        guard = f"authorizer {route.authorizer}" if route.authorizer else "open"
        lines.append(f"          {route.method:<6} {route.path:<20} → {route.function} ({guard})")
    if any(route.path == METADATA_PATH for route in api.routes):
        lines.append(
            f"Metadata  {stack.api_url}{METADATA_PATH}  (RFC 9728: issuer and scopes"
            + ("; the 401 points here)" if not kind else ")")
        )
    if stack.dynamodb is not None:
        names = ", ".join(table.name for table in api.tables.values())
        lines.append(f"DynamoDB  {stack.dynamodb_url}  (moto, in memory while this runs; tables {names})")
    if stack.provider_url and stack.issuer is not None:
        client_id, secret = DEFAULT_CLIENT
        token_url = f"{stack.provider_url}{TOKEN_PATH}"
        client_scopes = stack.issuer.config.clients[client_id].scopes
        provider_port = stack.provider_url.rsplit(":", 1)[1]
        port_argument = "" if provider_port == "3001" else f" PROVIDER_PORT={provider_port}"
        lines += [
            f"Provider  {stack.provider_url}  (issuer; discovery at /.well-known/openid-configuration)",
            f"          token endpoint {token_url}, audience {stack.issuer.config.audience}",
            f"Client    {client_id} / {secret}  (scopes: {' '.join(sorted(client_scopes))})",
            "",
            "Try it (in another terminal):",
            f"  TOKEN=$(curl -s -u {client_id}:{secret} -d grant_type=client_credentials {token_url} \\",
            "    | python3 -c 'import json, sys; print(json.load(sys.stdin)[\"access_token\"])')",
            f'  curl -i -H "Authorization: Bearer $TOKEN" {stack.api_url}/profile',
            f'  http {stack.api_url}/profile "Authorization:Bearer $TOKEN"',
            f"  (or TOKEN=$(make -s token{port_argument}))",
        ]
    else:
        lines.append(
            f"Issuer    {authorizer.get('ISSUER')} (audience {authorizer.get('AUDIENCE')}):"
            " use tokens from your provider"
        )
    if explain:
        location = authorizer_env.PATH.relative_to(authorizer_env.PATH.parent.parent)
        lines.append(
            f"Explain   make explain TOKEN=$TOKEN  (why a token passes or not; settings: {location})"
        )
    lines += ["", "Ctrl-C stops everything. One line per request follows.", ""]
    return "\n".join(lines)


def _token(args: argparse.Namespace) -> int:
    fields = {"grant_type": "client_credentials"}
    if args.scope.strip():
        fields["scope"] = " ".join(args.scope.split())
    secret = args.client_secret
    if secret is None:
        client = ProviderConfig.load(StackOptions().provider_config).clients.get(args.client_id)
        if client is None or client.secret is None:
            print(
                f"error: {args.client_id} is not a client of local/provider.json with a secret"
                " (the client credentials grant)",
                file=sys.stderr,
            )
            return 1
        secret = client.secret
    credentials = f"{urllib.parse.quote_plus(args.client_id)}:{urllib.parse.quote_plus(secret)}"
    endpoint = f"http://127.0.0.1:{args.provider_port}{TOKEN_PATH}"
    headers = {
        "Authorization": "Basic " + base64.b64encode(credentials.encode()).decode(),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    if args.dpop:
        # RFC 9449 section 5: a proof for this POST binds the token to the key (cnf.jkt, token_type DPoP).
        headers["DPoP"] = ProofKey.load_or_create().proof("POST", endpoint)
    request = urllib.request.Request(endpoint, data=urllib.parse.urlencode(fields).encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            print(json.load(response)["access_token"])
            return 0
    except urllib.error.HTTPError as error:
        print(f"error: the token endpoint answered {error.code}: {error.read().decode()}", file=sys.stderr)
    except urllib.error.URLError:
        print(
            f"error: no local provider answers on 127.0.0.1:{args.provider_port} (PROVIDER_PORT):"
            " start one with `make dev` in another terminal, or, if it runs on another port, say which:"
            " make token PROVIDER_PORT=<its port>",
            file=sys.stderr,
        )
    return 1


def _proof(args: argparse.Namespace) -> int:
    """A proof for one request: a fresh jti and iat each time, so print a new one for every call."""
    print(ProofKey.load_or_create().proof(args.method, args.url, args.token.strip()))
    return 0


def _rotate_key() -> int:
    options = StackOptions()
    config = ProviderConfig.load(options.provider_config)
    keys = KeyStore(options.key_file)
    previous = keys.active().kid
    new = keys.rotate(config.token_lifetime_seconds)
    print(
        f"signing with {new.kid} now; {previous} stays in the JWKS for"
        f" {config.token_lifetime_seconds}s more, until its last token has expired"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
