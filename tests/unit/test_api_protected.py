"""The protected function: GET /profile and the messages API behind the JWT authorizer, on moto's DynamoDB."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest

from messages_api.board import MessageBoard
from messages_api.messages import MAX_BODY_BYTES, MAX_TEXT_CHARS, encode_cursor
from tests.support.api_events import FakeLambdaContext, authorizer_context, json_response, proxy_event

READ_AND_WRITE = ("messages:read", "messages:write")
READ = ("messages:read",)
START = datetime(2026, 1, 2, 3, 4, 5, 678_901, tzinfo=UTC)


class SteppingClock:
    """A clock that moves one second forward at each reading: each message is newer than the last."""

    def __init__(self) -> None:
        self.now = START - timedelta(seconds=1)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture(autouse=True)
def api(protected_function: ModuleType, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The function as deployed, with a board whose clock and random bits the tests choose."""
    board = MessageBoard(protected_function.board.store, clock=SteppingClock(), random_bytes=bytes)
    monkeypatch.setattr(protected_function, "board", board)
    return protected_function


def call(event: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, list[str]]]:
    import protected_api  # cold-started by the `api` fixture

    return json_response(protected_api.lambda_handler(event, FakeLambdaContext()))  # type: ignore[arg-type]


def post_messages(
    body: str | None, scopes: tuple[str, ...] = READ_AND_WRITE, **kwargs: Any
) -> dict[str, Any]:
    return proxy_event("POST", "/messages", body=body, authorizer=authorizer_context(scopes=scopes), **kwargs)


def post(text: str, sub: str = "user-123") -> dict[str, Any]:
    status, body, _ = call(
        proxy_event(
            "POST", "/messages", body=json.dumps({"text": text}), authorizer=authorizer_context(sub=sub)
        )
    )
    assert status == 201, body
    return body


def list_messages(scopes: tuple[str, ...] = READ, **query: str | list[str]) -> tuple[int, dict[str, Any]]:
    values = {name: value if isinstance(value, list) else [value] for name, value in query.items()}
    event = proxy_event(
        "GET", "/messages", authorizer=authorizer_context(scopes=scopes), query=values or None
    )
    status, body, _ = call(event)
    return status, body


def delete(message_id: str, sub: str = "user-123") -> dict[str, Any]:
    """The raw proxy response of DELETE /messages/{id}: a 204 has no body to decode."""
    import protected_api

    event = one_message("DELETE", message_id, sub=sub)
    response: dict[str, Any] = protected_api.lambda_handler(event, FakeLambdaContext())  # type: ignore[arg-type]
    return response


def one_message(
    method: str, message_id: str, sub: str = "user-123", scopes: tuple[str, ...] = READ_AND_WRITE
) -> Any:
    return proxy_event(
        method,
        "/messages/{id}",
        path_parameters={"id": message_id},
        authorizer=authorizer_context(sub=sub, scopes=scopes),
    )


#: The id of the first message the stepping clock stamps (random bits all zero).
FIRST_ID = "019b7ca9-8f2e-7000-8000-000000000000"


# GET /profile --------------------------------------------------------------------------------------------


def test_profile_returns_the_callers_identity_from_the_authorizer_context() -> None:
    status, body, _ = call(proxy_event("GET", "/profile", authorizer=authorizer_context()))

    assert status == 200
    assert body == {
        "sub": "user-123",
        "issuer": "https://issuer.example.com",
        "client_id": "example-client",
        "scopes": ["messages:read", "messages:write"],
        "claims": {
            "aud": "api://messages",
            "exp": "1767229200",
            "iat": "1767225600",
            "jti": "0f4b3c2a-example",
        },
    }


def test_profile_needs_no_scope_and_reports_a_missing_client_as_null() -> None:
    context = authorizer_context(scopes=[], client_id=None, groups="admins,devs")

    status, body, _ = call(proxy_event("GET", "/profile", authorizer=context))

    assert status == 200
    assert body["scopes"] == []
    assert body["client_id"] is None
    assert body["claims"]["groups"] == "admins,devs"


