"""`make explain` for DPoP: the proof a call carries, checked as the authorizer checks it, step by step.

The authorizer's verdict on a DPoP call needs the proof, the method and the URL the client called; this
builds the REQUEST event API Gateway would send for them. Explaining never records a proof: the replay
store `explain` hands the authorizer accepts every proof and remembers none, so a proof explained can
still be used (and one already used is not reported as replayed: only the table knows that).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from jwt_authorizer import (
    Reason,
    Settings,
    TokenRejected,
    decode_unverified,
    verify_proof,
)


class NothingRecorded:
    """A replay store that takes every proof as new and records none."""

    def first_use(self, proof: object) -> bool:
        return True


def request_event(authorization: str, proof: str | None, method: str, url: str) -> dict[str, Any]:
    """The REQUEST event API Gateway sends for `method url` with these headers (request_event.py)."""
    parts = urlsplit(url)
    headers = {"Authorization": authorization, "X-Forwarded-Proto": parts.scheme or "https"}
    if parts.port is not None:
        headers["X-Forwarded-Port"] = str(parts.port)
    if proof is not None:
        headers["DPoP"] = proof
    path = parts.path or "/"
    return {
        "type": "REQUEST",
        "methodArn": f"arn:aws:execute-api:us-east-1:000000000000:explain/stage/{method}{path}",
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "requestContext": {"path": path, "domainName": parts.hostname or "", "identity": {}},
    }


def proof_lines(
    proof: str, method: str, url: str, token: str, claims: dict[str, Any], settings: Settings, now: float
) -> list[tuple[bool | None, str]]:
    """What the proof states and each DPoP check's verdict, as (passed, text) lines for the report;
    passed None for a note (what to do about a failure)."""
    lines: list[tuple[bool | None, str]] = []
    try:
        unverified = decode_unverified(proof) if proof.count(".") == 2 else None
    except TokenRejected:
        unverified = None
    if unverified is not None:
        header = {name: value for name, value in unverified.header.items() if name != "jwk"}
        lines.append((True, f"header {json.dumps(header)}; claims {json.dumps(unverified.claims)}"))
        issued_at = unverified.claims.get("iat")
        if isinstance(issued_at, (int, float)) and not isinstance(issued_at, bool):
            window = settings.sender.rules.iat_window
            lines.append((True, f"iat is {now - issued_at:.0f} s before now (window {window} s either way)"))
    lines.append((True, f"request: {method} {url}"))
    try:
        proven = verify_proof(
            proof, method=method, url=url, access_token=token, now=now, rules=settings.sender.rules
        )
    except TokenRejected as rejection:
        detail = f" ({rejection.detail})" if rejection.detail else ""
        lines.append((False, f"{rejection.reason}{detail}"))
        lines.append((None, f"fix: {rejection.reason.hint}"))
        return lines
    lines.append((True, f"RFC 9449 section 4.3 checks pass; key thumbprint {proven.thumbprint}"))
    bound = claims.get("cnf", {}).get("jkt") if isinstance(claims.get("cnf"), dict) else None
    if bound == proven.thumbprint:
        lines.append((True, "the token's cnf.jkt names this key"))
    else:
        reason = Reason.DPOP_KEY_MISMATCH if bound else Reason.DPOP_TOKEN_NOT_BOUND
        lines.append((False, f"{reason}: the token's cnf.jkt is {bound!r}"))
        lines.append((None, f"fix: {reason.hint}"))
    lines.append((True, "not checked here: whether the proof was used before (only the replay table knows)"))
    return lines
