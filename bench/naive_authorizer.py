"""The authorizer most teams would write first: the baseline the benchmark compares against.

PyJWT's PyJWKClient (which fetches with urllib) with its key cache, `jwt.decode`, `requests` imported for
the provider calls such handlers usually make, and a Powertools Logger at module level. It checks less
than ours (no scope policy, no context flattening), so it is a generous baseline.
"""

from __future__ import annotations

import os
from typing import Any

import jwt
import requests  # noqa: F401 - imported at module level as such handlers do; it weighs on cold start
from aws_lambda_powertools import Logger

logger = Logger(service="naive-authorizer")
ISSUER = os.environ["ISSUER"]
AUDIENCE = os.environ["AUDIENCE"]
LOG_EVERY_CALL = os.environ.get("NAIVE_LOG_EVERY_CALL") == "1"
jwks_client = jwt.PyJWKClient(os.environ["JWKS_URI"], cache_keys=True)


def lambda_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    try:
        token = event["authorizationToken"].split(" ", 1)[1]
        signing_key = jwks_client.get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            signing_key.key,
            algorithms=["RS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "sub"]},
        )
    except Exception:
        logger.info("token rejected")
        raise Exception("Unauthorized") from None  # noqa: TRY002 - API Gateway matches this exact text
    if LOG_EVERY_CALL:
        logger.info("token accepted", extra={"sub": claims["sub"]})
    return {
        "principalId": claims["sub"],
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}
            ],
        },
        "context": {"sub": claims["sub"], "scope": claims.get("scope", "")},
    }
