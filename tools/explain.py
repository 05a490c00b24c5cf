"""Why the authorizer accepts or refuses a token, step by step.

    python -m tools.explain [--env-file FILE] [--proof PROOF --method GET --url URL] [TOKEN | -]

(with functions/authorizer on PYTHONPATH, as `make explain` runs it).

It reads the same environment variables as the authorizer (or the JSON object that
`aws lambda get-function-configuration --query Environment.Variables` prints) and runs the authorizer's
own checks one at a time — header, issuer, key, signature, each claim, scopes against each route — saying
what each found. The verdict comes from the real pipeline (`AuthorizerService.authorize`), so the
explanation can never approve a token the authorizer refuses. The signature is never printed.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from jwt_authorizer import (
    MAX_CONTEXT_BYTES,
    SCOPE_CLAIMS,
    SUPPORTED_ALGORITHMS,
    AuthorizerService,
    ConfigurationError,
    HttpJsonFetcher,
    IssuerRules,
    JsonFetcher,
    MethodArn,
    Reason,
    Settings,
    TokenRejected,
    TokenVerifier,
    UnverifiedToken,
    VerificationKey,
    VerificationUnavailable,
    bearer_token,
    build_authorizer,
    build_context,
    decode_unverified,
    granted_scopes,
    scopes_of,
)
from local import authorizer_env
from local.apigateway import AuthorizerResult
from tools import explain_dpop

#: The method ARN the verdict is asked for; the policy covers the whole stage, so any route will do.
_EXPLAIN_ARN = "arn:aws:execute-api:us-east-1:000000000000:explain/stage/GET/"
#: The URL a REQUEST event (DPOP not off) is made for when none is given.
_EXPLAIN_URL = "https://explain.invalid/stage/"

EXIT_ALLOWED = 0
EXIT_UNAUTHORIZED = 1
EXIT_UNAVAILABLE = 2
EXIT_BAD_CONFIGURATION = 3
#: Nothing to explain: no token given, or a settings file that cannot be read.
EXIT_USAGE = 4


@dataclass
class Explanation:
    text: str
    exit_code: int
    #: The authorizer's reason for a 401 (as in its logs and metrics), or None.
    reason: str | None = None
    #: Routes (as "METHOD /path") the token would get 403 on.
    denied: list[str] = field(default_factory=list)


class _Report:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.refused = False

    def section(self, title: str) -> None:
        self.lines += ["", title]

    def ok(self, text: str) -> None:
        self.lines.append(f"  [ok]   {text}")

    def fail(self, text: str) -> None:
        self.refused = True
        self.lines.append(f"  [FAIL] {text}")

    def note(self, text: str) -> None:
        self.lines.append(f"         {text}")

    def block(self, document: object) -> None:
        for line in json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False).splitlines():
            self.lines.append(f"         {line}")

    def rejected(self, rejection: TokenRejected, label: str = "", hint: str | None = None) -> None:
        detail = f" ({rejection.detail})" if rejection.detail else ""
        self.fail(f"{label}: {rejection.reason}{detail}" if label else f"{rejection.reason}{detail}")
        self.note(f"fix: {hint or rejection.reason.hint}")

    @property
    def text(self) -> str:
        return "\n".join(self.lines).lstrip("\n") + "\n"


class _RecordingFetcher:
    """The authorizer's own fetcher, noting what it fetched so the report can show it."""

    def __init__(self, inner: JsonFetcher) -> None:
        self._inner = inner
        self.fetched: list[tuple[str, Any]] = []

    def get_json(self, url: str, deadline: float) -> Any:
        document = self._inner.get_json(url, deadline)
        self.fetched.append((url, document))
        return document