# POST /messages ------------------------------------------------------------------------------------------


def test_create_message_answers_201_with_the_caller_as_author_and_stores_it() -> None:
    status, body, _ = call(post_messages(json.dumps({"text": "  Hello, world  "})))

    assert status == 201
    assert body == {
        "id": FIRST_ID,
        "text": "Hello, world",
        "author": "user-123",
        "authorIssuer": "https://issuer.example.com",
        "createdAt": "2026-01-02T03:04:05.678Z",
    }
    assert call(one_message("GET", FIRST_ID))[:2] == (200, body)


def test_the_id_of_a_message_is_a_uuid7_of_its_creation_time() -> None:
    body = post("hello")

    milliseconds = int(body["id"].replace("-", "")[:12], 16)
    assert datetime.fromtimestamp(milliseconds / 1000, UTC).isoformat(timespec="milliseconds") == (
        "2026-01-02T03:04:05.678+00:00"
    )
    assert body["id"][14] == "7"


def test_create_message_accepts_a_base64_encoded_body_and_text_of_the_maximum_length() -> None:
    text = "é" * MAX_TEXT_CHARS

    status, body, _ = call(post_messages(json.dumps({"text": text}), base64_encoded=True))

    assert (status, body["text"]) == (201, text)


def test_create_message_without_the_write_scope_is_forbidden_even_with_read() -> None:
    status, body, headers = call(post_messages(json.dumps({"text": "hi"}), scopes=READ))

    assert (status, body) == (
        403,
        {"error": "insufficient_scope", "message": "This route requires the scope(s): messages:write"},
    )
    assert headers["WWW-Authenticate"] == ['Bearer error="insufficient_scope", scope="messages:write"']
    assert list_messages()[1]["messages"] == []


@pytest.mark.parametrize(
    ("path", "context_path"), [("/messages/", "/dev/messages/"), ("/messages", "/dev//messages")]
)
def test_the_function_reads_the_route_from_its_resource_whatever_the_spelling_of_the_path(
    path: str, context_path: str
) -> None:
    # API Gateway routes these spellings to POST /messages; the re-check reads the matched resource.
    event = post_messages(json.dumps({"text": "hi"}), scopes=("messages:read",))
    event["path"], event["requestContext"]["path"] = path, context_path

    status, body, _ = call(event)

    assert (status, body["error"]) == (403, "insufficient_scope")
    assert list_messages()[1]["messages"] == []


# GET /messages -------------------------------------------------------------------------------------------


def test_an_empty_table_lists_no_messages_and_no_next_page() -> None:
    assert list_messages() == (200, {"messages": [], "next": None})


def test_messages_are_listed_newest_first_a_page_at_a_time_until_next_is_null() -> None:
    posted = [post(f"message {n}", sub=f"user-{n % 2}") for n in range(5)]

    pages, cursor = [], None
    while True:
        status, page = list_messages(limit="2", **({"cursor": cursor} if cursor else {}))
        assert status == 200
        pages.append([message["text"] for message in page["messages"]])
        cursor = page["next"]
        if cursor is None:
            break

    assert pages == [["message 4", "message 3"], ["message 2", "message 1"], ["message 0"]]
    assert list_messages()[1] == {"messages": posted[::-1], "next": None}


def test_a_last_page_that_is_exactly_full_has_no_next() -> None:
    for n in range(4):
        post(f"message {n}")

    first = list_messages(limit="2")[1]
    second = list_messages(limit="2", cursor=first["next"])[1]

    assert [m["text"] for m in second["messages"]] == ["message 1", "message 0"]
    assert second["next"] is None


