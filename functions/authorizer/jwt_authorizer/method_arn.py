"""The `methodArn` of a TOKEN authorizer event (or the `routeArn` of an HTTP API's): which API, stage,
method and path the call is for. An HTTP API's stage may be `$default`."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from .errors import Reason, TokenRejected

_METHOD_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):execute-api:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"(?P<api_id>[A-Za-z0-9]+)/(?P<stage>\$default|[A-Za-z0-9_.-]+)/(?P<method>[A-Z]+|\*)/(?P<path>[^\s]*)"
)


@dataclass(frozen=True)
class MethodArn:
    partition: str
    region: str
    account: str
    api_id: str
    stage: str
    method: str
    path: str

    @classmethod
    def parse(cls, value: object) -> MethodArn:
        if not isinstance(value, str) or len(value) > 2_048:
            raise TokenRejected(Reason.MALFORMED_EVENT, "the methodArn is missing or not a string")
        return _parse_method_arn(value)

    @functools.cached_property
    def stage_prefix(self) -> str:
        return f"arn:{self.partition}:execute-api:{self.region}:{self.account}:{self.api_id}/{self.stage}"

    @property
    def request_path(self) -> str:
        """The request's path as the client spelled it: `/orders/` for …/POST/orders/, `//orders` for
        …/POST//orders (the slash after the method separates; any further one is the client's)."""
        return f"/{self.path}"

    @property
    def route(self) -> str:
        return f"{self.method} {self.request_path}"


@functools.lru_cache(maxsize=1_024)
def _parse_method_arn(value: str) -> MethodArn:
    # A warm function sees the same few ARNs again and again; a failed parse raises and is not kept.
    match = _METHOD_ARN.fullmatch(value)
    if match is None:
        raise TokenRejected(Reason.MALFORMED_EVENT, "the methodArn is not an execute-api ARN")
    return MethodArn(**match.groupdict())
