"""A bounded load test of the local stack over 127.0.0.1, with a key rotation midway.

The local OpenID provider and the local API Gateway start from template.yaml on free ports, with a
signing key store in a temporary directory (the developer's .local/ is never touched). Tokens come from
the provider's token endpoint (client credentials):

- valid: both scopes, on GET /messages (200) and POST /messages (201);
- under-scoped: messages:read only, on POST /messages (403);
- forged (401): a real token whose payload was changed to claim both scopes, or a real token's claims
  signed by a foreign key under the provider's own kid.

When half the requests have been sent, the provider's signing key is rotated the way `make rotate-key`
does it (the running provider sees the new key file), and new tokens are minted: the authorizer has to
find the new kid, while tokens of the old key, still published, keep working. Every answer is checked
against its expected status. The authorizer's result cache is off by default, so every request reaches
the authorizer. The run is bounded in requests and in time. `make load` runs it; a small version runs in
`make test`.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import io
import itertools
import json
import math
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from devkit.logs import LogWatch, watching_logs
from local.provider import TOKEN_PATH, KeyStore, TokenIssuer
from local.stack import LocalStack, StackOptions

CLIENT = ("dev-client", "dev-secret")
BOTH_SCOPES = "messages:read messages:write"
#: The functions' Powertools loggers, whose lines are kept aside (and checked for token material).
LOGGERS = ("jwt-authorizer", "messages-api")
MESSAGE_BODY = json.dumps({"text": "load test"}).encode()


class _CountingIssuer(TokenIssuer):
    """The provider's issuer, counting how often its JWKS is served: the authorizer's key fetches."""

    def __init__(self, issuer: TokenIssuer) -> None:
        super().__init__(issuer.issuer, issuer.config, issuer.keys)
        self._lock = threading.Lock()
        self.jwks_fetches = 0

    def jwks(self) -> dict[str, Any]:
        with self._lock:
            self.jwks_fetches += 1
        return super().jwks()


@dataclass(frozen=True)
class Tokens:
    """Tokens signed by one of the provider's keys."""

    kid: str
    valid: tuple[str, ...]
    under_scoped: tuple[str, ...]
    forged: tuple[str, ...]


@dataclass(frozen=True)
class Request:
    kind: str  # valid, forged, under-scoped
    method: str
    path: str
    token: str
    expected: int