def test_the_default_page_is_20_messages_and_the_largest_100() -> None:
    for n in range(21):
        post(f"message {n}")

    default = list_messages()[1]
    largest = list_messages(limit="100")[1]

    assert (len(default["messages"]), default["next"] is None) == (20, False)
    assert (len(largest["messages"]), largest["next"]) == (21, None)


def test_a_cursor_is_opaque_and_stable_the_last_listed_id_in_22_characters() -> None:
    ids = [post(f"message {n}")["id"] for n in range(3)]

    page = list_messages(limit="1")[1]

    assert page["next"] == encode_cursor(ids[2])
    assert len(page["next"]) == 22


LIMIT_ERROR = "'limit' must be a whole number from 1 to 100"
CURSOR_ERROR = "'cursor' is not a value this API returned as 'next'"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        pytest.param({"limit": "0"}, LIMIT_ERROR, id="limit 0"),
        pytest.param({"limit": "101"}, LIMIT_ERROR, id="limit 101"),
        pytest.param({"limit": "-1"}, LIMIT_ERROR, id="negative"),
        pytest.param({"limit": "2.5"}, LIMIT_ERROR, id="fraction"),
        pytest.param({"limit": "ten"}, LIMIT_ERROR, id="word"),
        pytest.param({"limit": ""}, LIMIT_ERROR, id="empty"),
        pytest.param({"limit": "\u0661\u0660"}, LIMIT_ERROR, id="arabic-indic digits"),
        pytest.param({"limit": "1" * 400}, LIMIT_ERROR, id="huge"),
        pytest.param({"limit": ["2", "3"]}, "'limit' must be given at most once", id="limit twice"),
        pytest.param({"cursor": "nope"}, CURSOR_ERROR, id="short cursor"),
        pytest.param({"cursor": "A" * 22}, CURSOR_ERROR, id="not a message id"),
        pytest.param({"cursor": "AZt8qY8ucACAAAAAAAAAA+"}, CURSOR_ERROR, id="not base64url"),
        pytest.param({"cursor": "AZt8qY8ucACAAAAAAAAAAB"}, CURSOR_ERROR, id="non-canonical last character"),
        pytest.param({"cursor": "AZt8qY8ucACAAAAAAAAAAA=="}, CURSOR_ERROR, id="padded"),
        pytest.param(
            {"cursor": ["AZt8qY8ucACAAAAAAAAAAA"] * 2}, "'cursor' must be given at most once", id="twice"
        ),
    ],
)
def test_a_bad_limit_or_cursor_is_400(query: dict[str, Any], message: str) -> None:
    assert list_messages(**query) == (400, {"error": "invalid_request", "message": message})


def test_a_valid_cursor_for_a_message_since_deleted_still_lists_what_is_older() -> None:
    older, newer = post("older")["id"], post("newer")["id"]
    assert delete(newer)["statusCode"] == 204

    assert list_messages(cursor=encode_cursor(newer))[1]["messages"] == [call(one_message("GET", older))[1]]


@pytest.mark.parametrize("scopes", [[], ["messages:write"], ["messages:readonly"], ["MESSAGES:READ"]])
def test_list_messages_without_the_read_scope_is_forbidden(scopes: list[str]) -> None:
    status, body, headers = call(
        proxy_event("GET", "/messages", authorizer=authorizer_context(scopes=scopes))
    )

    assert (status, body) == (
        403,
        {"error": "insufficient_scope", "message": "This route requires the scope(s): messages:read"},
    )
    assert headers["WWW-Authenticate"] == ['Bearer error="insufficient_scope", scope="messages:read"']


# GET /messages/{id} --------------------------------------------------------------------------------------


def test_a_message_is_read_by_its_id_in_any_case() -> None:
    posted = post("hello")

    assert call(one_message("GET", posted["id"], scopes=READ))[:2] == (200, posted)
    assert call(one_message("GET", posted["id"].upper(), scopes=READ))[:2] == (200, posted)


