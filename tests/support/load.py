"""A bounded load test over 127.0.0.1: valid, forged and under-scoped tokens, with a key rotation midway.

The gateway here is deliberately small: it turns each HTTP request into the TOKEN event API Gateway
would send, calls the real Lambda entry point in-process, and answers as API Gateway would (policy
evaluated for the route: 200 or 403; `Unauthorized`: 401; any other error: 503). It has no result cache,
so every request reaches the authorizer. Run it with `make load`; a small version runs in `make test`.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import os
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any

from tests.support.harness import Outcome, classify, token_event, watching_logs
from tests.support.jwks_server import JwksServer
from tests.support.tokens import SigningKey, claims_for, jwks_of, mint

STATUS = {
    Outcome.ALLOW: 200,
    Outcome.DENY: 403,
    Outcome.UNAUTHORIZED: 401,
    Outcome.UNAVAILABLE: 503,
    Outcome.BUG: 500,
}


class _Gateway(ThreadingHTTPServer):
    daemon_threads = True
    handler: ModuleType


class _GatewayRequest(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a load balancer's clients would
    disable_nagle_algorithm = True  # headers and body are two writes; do not wait for the client ACK

    def _answer(self) -> None:
        authorization = self.headers.get("Authorization")
        event = token_event(authorization, f"{self.command}{self.path}")
        gateway: _Gateway = self.server  # type: ignore[assignment]
        outcome, _ = classify(lambda e: gateway.handler.lambda_handler(e, None), event)
        body = json.dumps({"outcome": outcome.value}).encode()
        self.send_response(STATUS[outcome])
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def running_gateway(handler: ModuleType) -> Iterator[tuple[str, int]]:
    server = _Gateway(("127.0.0.1", 0), _GatewayRequest)
    server.handler = handler
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class Request:
    kind: str  # valid, forged, under-scoped
    method: str
    path: str
    authorization: str
    expected: int


@dataclass
class LoadReport:
    requests: int
    concurrency: int
    wrong_answers: int
    server_errors: int
    by_kind: dict[str, int]
    p50_ms: float
    p99_ms: float
    requests_per_second: float
    jwks_fetches: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _plan(
    issuer: str, key: SigningKey, rotated: SigningKey, forger: SigningKey, total: int, pool: int = 20
) -> tuple[list[Request], list[Request]]:
    """Requests before and after the rotation; tokens are minted once and reused (no result cache)."""

    def tokens(signer: SigningKey, **claims: Any) -> list[str]:
        return [mint(signer, claims_for(issuer, jti=f"t{n}", **claims)) for n in range(pool)]

    def phase(signer: SigningKey, count: int) -> list[Request]:
        valid = tokens(signer, scope="messages:read")
        forged = tokens(
            SigningKey(signer.kid, forger.private_key, "RS256"), scope="messages:read messages:write"
        )
        requests = []
        for n in range(count):
            kind = ("valid", "forged", "under-scoped")[n % 3]
            token = (valid if kind != "forged" else forged)[n % pool]
            method, expected = {"valid": ("GET", 200), "forged": ("GET", 401), "under-scoped": ("POST", 403)}[
                kind
            ]
            requests.append(Request(kind, method, "/messages", f"Bearer {token}", expected))
        return requests

    return phase(key, total // 2), phase(rotated, total - total // 2)


def run_load(
    handler: ModuleType,
    provider: JwksServer,
    key: SigningKey,
    rotated: SigningKey,
    forger: SigningKey,
    total: int = 5_000,
    concurrency: int = 50,
) -> LoadReport:
    """Send `total` requests at `concurrency`; halfway through, the provider rotates to `rotated`."""
    before, after = _plan(provider.issuer, key, rotated, forger, total)
    results: list[tuple[Request, int, float]] = []
    lock = threading.Lock()
    with running_gateway(handler) as (host, port):

        def worker(batch: list[Request]) -> None:
            connection = http.client.HTTPConnection(host, port, timeout=30)
            answered = []
            for request in batch:
                started = time.perf_counter()
                connection.request(
                    request.method, request.path, headers={"Authorization": request.authorization}
                )
                response = connection.getresponse()
                response.read()
                answered.append((request, response.status, time.perf_counter() - started))
            connection.close()
            with lock:
                results.extend(answered)

        started = time.perf_counter()
        for phase in (before, after):
            if phase is after:
                # Rotation: the provider now publishes the new key next to the old one.
                provider.publish(jwks_of(key, rotated))
            with ThreadPoolExecutor(concurrency) as pool:
                list(pool.map(worker, [phase[n::concurrency] for n in range(concurrency)]))
        elapsed = time.perf_counter() - started

    latencies = sorted(seconds for _, _, seconds in results)
    kinds: dict[str, int] = {}
    for request, _, _ in results:
        kinds[request.kind] = kinds.get(request.kind, 0) + 1
    return LoadReport(
        requests=len(results),
        concurrency=concurrency,
        wrong_answers=sum(status != request.expected for request, status, _ in results),
        server_errors=sum(status >= 500 for _, status, _ in results),
        by_kind=kinds,
        p50_ms=round(statistics.median(latencies) * 1000, 2),
        p99_ms=round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        requests_per_second=round(len(results) / elapsed, 1),
        jwks_fetches=provider.jwks_fetches,
    )


def main() -> int:
    """`make load`: 5,000 requests at concurrency 50 (override with LOAD_REQUESTS, LOAD_CONCURRENCY)."""
    from tests.support.jwks_server import running_jwks_server
    from tests.support.tokens import rsa_key

    key, rotated, forger = rsa_key("rsa-1"), rsa_key("rsa-2"), rsa_key("forger")
    with running_jwks_server() as provider:
        provider.publish(jwks_of(key))
        os.environ.update(
            {"ISSUER": provider.issuer, "AUDIENCE": "api://messages", "ROUTE_SCOPES": json.dumps(_ROUTES)}
        )
        import authorizer_handler

        authorizer_handler.reset()
        # The authorizer's logs and metrics are kept aside and counted, so the report stays readable.
        metrics = io.StringIO()
        with watching_logs(authorizer_handler.SERVICE_NAME) as logs, contextlib.redirect_stdout(metrics):
            report = run_load(
                authorizer_handler,
                provider,
                key,
                rotated,
                forger,
                total=int(os.environ.get("LOAD_REQUESTS", "5000")),
                concurrency=int(os.environ.get("LOAD_CONCURRENCY", "50")),
            )
    summary = report.as_dict() | {
        "log_lines": len(logs.stream.getvalue().splitlines()),
        "metric_lines": len(metrics.getvalue().splitlines()),
    }
    print(json.dumps(summary, indent=2))
    return 0 if report.wrong_answers == 0 and report.server_errors == 0 else 1


_ROUTES = {"GET /messages": ["messages:read"], "POST /messages": ["messages:write"]}

if __name__ == "__main__":
    sys.exit(main())