class _RecordingTelemetry:
    """A Telemetry that keeps JWKS events for the report and stays silent otherwise: no logs, no metrics."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def allowed(self) -> None:
        pass

    def route_denied(self, route: str, subject: str, missing_scopes: list[str]) -> None:
        pass

    def rejected(self, reason: Reason, fields: dict[str, object], route: str | None) -> None:
        pass

    def unavailable(self, issuer: str | None, detail: str, route: str | None) -> None:
        pass

    def internal_error(self, route: str | None) -> None:
        pass

    def jwks_fetched(self, issuer: str, key_count: int, skipped: tuple[str, ...], reason: str) -> None:
        self.events.append(f"fetched {key_count} usable key(s) for {issuer}")
        self.events.extend(f"skipped {line}" for line in skipped)

    def jwks_fetch_failed(self, issuer: str, error: str, serving_stale: bool) -> None:
        self.events.append(f"could not fetch the keys of {issuer}: {error}")

    def flush_allowed(self) -> None:
        pass


def explain(
    token: str,
    settings: Settings,
    fetcher: JsonFetcher | None = None,
    now: Callable[[], float] = time.time,
    proof: str | None = None,
    method: str = "GET",
    url: str = _EXPLAIN_URL,
) -> Explanation:
    """Explain the authorizer's decision on `token` (a compact JWS, `Bearer <jwt>` or `DPoP <jwt>`), and
    on `proof`, the DPoP proof of a `method` call to `url` (explain_dpop.py)."""
    recording = _RecordingFetcher(fetcher or HttpJsonFetcher())
    telemetry = _RecordingTelemetry()
    service = build_authorizer(
        settings, telemetry=telemetry, fetcher=recording, now=now, replay=explain_dpop.NothingRecorded()
    )
    verifier = service.verifier
    report = _Report()
    _describe_settings(report, settings)

    authorization = token.strip()
    if not authorization.lower().startswith(("bearer ", "dpop ")):
        authorization = f"{'DPoP' if proof is not None else 'Bearer'} {authorization}"
    # The verdict first, from the real pipeline; the steps below then reuse the keys it fetched.
    event = (
        explain_dpop.request_event(authorization, proof, method, url)
        if settings.sender.request_events
        else {"type": "TOKEN", "authorizationToken": authorization, "methodArn": _EXPLAIN_ARN}
    )
    verdict = _verdict(service, event)

    report.section("1. Token")
    scheme, _, compact = authorization.partition(" ")
    try:
        unverified = decode_unverified(bearer_token(f"Bearer {compact}"))
    except TokenRejected as rejection:
        report.rejected(rejection)
        return _conclude(report, verdict)
    report.ok(f"one compact JWS; signature of {len(unverified.signature)} bytes (never shown)")
    _explain_steps(report, verifier, unverified, settings, recording, telemetry, now)
    if proof is not None:
        report.section("DPoP proof (RFC 9449)")
        if not settings.sender.request_events:
            report.fail("DPOP is off: the authorizer is a TOKEN authorizer and never sees a proof")
        for passed, line in explain_dpop.proof_lines(
            proof, method, url, compact, unverified.claims, settings, now()
        ):
            (report.note if passed is None else report.ok if passed else report.fail)(line)
    elif scheme.lower() == "dpop" or isinstance(unverified.claims.get("cnf"), dict):
        report.section("DPoP proof (RFC 9449)")
        report.note(
            "the token is bound or sent as DPoP: give the call's proof, method and URL to check it"
            " (make explain TOKEN=... PROOF=... METHOD=GET URL=https://...)"
        )
    return _conclude(report, verdict)


@dataclass
class _Verdict:
    exit_code: int
    reason: str | None = None
    detail: str = ""
    denied: list[str] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)


def _verdict(service: AuthorizerService, event: dict[str, Any]) -> _Verdict:
    try:
        result = service.authorize(event)
    except TokenRejected as rejection:
        return _Verdict(EXIT_UNAUTHORIZED, rejection.reason, rejection.detail)
    except VerificationUnavailable as failure:
        return _Verdict(EXIT_UNAVAILABLE, "keys_unavailable", str(failure))
    prefix = MethodArn.parse(event["methodArn"]).stage_prefix
    denied_resources = {
        resource
        for statement in result["policyDocument"]["Statement"]
        if statement["Effect"] == "Deny"
        for resource in statement["Resource"]
    }
    denied = [route.key for route in service.settings.routes if route.resource(prefix) in denied_resources]
    return _Verdict(EXIT_ALLOWED, denied=denied, context=_as_received(result))


def _as_received(result: dict[str, Any]) -> dict[str, Any]:
    """`event.requestContext.authorizer` as a REST API gives it to a proxy integration: the context's
    values as strings, and the principalId (local/apigateway.py, which the local gateway uses too)."""
    received = AuthorizerResult.parse(result).request_context(integration_latency_ms=0)
    del received["integrationLatency"]  # the authorizer's duration, not the token's
    return received


def _describe_settings(report: _Report, settings: Settings) -> None:
    report.section("Configuration")
    for issuer in settings.issuers:
        audiences = ", ".join(sorted(settings.audiences_for(issuer))) or "(none)"
        report.note(f"issuer {issuer}  audiences: {audiences}")
    if settings.jwks_uri:
        report.note(f"JWKS_URI {settings.jwks_uri}")
    report.note(
        f"algorithms: {', '.join(sorted(settings.algorithms))}; leeway: {settings.leeway_seconds} s;"
        f" token_use: {', '.join(sorted(settings.token_uses))}"
    )
    report.note(
        f"typ at+jwt: {'required' if settings.require_at_jwt_typ else 'not required'};"
        f" scopes from: {', '.join(SCOPE_CLAIMS + settings.scope_claims)}"
    )


def _explain_steps(
    report: _Report,
    verifier: TokenVerifier,
    unverified: UnverifiedToken,
    settings: Settings,
    recording: _RecordingFetcher,
    telemetry: _RecordingTelemetry,
    now: Callable[[], float],
) -> None:
    header, claims = unverified.header, unverified.claims
    report.section("2. Header")
    report.block(header)
    algorithm_and_kid = _step(report, lambda: verifier.check_header(header), hint=_algorithm_hint(header))
    if algorithm_and_kid is not None:
        algorithm, kid = algorithm_and_kid
        report.ok(f"alg {algorithm} is allowed; kid {kid!r}")

    report.section("3. Claims, as the token states them (checked below)")
    report.block(claims)

    report.section("4. Issuer")
    trusted = _step(report, lambda: verifier.trusted_issuer(claims))
    if trusted is None:
        _issuer_near_misses(report, claims.get("iss"), settings.issuers)
        return
    cache, rules = trusted
    report.ok(
        f"iss {cache.issuer!r} is trusted"
        + (f" ({rules.profile.issuer_kind})" if rules.profile.issuer_kind else "")
    )

    report.section("5. Key")
    keys: tuple[VerificationKey, ...] | None = None
    if algorithm_and_kid is None:
        report.note("not reached: the header was refused")
    else:
        keys = _step(report, lambda: cache.keys_for(algorithm_and_kid[1]))
        for url, document in recording.fetched:
            kids = _kids_in(document)
            report.note(f"fetched {url}" + (f" (kids: {', '.join(kids)})" if kids is not None else ""))
        for event in telemetry.events:
            report.note(event)
        if keys is not None:
            kinds = ", ".join(sorted({key.key_type for key in keys}))
            report.ok(f"key {algorithm_and_kid[1]!r} ({kinds}) published by {cache.issuer}")

    report.section("6. Signature")
    if keys is None or algorithm_and_kid is None:
        report.note("not reached: no key to check it with")
    elif _step(report, lambda: verifier.check_signature(unverified, algorithm_and_kid[0], keys)) is not None:
        report.ok(f"valid {algorithm_and_kid[0]} signature by key {algorithm_and_kid[1]!r}")

    report.section("7. Claims")
    _explain_claims(report, claims, rules, now())

    report.section("8. Scopes and routes")
    _explain_scopes(report, claims, settings)


def _step(report: _Report, check: Callable[[], Any], label: str = "", hint: str | None = None) -> Any:
    """Run one of the authorizer's checks; report a refusal and return None, else the check's result.

    `hint` replaces the reason's usual advice when the case at hand calls for other words."""
    try:
        result = check()
    except TokenRejected as rejection:
        report.rejected(rejection, label, hint if rejection.reason is Reason.ALGORITHM_NOT_ALLOWED else None)
        return None
    except VerificationUnavailable as failure:
        report.fail(f"keys unavailable: {failure.detail}")
        report.note("the authorizer answers 503 until the issuer's keys can be fetched")
        return None
    return True if result is None else result