def test_a_message_that_does_not_exist_is_404() -> None:
    assert call(one_message("GET", FIRST_ID))[:2] == (
        404,
        {"error": "not_found", "message": f"There is no message {FIRST_ID}"},
    )


ID_ADVICE = (
    "message ids are UUIDv7, as POST /messages returns them in 'id'"
    " (like 0190b2a4-5c2e-7d3f-9a1b-2c3d4e5f6a7b)"
)
ID_ERROR = f"The message id is not a UUIDv7: {ID_ADVICE}"


@pytest.mark.parametrize(
    ("message_id", "version"),
    [
        ("019b7ca9-8f2e-4000-8000-000000000000", 4),  # what uuid.uuid4() and most tools make
        ("019B7CA9-8F2E-1000-8000-000000000000", 1),
        ("019b7ca9-8f2e-6000-8000-000000000000", 6),
    ],
)
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_a_uuid_of_another_version_is_400_saying_the_ids_are_uuidv7(
    method: str, message_id: str, version: int
) -> None:
    assert call(one_message(method, message_id))[:2] == (
        400,
        {"error": "invalid_request", "message": f"The message id is a UUID version {version}; {ID_ADVICE}"},
    )


@pytest.mark.parametrize(
    "message_id",
    [
        "nope",
        "42",
        "019b7ca98f2e70008000000000000000",  # no hyphens
        "{019b7ca9-8f2e-7000-8000-000000000000}",
        "019b7ca9-8f2e-7000-8000-000000000000 ",
        "019b7ca9-8f2e-7000-8000-00000000000\u0660",
        "x" * 5_000,
    ],
)
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_a_malformed_message_id_is_400(method: str, message_id: str) -> None:
    assert call(one_message(method, message_id))[:2] == (
        400,
        {"error": "invalid_request", "message": ID_ERROR},
    )


# DELETE /messages/{id} -----------------------------------------------------------------------------------


def test_its_author_deletes_a_message_204_with_no_body_and_it_is_gone() -> None:
    posted = post("mine")

    response = delete(posted["id"])

    assert (response["statusCode"], response["body"], dict(response["multiValueHeaders"])) == (204, None, {})
    assert call(one_message("GET", posted["id"]))[0] == 404
    assert call(one_message("DELETE", posted["id"]))[:2] == (
        404,
        {"error": "not_found", "message": f"There is no message {posted['id']}"},
    )


def test_another_caller_cannot_delete_a_message_403_and_it_stays() -> None:
    posted = post("mine", sub="user-123")

    status, body, headers = call(one_message("DELETE", posted["id"], sub="someone-else"))

    assert (status, body) == (
        403,
        {"error": "forbidden", "message": f"Only the author of message {posted['id']} may delete it"},
    )
    assert "WWW-Authenticate" not in headers  # the token is fine: it is not this caller's message
    assert call(one_message("GET", posted["id"]))[:2] == (200, posted)


def test_the_same_sub_of_another_issuer_cannot_delete_a_message_403_and_it_stays() -> None:
    posted = post("mine", sub="alice")
    other_issuer = authorizer_context(sub="alice", iss="https://other-issuer.example.com")
    event = proxy_event(
        "DELETE", "/messages/{id}", path_parameters={"id": posted["id"]}, authorizer=other_issuer
    )

    status, body, _ = call(event)

    assert (status, body["error"]) == (403, "forbidden")
    assert call(one_message("GET", posted["id"]))[:2] == (200, posted)
    assert delete(posted["id"], sub="alice")["statusCode"] == 204


def test_deleting_needs_the_write_scope_even_for_the_author() -> None:
    posted = post("mine")

    status, body, _ = call(one_message("DELETE", posted["id"], scopes=READ))

    assert (status, body["error"]) == (403, "insufficient_scope")
    assert call(one_message("GET", posted["id"]))[0] == 200


