"""Reading API Gateway's REQUEST event: the credential, the proofs, the URL called, the client certificate."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from jwt_authorizer.errors import Reason, TokenRejected
from jwt_authorizer.request_event import read_request_event
from tests.support.request_events import EXECUTE_API_DOMAIN, request_event, self_signed_certificate

pytestmark = pytest.mark.unit


def test_on_the_execute_api_domain_the_url_has_the_stage_in_its_path() -> None:
    event = request_event("GET", "/messages", {"Authorization": "DPoP t", "DPoP": "p"}, stage="prod")

    request = read_request_event(event)

    assert request.url == f"https://{EXECUTE_API_DOMAIN}/prod/messages"
    assert (request.method, request.credential, request.headers) == ("GET", "DPoP t", {"dpop": "p"})
    assert request.method_arn.route == "GET /messages"
    assert request.certificate_thumbprint is None


def test_on_a_custom_domain_the_url_has_the_base_path_and_no_stage() -> None:
    event = request_event("POST", "/messages", {}, domain="api.example.com", base_path="v1", stage="prod")

    assert read_request_event(event).url == "https://api.example.com/v1/messages"


def test_on_a_custom_domain_mapped_at_its_root_the_url_is_the_resource_path() -> None:
    event = request_event("DELETE", "/messages/42", {}, domain="api.example.com", base_path="")

    assert read_request_event(event).url == "https://api.example.com/messages/42"


def test_a_port_other_than_the_schemes_default_is_part_of_the_url() -> None:
    event = request_event("GET", "/messages", {}, domain="127.0.0.1", forwarded=("http", "3000"))

    assert read_request_event(event).url == "http://127.0.0.1:3000/prod/messages"


def test_headers_are_read_whatever_their_case_and_every_dpop_header_is_kept() -> None:
    event = request_event("GET", "/messages", {"authorization": "DPoP t", "dpop": ["p1", "p2"]})

    assert read_request_event(event).headers == {"dpop": "p1,p2"}


def test_two_authorization_headers_are_refused() -> None:
    event = request_event("GET", "/messages", {"Authorization": ["DPoP a", "Bearer b"]})

    with pytest.raises(TokenRejected) as caught:
        read_request_event(event)
    assert caught.value.reason is Reason.MALFORMED_HEADER


@pytest.mark.parametrize(
    "spoil",
    [
        lambda event: event.update(type="TOKEN"),
        lambda event: event.update(httpMethod="POST"),
        lambda event: event.pop("requestContext"),
        lambda event: event["requestContext"].update(path="messages"),
        lambda event: (
            event["requestContext"].pop("domainName")
            and event["headers"].pop("Host")
            and event["multiValueHeaders"].pop("Host")
        ),
        lambda event: event["multiValueHeaders"].update({"X-Forwarded-Proto": ["gopher"]}),
        lambda event: event["requestContext"]["identity"].update(clientCert={"subjectDN": "CN=x"}),
        lambda event: event["requestContext"]["identity"].update(clientCert={"clientCertPem": "not a pem"}),
    ],
)
def test_an_event_that_is_not_api_gateways_request_event_is_refused(spoil: object) -> None:
    event = request_event("GET", "/messages", {"Authorization": "DPoP t"})
    spoil(event)  # type: ignore[operator]

    with pytest.raises(TokenRejected) as caught:
        read_request_event(event)
    assert caught.value.reason is Reason.MALFORMED_EVENT


def test_under_mutual_tls_the_certificates_sha256_thumbprint_is_read() -> None:
    pem = self_signed_certificate()
    der = x509.load_pem_x509_certificate(pem.encode()).public_bytes(Encoding.DER)
    expected = base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()

    event = request_event("GET", "/messages", {}, domain="api.example.com", base_path="", client_cert_pem=pem)

    assert read_request_event(event).certificate_thumbprint == expected
