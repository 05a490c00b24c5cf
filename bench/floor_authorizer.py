"""The least a Python authorizer must do at a cold start: the yardstick of the cold-start rows.

A fresh process that fetches the JWKS with `urllib` and verifies one RS256 token with `cryptography`, and
nothing else: no claim checks, no policy, no logs, no metrics. Run as
`python floor_authorizer.py <artifact> <token>` with JWKS_URI set; the artifact's folder supplies the
same compiled `cryptography` the authorizer ships. Right after the answer it reports its peak memory, as
the authorizer's run does. `design_floor_authorizer.py` does the same work with other libraries.
"""

import sys

sys.path.insert(0, sys.argv[1])

import base64
import json
import os
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def key_for(jwks: dict[str, Any], token: str) -> dict[str, Any]:
    """The JWK the token's header names."""
    kid = json.loads(b64(token.split(".", maxsplit=1)[0]))["kid"]
    return next(key for key in jwks["keys"] if key["kid"] == kid)


def verify(jwks: dict[str, Any], token: str) -> None:
    """The token's RS256 signature checked with `cryptography`; InvalidSignature if it does not verify."""
    header, payload, signature = token.split(".")
    jwk = key_for(jwks, token)
    public_numbers = rsa.RSAPublicNumbers(
        int.from_bytes(b64(jwk["e"]), "big"), int.from_bytes(b64(jwk["n"]), "big")
    )
    public_numbers.public_key().verify(
        b64(signature), f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256()
    )


def report() -> None:
    """For the benchmark, as the authorizer's run reports it: this program's own peak resident memory,
    flushed at once (the cold start is timed to this line, as Lambda times it to the answer)."""
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    print("\nBENCH " + json.dumps({"peak_kib": int(peak)}), flush=True)


def main(token: str) -> None:
    import urllib.request  # here, not above: the design floor shares this file and fetches otherwise

    with urllib.request.urlopen(os.environ["JWKS_URI"], timeout=2) as response:  # noqa: S310 - loopback
        verify(json.load(response), token)


if __name__ == "__main__":
    main(sys.argv[2])
    report()