def test_reading_one_message_needs_the_read_scope() -> None:
    posted = post("mine")

    status, body, _ = call(one_message("GET", posted["id"], scopes=("messages:write",)))

    assert (status, body) == (
        403,
        {"error": "insufficient_scope", "message": "This route requires the scope(s): messages:read"},
    )


NOT_AN_OBJECT = "The body must be a JSON object with a 'text' string"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(None, NOT_AN_OBJECT, id="no body"),
        pytest.param("", NOT_AN_OBJECT, id="empty body"),
        pytest.param("{", "The body is not valid JSON", id="truncated JSON"),
        pytest.param("text=hello", "The body is not valid JSON", id="form-encoded"),
        pytest.param("[" * 100_000, f"The body must be at most {MAX_BODY_BYTES} bytes", id="huge body"),
        pytest.param("[" * 5_000, "The body is not valid JSON", id="nested past the recursion limit"),
        pytest.param('["hello"]', NOT_AN_OBJECT, id="array"),
        pytest.param('"hello"', NOT_AN_OBJECT, id="string"),
        pytest.param("42", NOT_AN_OBJECT, id="number"),
        pytest.param("null", NOT_AN_OBJECT, id="null"),
        pytest.param("{}", "'text' is required", id="missing text"),
        pytest.param('{"message": "hi"}', "'text' is required", id="misnamed text"),
        pytest.param('{"text": null}', "'text' must be a string", id="null text"),
        pytest.param('{"text": 5}', "'text' must be a string", id="number text"),
        pytest.param('{"text": ["hi"]}', "'text' must be a string", id="array text"),
        pytest.param('{"text": ""}', "'text' must not be empty", id="empty text"),
        pytest.param('{"text": " \\n\\t "}', "'text' must not be empty", id="blank text"),
        pytest.param(
            json.dumps({"text": "x" * (MAX_TEXT_CHARS + 1)}),
            f"'text' must be at most {MAX_TEXT_CHARS} characters",
            id="oversized text",
        ),
    ],
)
def test_create_message_rejects_a_bad_body_with_400(body: str | None, message: str) -> None:
    status, answer, _ = call(post_messages(body))

    assert (status, answer) == (400, {"error": "invalid_request", "message": message})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param("not base64!", "The body is not valid base64", id="not base64"),
        pytest.param("//79", "The body is not valid JSON", id="not UTF-8"),
    ],
)
def test_create_message_rejects_a_bad_base64_body_with_400(body: str, message: str) -> None:
    event = post_messages(None)
    event["body"], event["isBase64Encoded"] = body, True

    status, answer, _ = call(event)

    assert (status, answer) == (400, {"error": "invalid_request", "message": message})


# Deployed without the authorizer -------------------------------------------------------------------------

ROUTES = [
    ("GET", "/profile"),
    ("GET", "/messages"),
    ("POST", "/messages"),
    ("GET", "/messages/{id}"),
    ("DELETE", "/messages/{id}"),
]


