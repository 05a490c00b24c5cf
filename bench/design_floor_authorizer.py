"""The floor's work done with the authorizer's own libraries: what its dependencies alone cost a cold start.

`floor_authorizer.py` fetches the JWKS with `urllib` and verifies one RS256 token with `cryptography`. This
program does the same work, nothing more, the way the authorizer's design does it:

- `requests`: the JWKS is fetched with `requests`, the signature checked as the floor checks it;
- `design`: fetched with `requests`, the key built and the signature checked by PyJWT, and the fetch
  logged in one line by a Powertools Logger, as every cold start of the authorizer logs it.

No claim checks, no policy, no metrics: no authorizer built on these libraries can start faster or smaller
than this, so its ratio to the floor is the least the authorizer's can be. Run as
`python design_floor_authorizer.py <artifact> <token> requests|design` with JWKS_URI set; the artifact's
folder supplies the libraries the authorizer ships.
"""

import os
import sys

# The floor program, from this folder (run as a script, not as part of the bench package); it puts the
# artifact on sys.path.
import floor_authorizer as floor  # type: ignore[import-not-found]
import requests

DESIGN = sys.argv[3] == "design"
if DESIGN:
    import jwt
    from aws_lambda_powertools import Logger


def main(token: str) -> None:
    response = requests.get(os.environ["JWKS_URI"], timeout=2)
    response.raise_for_status()
    jwks = response.json()
    if not DESIGN:
        floor.verify(jwks, token)
        return
    Logger(service="design-floor").info("JWKS fetched", extra={"keys": len(jwks["keys"])})
    key = jwt.PyJWK(floor.key_for(jwks, token), algorithm="RS256").key
    jwt.PyJWS().decode(token, key, algorithms=["RS256"])  # the signature only, as the floor


if __name__ == "__main__":
    main(sys.argv[2])
    floor.report()
