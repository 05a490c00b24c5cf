"""A TOKEN authorizer scripted by its token, to drive every branch of the gateway."""

from __future__ import annotations

from typing import Any

calls = 0


def lambda_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    global calls
    calls += 1
    script = event["authorizationToken"].removeprefix("Bearer ")
    arn = event["methodArn"]
    stage_prefix = "/".join(arn.split("/")[:2])
    allow_all = {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": f"{stage_prefix}/*/*"}
    context_values: dict[str, Any] = {"sub": "alice", "admin": True, "n": 3, "calls": calls, "arn": arn}
    if script == "unauthorized":
        raise Exception("Unauthorized")  # noqa: TRY002 - the exact error API Gateway turns into 401
    if script == "crash":
        raise RuntimeError("the authorizer broke")
    if script == "nested-context":
        context_values["groups"] = ["a", "b"]
        statements = [allow_all]
    elif script == "method-only":
        # The classic mistake: an Allow for the one method that happened to come first.
        statements = [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": arn}]
    elif script == "deny-post":
        deny = {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": f"{stage_prefix}/POST/*"}
        statements = [allow_all, deny]
    elif script == "allow-nothing":
        statements = [
            {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": f"{stage_prefix}/PUT/x"}
        ]
    else:
        statements = [allow_all]
    return {
        "principalId": "alice",
        "policyDocument": {"Version": "2012-10-17", "Statement": statements},
        "context": context_values,
    }
