"""The scopes a verified token grants, read from scope and scp."""

from __future__ import annotations

from typing import Any

import pytest

from jwt_authorizer.errors import TokenRejected
from jwt_authorizer.scopes import granted_scopes, scopes_of


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
        ({"scope": " a  b "}, {"a", "b"}),
        ({"scp": ["", "a"]}, {"a"}),
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


@pytest.mark.parametrize(
    "separator", ["\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\u00a0", "\u2028", "\u3000"]
)
def test_only_the_space_character_separates_names_in_a_string(separator: str) -> None:
    # RFC 6749 section 3.3: scope = scope-token *( SP scope-token ); SP is U+0020 alone.
    assert scopes_of({"scope": f"messages:read{separator}messages:write"}) == {
        f"messages:read{separator}messages:write"
    }
    assert scopes_of({"scp": f"a{separator}b c"}) == {f"a{separator}b", "c"}


def test_an_array_element_is_one_name_whatever_it_holds() -> None:
    assert scopes_of({"scp": ["team messages:write", "a\tb"]}) == {"team messages:write", "a\tb"}


def test_group_names_with_spaces_stay_whole_names_under_scope_claims() -> None:
    # Okta's default group is "Everyone"; group and Entra display names often hold spaces.
    claims = {"scp": ["messages:read"], "groups": ["Everyone", "Support Team"], "roles": "Admins Readers"}
    assert granted_scopes(claims, scopes_of(claims), ("groups", "roles")) == {
        "messages:read",
        "Everyone",
        "Support Team",
        "Admins",
        "Readers",
    }
