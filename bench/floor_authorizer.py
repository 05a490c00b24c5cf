"""The least a Python authorizer must do at a cold start: the yardstick of the cold-start rows.

A fresh process that fetches the JWKS with `urllib` and verifies one RS256 token with `cryptography`, and
nothing else: no claim checks, no policy, no logs, no metrics. Run as
`python floor_authorizer.py <artifact> <token>` with JWKS_URI set; the artifact's folder supplies the
same compiled `cryptography` the authorizer ships. Its last line reports its peak memory, as the
authorizer's run does.
"""

import sys

sys.path.insert(0, sys.argv[1])

import base64
import json
import os
import urllib.request

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def _b64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def main(token: str) -> None:
    with urllib.request.urlopen(os.environ["JWKS_URI"], timeout=2) as response:  # noqa: S310 - loopback
        jwks = json.load(response)
    header, payload, signature = token.split(".")
    kid = json.loads(_b64(header))["kid"]
    jwk = next(key for key in jwks["keys"] if key["kid"] == kid)
    public_numbers = rsa.RSAPublicNumbers(
        int.from_bytes(_b64(jwk["e"]), "big"), int.from_bytes(_b64(jwk["n"]), "big")
    )
    public_numbers.public_key().verify(
        _b64(signature), f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256()
    )


if __name__ == "__main__":
    main(sys.argv[2])
    # For the benchmark, as the authorizer's run reports it: this program's own peak resident memory.
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    print("\nBENCH " + json.dumps({"peak_kib": int(peak)}))
