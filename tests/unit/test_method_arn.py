"""The methodArn of a TOKEN event, parsed once per distinct value."""

from __future__ import annotations

import pytest

from jwt_authorizer.errors import TokenRejected
from jwt_authorizer.method_arn import MethodArn

ARN = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/dev/GET/messages"


def test_a_method_arn_is_split_into_its_parts() -> None:
    arn = MethodArn.parse("arn:aws-cn:execute-api:cn-north-1:123456789012:abc/prod-1/POST/a/b/c")
    assert arn == MethodArn("aws-cn", "cn-north-1", "123456789012", "abc", "prod-1", "POST", "a/b/c")
    assert arn.route == "POST /a/b/c"
    assert arn.request_path == "/a/b/c"
    # The slash after the method separates; the client's own slashes stay.
    doubled = MethodArn.parse("arn:aws:execute-api:eu-west-1:123456789012:abc/dev/POST//orders/")
    assert (doubled.request_path, doubled.route) == ("//orders/", "POST //orders/")
    assert arn.stage_prefix == "arn:aws-cn:execute-api:cn-north-1:123456789012:abc/prod-1"


@pytest.mark.parametrize(
    "value",
    [
        None,
        7,
        "",
        "arn:aws:lambda:eu-west-1:123456789012:function:x",
        "arn:aws:execute-api:eu-west-1:123456789012:abc/dev",
        "arn:aws:execute-api:eu-west-1:1234:abc/dev/GET/x",
        "arn:aws:execute-api:eu-west-1:123456789012:abc/dev/get/x",
        "arn:aws:execute-api:eu-west-1:123456789012:abc/dev/GET/x y",
        "arn:aws:execute-api:eu-west-1:123456789012:a*c/dev/GET/x",
        ARN + "/" + "x" * 2_048,
    ],
)
def test_a_malformed_method_arn_is_rejected(value: object) -> None:
    with pytest.raises(TokenRejected) as raised:
        MethodArn.parse(value)
    assert raised.value.reason == "malformed_event"