@dataclass
class LoadReport:
    requests: int
    planned: int
    concurrency: int
    authorizer_cache_ttl: int
    by_kind: dict[str, int]
    wrong_answers: int
    server_errors: int
    p50_ms: float
    p99_ms: float
    requests_per_second: float
    seconds: float
    jwks_fetches: int
    signing_kids: list[str]
    token_leaks: int
    #: A few wrong answers (kind, method, expected, got; 0 when no answer came), to start a diagnosis.
    examples: list[tuple[str, str, int, int]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return (
            self.requests == self.planned
            and self.wrong_answers == 0
            and self.server_errors == 0
            and self.token_leaks == 0
        )

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class _Provider:
    """The token endpoint of the running local provider, and the rotation of its key store."""

    def __init__(self, stack: LocalStack, key_file: Path, forger: rsa.RSAPrivateKey, pool: int) -> None:
        if stack.provider_url is None or stack.issuer is None:
            raise RuntimeError("the load needs the stack's own provider")
        self._token_url = f"{stack.provider_url}{TOKEN_PATH}"
        # Tokens are minted again after the rotation, while other workers' invocations swap os.environ
        # (local/lambdas.py). A requests session that trusts the environment iterates os.environ for
        # proxy settings on every call and can then raise KeyError; the provider is on loopback anyway.
        self._session = requests.Session()
        self._session.trust_env = False
        self._lifetime = stack.issuer.config.token_lifetime_seconds
        self._key_file = key_file
        self._forger = forger
        self._pool = pool

    def _token(self, scope: str) -> str:
        data = {"grant_type": "client_credentials", "scope": scope}
        response = self._session.post(self._token_url, data=data, auth=CLIENT, timeout=10)
        response.raise_for_status()
        return str(response.json()["access_token"])

    def mint(self) -> Tokens:
        valid = [self._token(BOTH_SCOPES) for _ in range(self._pool)]
        under_scoped = [self._token("messages:read") for _ in range(self._pool)]
        kid = str(jwt.get_unverified_header(valid[0])["kid"])
        # Half changed after signing (the scope an attacker wants), half signed by a key not published.
        forged = [
            _with_scope(reader, BOTH_SCOPES) if n % 2 == 0 else self._sign_as_provider(full, kid)
            for n, (reader, full) in enumerate(zip(under_scoped, valid, strict=True))
        ]
        return Tokens(kid, tuple(valid), tuple(under_scoped), tuple(forged))

    def _sign_as_provider(self, token: str, kid: str) -> str:
        """The claims of a real token, signed by the forger's key under the provider's kid."""
        claims = jwt.decode(token, options={"verify_signature": False})
        return jwt.encode(claims, self._forger, algorithm="RS256", headers={"typ": "at+jwt", "kid": kid})

    def rotate(self) -> None:
        """What `make rotate-key` does: a new active key; the running provider notices the file changed."""
        KeyStore(self._key_file).rotate(self._lifetime)


def _with_scope(token: str, scope: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    changed = base64.urlsafe_b64encode(json.dumps(claims | {"scope": scope}).encode()).rstrip(b"=")
    return f"{header}.{changed.decode()}.{signature}"


def plan(n: int, tokens: Tokens, previous: Tokens | None) -> Request:
    """Request `n`: valid, forged and under-scoped in turn; after a rotation, half the valid ones still
    carry the old key's tokens, which stay published until they expire."""
    kind = ("valid", "forged", "under-scoped")[n % 3]
    turn = n // 3
    if kind == "under-scoped":
        return Request(kind, "POST", "/messages", _pick(tokens.under_scoped, turn), 403)
    if kind == "forged":
        method = ("GET", "POST")[turn % 2]
        return Request(kind, method, "/messages", _pick(tokens.forged, turn // 2), 401)
    signer = previous if previous is not None and turn % 4 >= 2 else tokens
    method, expected = (("GET", 200), ("POST", 201))[turn % 2]
    return Request(kind, method, "/messages", _pick(signer.valid, turn // 4), expected)


def _pick(pool: tuple[str, ...], turn: int) -> str:
    return pool[turn % len(pool)]


@contextmanager
def local_stack(authorizer_cache_ttl: int) -> Iterator[tuple[LocalStack, _CountingIssuer, Path, list[str]]]:
    """The local stack on free ports of 127.0.0.1, with its own key store; its console lines are kept."""
    with tempfile.TemporaryDirectory(prefix="load-keys-") as directory:
        key_file = Path(directory) / "provider-keys.json"
        lines: list[str] = []
        options = StackOptions(
            api_port=0,
            provider_port=0,
            key_file=key_file,
            parameters={"AuthorizerCacheTtl": str(authorizer_cache_ttl)},
        )
        # Counting from the start: the authorizer's cold start fetches the keys while the stack is built.
        stack = LocalStack(options, log=lines.append, wrap_issuer=_CountingIssuer)
        counting = stack.issuer
        if not isinstance(counting, _CountingIssuer):
            raise RuntimeError("the load needs the stack's own provider")
        stack.start()
        try:
            yield stack, counting, key_file, lines
        finally:
            stack.stop()


class _Schedule:
    """Hands the workers requests in order; the one that draws request `total // 2` rotates the key."""

    def __init__(self, provider: _Provider, total: int, deadline: float) -> None:
        self.generations = [provider.mint()]
        self._provider = provider
        self._total = total
        self._rotate_at = total // 2
        self._deadline = deadline
        self._numbers = itertools.count()
        self._lock = threading.Lock()
        self._rotated = threading.Event()

    def next_request(self) -> Request | None:
        """The next request to send, or None when all are sent or the time is up."""
        with self._lock:
            n = next(self._numbers)
        if n >= self._total or time.monotonic() >= self._deadline:
            return None
        if n < self._rotate_at:
            return plan(n, self.generations[0], None)
        if n == self._rotate_at:
            try:
                self._provider.rotate()
                self.generations.append(self._provider.mint())
            finally:
                self._rotated.set()  # a failed rotation is raised by this worker; the others stop
        elif not self._rotated.wait(max(0.0, self._deadline - time.monotonic())):
            return None
        return plan(n, self.generations[1], self.generations[0]) if len(self.generations) == 2 else None


Answer = tuple[Request, int, float]  # the request, its status (0: no answer), its latency in seconds


def _send(port: int, schedule: _Schedule) -> list[Answer]:
    """One client on one kept-alive connection, sending until the schedule runs out."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    answers = []
    while (request := schedule.next_request()) is not None:
        headers = {"Authorization": f"Bearer {request.token}"}
        body = MESSAGE_BODY if request.method == "POST" else None
        if body is not None:
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        try:
            connection.request(request.method, request.path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            connection.close()  # reconnects on the next request
            status = 0
        answers.append((request, status, time.perf_counter() - started))
    connection.close()
    return answers


def run_load(
    total: int = 5_000,
    concurrency: int = 50,
    authorizer_cache_ttl: int = 0,
    time_limit_seconds: float = 600.0,
    token_pool: int = 10,
) -> LoadReport:
    """Send `total` requests at `concurrency` to a fresh local stack, rotating its key halfway.

    Stops by itself after `total` requests or `time_limit_seconds`, whichever comes first.
    """
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    answers: list[Answer] = []
    with local_stack(authorizer_cache_ttl) as (stack, counting, key_file, lines):
        provider = _Provider(stack, key_file, forger, token_pool)
        schedule = _Schedule(provider, total, time.monotonic() + time_limit_seconds)
        # The functions' logs and metrics are kept aside, so the report stays readable, and checked.
        output = io.StringIO()
        with contextlib.ExitStack() as watches:
            watches.enter_context(contextlib.redirect_stdout(output))
            logs = [watches.enter_context(watching_logs(name)) for name in LOGGERS]
            started = time.perf_counter()
            with ThreadPoolExecutor(concurrency) as pool:
                futures = [pool.submit(_send, stack.api_server.port, schedule) for _ in range(concurrency)]
                for future in futures:
                    answers += future.result()
            elapsed = time.perf_counter() - started

    watch = LogWatch()
    for tokens in schedule.generations:
        for token in (*tokens.valid, *tokens.under_scoped, *tokens.forged):
            watch.remember(f"Bearer {token}")
    leaks = watch.leaks(output.getvalue(), *lines, *(log.stream.getvalue() for log in logs))

    latencies = sorted(seconds for _, _, seconds in answers)
    wrong = [(r.kind, r.method, r.expected, status) for r, status, _ in answers if status != r.expected]
    return LoadReport(
        requests=len(answers),
        planned=total,
        concurrency=concurrency,
        authorizer_cache_ttl=authorizer_cache_ttl,
        by_kind=dict(Counter(request.kind for request, _, _ in answers)),
        wrong_answers=len(wrong),
        server_errors=sum(status >= 500 for _, status, _ in answers),
        p50_ms=round(statistics.median(latencies) * 1000, 2) if latencies else math.nan,
        p99_ms=round(_percentile(latencies, 0.99) * 1000, 2) if latencies else math.nan,
        requests_per_second=round(len(answers) / elapsed, 1),
        seconds=round(elapsed, 2),
        jwks_fetches=counting.jwks_fetches,
        signing_kids=[tokens.kid for tokens in schedule.generations],
        token_leaks=len(leaks),
        examples=wrong[:5],
    )


def _percentile(ordered: list[float], fraction: float) -> float:
    """The nearest-rank percentile of sorted values."""
    return ordered[max(0, math.ceil(len(ordered) * fraction) - 1)]


def main() -> int:
    """`make load`: LOAD_REQUESTS (5,000) at LOAD_CONCURRENCY (50); LOAD_CACHE_TTL sets the authorizer's
    result cache (0, off); LOAD_SECONDS bounds the run (600)."""
    report = run_load(
        total=int(os.environ.get("LOAD_REQUESTS", "5000")),
        concurrency=int(os.environ.get("LOAD_CONCURRENCY", "50")),
        authorizer_cache_ttl=int(os.environ.get("LOAD_CACHE_TTL", "0")),
        time_limit_seconds=float(os.environ.get("LOAD_SECONDS", "600")),
    )
    print(json.dumps(report.as_dict(), indent=2))
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