def _explain_claims(report: _Report, claims: dict[str, Any], rules: IssuerRules, at: float) -> None:
    for step in rules.checks:
        text = step.describe(claims, rules, at)
        if _step(report, functools.partial(step.check, claims, rules, at), text) is not None:
            report.ok(text)


def _explain_scopes(report: _Report, claims: dict[str, Any], settings: Settings) -> None:
    if report.refused:
        report.note("(the token is refused above, so no route is reached; shown to help fix the scopes too)")
    try:
        scopes = scopes_of(claims)
        granted = granted_scopes(claims, scopes, settings.scope_claims)
    except TokenRejected as rejection:
        report.rejected(rejection)
        return
    report.note(f"scopes ({', '.join(SCOPE_CLAIMS)}): {_names(scopes)}")
    if settings.scope_claims:
        names = ", ".join(settings.scope_claims)
        report.note(f"granted by SCOPE_CLAIMS ({names}): {_names(granted - scopes)}")
    for name in sorted(granted):
        if any(character.isspace() for character in name):
            report.note(f"{json.dumps(name)} is one name: only a space (U+0020) between names separates them")
    if not report.refused:  # the context is built from verified claims only
        context = _step(report, lambda: build_context(claims, granted))
        if context is not None:
            size = len(json.dumps({"principalId": claims["sub"], **context}))
            report.ok(f"the principalId and the context take {size} of their {MAX_CONTEXT_BYTES} bytes")
    denied_methods = []
    for route in settings.routes:
        needs = " ".join(sorted(route.scopes)) or "(nothing but a valid token)"
        missing = sorted(route.scopes - granted)
        if missing:
            report.fail(f"{route.key} needs {needs}: missing {' '.join(missing)} -> 403")
            denied_methods.append(route.method)
        else:
            report.ok(f"{route.key} needs {needs}")
    if denied_methods:
        methods = "" if "*" in denied_methods else " and ".join(dict.fromkeys(denied_methods)) + " "
        report.note(
            "a denied route is denied in each spelling API Gateway may route to it: with a trailing slash,"
            f" and any {methods}path with a doubled slash or a %-encoding (docs/security.md)"
        )
    report.note("any route not in ROUTE_SCOPES needs only a valid token")