@pytest.mark.parametrize(("method", "resource"), ROUTES)
@pytest.mark.parametrize(
    ("context", "problem"),
    [
        pytest.param(None, "requestContext.authorizer is absent", id="no authorizer"),
        pytest.param({}, "requestContext.authorizer is absent", id="empty authorizer"),
        pytest.param({"principalId": "user-123"}, "it has no 'sub'", id="another authorizer's context"),
        pytest.param({"claims": {"sub": "user-123"}}, "it has no 'sub'", id="a Cognito authorizer's context"),
        pytest.param(authorizer_context(iss=None), "it has no 'iss'", id="no iss"),
        pytest.param(authorizer_context(sub=""), "it has no 'sub'", id="empty sub"),
        pytest.param(
            authorizer_context(scopes=None, scope="messages:read messages:write"),
            "it has no 'scopes'",
            id="an older authorizer's space-separated scope",
        ),
        pytest.param(
            authorizer_context(scopes="messages:read messages:write"),
            "its 'scopes' is not a JSON array of names",
            id="scopes not JSON",
        ),
        pytest.param(
            authorizer_context(scopes='"messages:read"'),
            "its 'scopes' is not a JSON array of names",
            id="a string",
        ),
        pytest.param(
            authorizer_context(scopes='["messages:read", 1]'),
            "its 'scopes' is not a JSON array of names",
            id="a number in it",
        ),
        pytest.param(
            authorizer_context(scopes='["messages:read", ""]'),
            "its 'scopes' is not a JSON array of names",
            id="an empty name in it",
        ),
    ],
)
def test_a_route_reached_without_the_authorizer_context_answers_500_with_the_reason(
    method: str, resource: str, context: dict[str, Any] | None, problem: str
) -> None:
    event = proxy_event(
        method, resource, body='{"text": "hi"}', authorizer=context, path_parameters={"id": FIRST_ID}
    )

    status, body, _ = call(event)

    assert (status, body) == (
        500,
        {
            "error": "authorizer_context_missing",
            "message": f"The request reached this function without the JWT authorizer's context ({problem}); "
            "the route must be deployed behind the JwtAuthorizer",
        },
    )


def test_an_event_without_request_context_answers_500_not_a_crash() -> None:
    event = proxy_event("GET", "/profile", authorizer=authorizer_context())
    del event["requestContext"]["authorizer"]
    event["requestContext"] = None

    status, body, _ = call(event)

    assert (status, body["error"]) == (500, "authorizer_context_missing")


# Everything else -----------------------------------------------------------------------------------------


def test_an_unknown_route_answers_404_in_json() -> None:
    status, body, _ = call(proxy_event("DELETE", "/messages", authorizer=authorizer_context()))

    assert (status, body) == (404, {"error": "not_found", "message": "No route for DELETE /messages"})


def logged_lines(caplog: pytest.LogCaptureFixture) -> str:
    """The JSON lines the function's logger wrote, exactly as CloudWatch would receive them."""
    import protected_api

    formatter = protected_api.logger.registered_formatter
    return "\n".join(formatter.format(record) for record in caplog.records)


def test_an_unexpected_error_answers_500_in_json_and_is_logged(
    api: ModuleType, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: object) -> list[object]:
        raise RuntimeError("the database is on fire")

    monkeypatch.setattr(api.board, "newest", broken)

    status, body, _ = call(proxy_event("GET", "/messages", authorizer=authorizer_context()))

    assert (status, body) == (500, {"error": "internal_error", "message": "Something went wrong on our side"})
    assert "RuntimeError: the database is on fire" in logged_lines(caplog)


def test_the_function_never_logs_the_bearer_token(caplog: pytest.LogCaptureFixture) -> None:
    event = post_messages(json.dumps({"text": "hi"}))
    token = event["headers"]["Authorization"].split()[1]

    call(event)
    call(post_messages("{"))
    call(proxy_event("GET", "/profile", authorizer=None) | {"headers": event["headers"]})

    logs = logged_lines(caplog)
    assert "message created" in logs
    assert "authorizer_context_missing" in logs
    assert token not in logs
    assert token.split(".")[2] not in logs


def test_the_functions_refusals_are_logged_with_their_reason(caplog: pytest.LogCaptureFixture) -> None:
    posted = post("mine", sub="alice")
    caplog.clear()

    call(one_message("DELETE", posted["id"], sub="mallory"))
    call(post_messages(json.dumps({"text": "hi"}), scopes=READ))
    call(post_messages("{"))  # a bad body is the client's own business: no line

    lines = [json.loads(line) for line in logged_lines(caplog).splitlines()]
    assert [
        (line["level"], line["error"], line.get("message_id"), line.get("missing_scopes")) for line in lines
    ] == [
        ("INFO", "forbidden", posted["id"], None),
        # Past the gateway's Deny, which covers every route ROUTE_SCOPES names: worth a warning.
        ("WARNING", "insufficient_scope", None, "messages:write"),
    ]
