"""The public function: GET /public, reachable without a token."""

from __future__ import annotations

from typing import Any

import public_api
from tests.support.api_events import FakeLambdaContext, json_response, load_event, proxy_event


def call(event: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, list[str]]]:
    return json_response(public_api.lambda_handler(event, FakeLambdaContext()))  # type: ignore[arg-type]


def test_public_answers_200_without_any_token_or_authorizer_context() -> None:
    event = load_event("public-get.json")
    assert "Authorization" not in event["headers"]
    assert "authorizer" not in event["requestContext"]

    status, body, _ = call(event)

    assert (status, body) == (200, {"message": "Hello! This route is public: no token needed."})


def test_public_ignores_an_authorizer_context_if_one_is_present() -> None:
    status, _, _ = call(proxy_event("GET", "/public", authorizer={"sub": "user-123"}))

    assert status == 200


def test_public_answers_404_in_json_for_any_other_route() -> None:
    status, body, _ = call(proxy_event("POST", "/public", authorizer=None))

    assert (status, body) == (404, {"error": "not_found", "message": "No route for POST /public"})