def _names(names: frozenset[str]) -> str:
    """Names as a JSON array, so a name with a space in it shows as one."""
    return json.dumps(sorted(names), ensure_ascii=False) if names else "(none)"


def _conclude(report: _Report, verdict: _Verdict) -> Explanation:
    report.section("Verdict (the authorizer's own decision)")
    if verdict.exit_code == EXIT_UNAUTHORIZED:
        report.fail(
            f"401 Unauthorized: {verdict.reason}" + (f" ({verdict.detail})" if verdict.detail else "")
        )
    elif verdict.exit_code == EXIT_UNAVAILABLE:
        report.fail(f"503: the token cannot be checked now ({verdict.detail})")
    else:
        if verdict.denied:
            report.ok(f"valid token; 403 insufficient_scope on: {', '.join(verdict.denied)}")
        else:
            report.ok("valid token, allowed on every route")
        report.note("event.requestContext.authorizer, as your functions receive it (values as strings):")
        report.block(verdict.context)
    return Explanation(report.text, verdict.exit_code, verdict.reason, verdict.denied)


def _algorithm_hint(header: dict[str, Any]) -> str | None:
    """For an alg that no configuration can allow, say so: adding it to ALGORITHMS would only stop the
    authorizer from starting."""
    algorithm = header.get("alg")
    if isinstance(algorithm, str) and algorithm in SUPPORTED_ALGORITHMS:
        return None  # the usual advice holds: ALGORITHMS may list it
    shown = repr(algorithm)[:40]
    return (
        f"alg {shown} is never accepted, whatever ALGORITHMS says: the authorizer verifies only"
        " asymmetric signatures (RS*, PS*, ES*, EdDSA) with the keys the issuer publishes; an HS* token"
        " is signed with a shared secret, a 'none' token not at all. Have the provider sign its access"
        " tokens with RS256 (or another of those: Auth0 calls it the API's signing algorithm), then send a"
        " new token."
    )


def _issuer_near_misses(report: _Report, issuer: object, trusted: Sequence[str]) -> None:
    report.note(f"trusted issuers: {', '.join(trusted)}")
    if not isinstance(issuer, str):
        return
    for candidate in trusted:
        if issuer.rstrip("/") == candidate.rstrip("/"):
            report.note(f"{issuer!r} differs from {candidate!r} only by a trailing slash")
        elif issuer.lower() == candidate.lower():
            report.note(f"{issuer!r} differs from {candidate!r} only in letter case")
        elif issuer.split("://", 1)[-1] == candidate.split("://", 1)[-1]:
            report.note(f"{issuer!r} differs from {candidate!r} only in its scheme")


