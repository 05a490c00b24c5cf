"""The scopes a verified token grants, read from scope and scp."""

from __future__ import annotations

from typing import Any

import pytest

from jwt_authorizer.errors import TokenRejected
from jwt_authorizer.scopes import scopes_of


@pytest.mark.parametrize(
    ("claims", "scopes"),
    [
        ({"scope": "messages:read  messages:write"}, {"messages:read", "messages:write"}),
        ({"scp": "messages:read"}, {"messages:read"}),
        ({"scp": ["messages:read", "messages:write"]}, {"messages:read", "messages:write"}),
        ({"scope": "a", "scp": ["b"]}, {"a", "b"}),
        ({"scope": ["messages:read", "openid"]}, {"messages:read", "openid"}),
        ({"scope": ["a"], "scp": "b c"}, {"a", "b", "c"}),
        ({"scope": []}, set()),
        ({}, set()),
        ({"scope": ""}, set()),
    ],
)
def test_scopes_come_from_scope_and_scp(claims: dict[str, Any], scopes: set[str]) -> None:
    assert scopes_of(claims) == scopes


@pytest.mark.parametrize(
    "claims",
    [
        {"scope": ["a", 1]},
        {"scope": 1},
        {"scope": {"a": True}},
        {"scp": [1]},
        {"scp": {"a": 1}},
        {"scp": True},
    ],
)
def test_a_malformed_scope_claim_rejects_the_token(claims: dict[str, Any]) -> None:
    with pytest.raises(TokenRejected) as raised:
        scopes_of(claims)
    assert raised.value.reason == "invalid_scope_claim"
