"""The local gateway's REQUEST authorizer rules, as API Gateway applies them: identity sources required
and non-empty before the authorizer runs, the result cache keyed on their values, none without them."""

from __future__ import annotations

import pytest

from local.request_authorizer import cache_key, identity_headers, missing_identity, request_authorizer_event

pytestmark = pytest.mark.unit


def test_identity_sources_are_read_as_header_names() -> None:
    assert identity_headers("method.request.header.Authorization, method.request.header.DPoP") == (
        "Authorization",
        "DPoP",
    )
    assert identity_headers("") == ()
    with pytest.raises(ValueError, match="only headers"):
        identity_headers("method.request.querystring.token")


def test_a_missing_or_empty_identity_source_stops_the_call_before_the_authorizer() -> None:
    headers = {"Authorization": "DPoP x.y.z", "DPoP": ""}

    assert missing_identity(("Authorization", "DPoP"), headers.get) == "DPoP"
    assert missing_identity(("Authorization",), headers.get) is None
    assert missing_identity((), headers.get) is None


def test_the_cache_key_is_every_identity_sources_value_and_there_is_none_without_sources() -> None:
    first = {"Authorization": "DPoP a.b.c", "DPoP": "p.r.1"}
    second = {"Authorization": "DPoP a.b.c", "DPoP": "p.r.2"}

    assert cache_key(("Authorization", "DPoP"), first.get) != cache_key(("Authorization", "DPoP"), second.get)
    assert cache_key((), first.get) is None


def test_the_event_has_the_shape_of_api_gateways_request_event() -> None:
    event = request_authorizer_event(
        method_arn="arn:aws:execute-api:us-east-1:123456789012:local/dev/GET/messages",
        resource="/messages",
        path="/messages",
        raw_path="/messages",
        method="GET",
        headers=[("Authorization", "DPoP a.b.c"), ("DPoP", "p1"), ("DPoP", "p2"), ("Host", "127.0.0.1:3000")],
        query=[("page", "2")],
        path_parameters={},
        stage="dev",
        host="127.0.0.1:3000",
        request_id="r-1",
        identity={"sourceIp": "127.0.0.1"},
        api_id="local",
        account_id="123456789012",
    )

    assert event["type"] == "REQUEST"
    assert event["headers"]["DPoP"] == "p2"
    assert event["multiValueHeaders"]["DPoP"] == ["p1", "p2"]
    assert event["queryStringParameters"] == {"page": "2"}
    assert event["requestContext"]["domainName"] == "127.0.0.1"
    assert event["requestContext"]["path"] == "/messages"