def _kids_in(document: Any) -> list[str] | None:
    if isinstance(document, dict) and isinstance(document.get("keys"), list):
        return [str(key.get("kid"))[:64] for key in document["keys"] if isinstance(key, dict)]
    return None


class _SettingsFileError(Exception):
    """The settings file cannot be read as the authorizer's environment; the message says what to do."""


def _environment(path: str | None, environ: Mapping[str, str]) -> Mapping[str, str]:
    if path is None:
        return environ
    try:
        with open(path, encoding="utf-8") as file:
            document = json.load(file)
    except FileNotFoundError:
        raise _SettingsFileError(
            f"{path}: no such file. Write it from the deployed authorizer with `aws lambda"
            " get-function-configuration --function-name <the stack's AuthorizerFunctionName output>"
            f" --query Environment.Variables > {path}`, or leave ENV_FILE out to use this shell's"
            " environment (or, while `make dev` runs, the local stack's settings)"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise _SettingsFileError(f"{path} cannot be read: {error}") from None
    except ValueError as error:
        raise _SettingsFileError(f"{path} is not JSON ({error})") from None
    if not isinstance(document, dict) or not all(isinstance(v, str) for v in document.values()):
        raise _SettingsFileError(
            f"{path} is not a JSON object of environment variable names to strings, as `aws lambda"
            " get-function-configuration --query Environment.Variables` prints"
        )
    return document


def _settings_file(
    given: str | None, environ: Mapping[str, str], stack_settings: Path
) -> tuple[str | None, str]:
    """Which settings to explain with, and how to say so: the file given; else, unless ISSUER is set
    here, those of the running local stack (`make dev` writes them); else this environment."""
    if given is not None:
        return given, f"Settings from {given}"
    if "ISSUER" not in environ and stack_settings.is_file():
        return str(stack_settings), f"Settings of the local stack (make dev), from {_shown(stack_settings)}"
    return None, "Settings from this environment"


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def main(
    argv: Sequence[str] | None = None,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    stack_settings: Path = authorizer_env.PATH,
) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.explain",
        description="Explain, step by step, the authorizer's decision on a token.",
        epilog="Exit codes: 0 accepted (even if some routes would answer 403), 1 refused (401), 2 keys"
        " unavailable (503), 3 the authorizer would not start with these settings, 4 nothing to explain"
        " (no token, or a settings file that cannot be read).",
    )
    parser.add_argument(
        "token",
        nargs="?",
        help="the token or 'Bearer <token>'; '-' reads it from standard input; default: $TOKEN",
    )
    parser.add_argument(
        "--env-file",
        help="JSON object of the authorizer's environment variables, as printed by"
        " `aws lambda get-function-configuration --query Environment.Variables`; default: the running"
        " local stack's (unless ISSUER is set), else this environment",
    )
    parser.add_argument("--proof", help="the call's DPoP proof (DPOP allowed or required); default: $PROOF")
    parser.add_argument("--method", default="GET", help="the method of the call the proof is for")
    parser.add_argument("--url", default=_EXPLAIN_URL, help="the URL of the call the proof is for")
    arguments = parser.parse_args(argv)
    token = arguments.token or os.environ.get("TOKEN", "")
    if token == "-":  # noqa: S105 - the conventional name for standard input, not a secret
        token = stdin.read()
    if not token.strip():
        parser.print_usage(sys.stderr)
        sys.stderr.write(
            "error: give a token: as an argument, '-' for standard input, or in $TOKEN"
            " (make explain TOKEN=...)\n"
        )
        return EXIT_USAGE
    path, source = _settings_file(arguments.env_file, os.environ, stack_settings)
    try:
        environment = _environment(path, os.environ)
    except _SettingsFileError as error:
        stdout.write(f"Cannot read the settings: {error}\n")
        return EXIT_USAGE
    try:
        settings = Settings.from_env(environment)
    except (ConfigurationError, ValueError) as error:
        stdout.write(f"{source}.\nThe authorizer would not start with these settings: {error}\n")
        return EXIT_BAD_CONFIGURATION
    proof = (arguments.proof or os.environ.get("PROOF", "")).strip() or None
    explanation = explain(token, settings, proof=proof, method=arguments.method, url=arguments.url)
    stdout.write(f"{source}.\n\n{explanation.text}")
    return explanation.exit_code


if __name__ == "__main__":
    sys.exit(main())
