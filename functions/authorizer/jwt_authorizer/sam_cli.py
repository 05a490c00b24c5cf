"""The edge for the SAM CLI (`sam local start-api`, `sam local invoke`): applied by the handler only.

The SAM CLI sets AWS_SAM_LOCAL=true in every function container (samcli/local/lambdafn/env_vars.py); only
then does the handler use this edge. Deployed, API Gateway gets what it documents: `Unauthorized` raised
for 401, and one stage-wide policy that its result cache can reuse for every route. Nothing below the
handler knows of this module: the pipeline gets an event adapter and a plain-http rule, as data.

The SAM CLI's API Gateway emulation (samcli/local/apigw/, as of SAM CLI 1.170) reads a TOKEN authorizer's
answer differently, and each answer here meets one of its behaviours:

- `refusal` (a rejected token): whatever the authorizer raises, the exact `Unauthorized` included, comes
  back as an error payload with no `principalId`, which LambdaAuthorizerIAMPolicyValidator refuses:
  InvalidLambdaAuthorizerResponse, answered 502 "Internal server error". After invoking an authorizer its
  only client error is 403, when `LambdaAuthorizer._is_resource_authorized` finds no Allow statement that
  matches the method ARN (AuthorizerUnauthorizedRequest). So a rejected token gets a well-formed policy
  with a Deny and no Allow: 403, not a server error. (Its 401 comes only before the authorizer runs: a
  missing Authorization header, or one that fails the template's ValidationExpression.)
- `policy_for_this_call` (a token that lacks a route's scope): `_is_resource_authorized` looks at Allow
  statements only and ignores Deny, so the stage-wide Allow with a Deny for that route would let the
  request through. The SAM CLI has no result cache (it invokes the authorizer for every request), so the
  answer may be for the one method ARN: for a denied route, only the Deny statements (403).
- Plain http to the machine running the container (`CONTAINER_HOSTS`): the function's own 127.0.0.1 is
  the container, so the local provider is reached as host.docker.internal or Docker's bridge gateway.

An error the authorizer could not check the token for is still raised: the SAM CLI shows 502, API
Gateway 5xx (the template maps it to 503). Neither is ever an Allow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import TokenRejected
from .events import TokenEvent
from .factory import DEPLOYED, IN_LAMBDA, Edge
from .http_api import EventShapes, HttpApiEvent
from .request import Decision
from .urls import PlainHttp, is_container_host, is_loopback_host

#: Who a refused request is, in the refusal's policy: nobody verified.
ANONYMOUS = "anonymous"
CONTAINER_HOSTS = PlainHttp(
    lambda host: is_loopback_host(host) or is_container_host(host),
    "loopback hosts and, under the SAM CLI, for host.docker.internal and private-range addresses",
)


def refusal() -> dict[str, Any]:
    """A rejected token's answer: a valid policy that allows nothing (the SAM CLI answers 403)."""
    return {
        "principalId": ANONYMOUS,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": "*"}],
        },
        # What API Gateway would have been told: the deployed authorizer raises exactly this.
        "context": {"error": "Unauthorized"},
    }


def policy_for_this_call(policy: dict[str, Any], this_route_denied: bool) -> dict[str, Any]:
    """The stage-wide policy, without its Allow when this call's route is denied (the SAM CLI answers 403)."""
    if not this_route_denied:
        return policy
    deny = [statement for statement in policy["Statement"] if statement["Effect"] == "Deny"]
    return {**policy, "Statement": deny}


class SamCliTokenEvent(TokenEvent):
    """The TOKEN event, answered as `sam local start-api` can show it."""

    def allowed(self, decision: Decision) -> dict[str, Any]:
        policy = policy_for_this_call(decision.policy, decision.denied_route is not None)
        return super().allowed(decision._replace(policy=policy))

    def refused(self, rejection: TokenRejected) -> dict[str, Any]:
        return refusal()


#: An HTTP API's payload 2.0 event is read as deployed and answered as the TOKEN event is here.
SAM_CLI = Edge(EventShapes(SamCliTokenEvent(), HttpApiEvent()), CONTAINER_HOSTS)


def edge_for(env: Mapping[str, str]) -> Edge:
    """The SAM CLI's edge when it runs the function (it sets exactly AWS_SAM_LOCAL=true); in Lambda (which
    sets AWS_LAMBDA_RUNTIME_API in every execution environment) the deployed one without plain http; else
    (the local stack runs the handler in its own process) the deployed one, plain http to loopback only."""
    if env.get("AWS_SAM_LOCAL") == "true":
        return SAM_CLI
    return IN_LAMBDA if env.get("AWS_LAMBDA_RUNTIME_API") else DEPLOYED
