"""REQUEST authorizer events (REST API, payload 1.0) shaped as API Gateway sends them.

The shape follows the AWS developer guide's "Input to an API Gateway Lambda authorizer" example for the
REQUEST type, with `requestContext.domainName` and `requestContext.path` as API Gateway fills them: the
full path the client called, stage (execute-api domain) or base path (custom domain) included
(docs/dpop.md gives the sources), and `identity.clientCert` under mutual TLS.
"""

from __future__ import annotations

import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

API_ID = "abc123"
REGION = "eu-west-1"
ACCOUNT = "123456789012"
EXECUTE_API_DOMAIN = f"{API_ID}.execute-api.{REGION}.amazonaws.com"


def request_event(
    method: str,
    path: str,
    headers: dict[str, str | list[str]],
    *,
    stage: str = "prod",
    domain: str = EXECUTE_API_DOMAIN,
    base_path: str | None = None,
    client_cert_pem: str | None = None,
    forwarded: tuple[str, str] = ("https", "443"),
) -> dict[str, Any]:
    """The event for `method path` (the resource path, e.g. /messages/42) on the execute-api domain, or on
    `domain` with the base path mapping `base_path` ("" for a mapping at the root)."""
    prefix = f"/{stage}" if base_path is None else (f"/{base_path}" if base_path else "")
    multi = {name: value if isinstance(value, list) else [value] for name, value in headers.items()}
    multi.setdefault("Host", [domain])
    multi.setdefault("X-Forwarded-Proto", [forwarded[0]])
    multi.setdefault("X-Forwarded-Port", [forwarded[1]])
    identity: dict[str, Any] = {"sourceIp": "203.0.113.7", "userAgent": "curl/8.5.0"}
    if client_cert_pem is not None:
        identity["clientCert"] = {
            "clientCertPem": client_cert_pem,
            "subjectDN": "CN=client.example.com",
            "issuerDN": "CN=Example Root CA",
            "serialNumber": "a1:b2:c3",
            "validity": {"notBefore": "May 28 12:30:02 2019 GMT", "notAfter": "Aug  5 09:36:04 2030 GMT"},
        }
    return {
        "type": "REQUEST",
        "methodArn": f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/{stage}/{method}{path}",
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {name: values[-1] for name, values in multi.items()},
        "multiValueHeaders": multi,
        "queryStringParameters": {},
        "multiValueQueryStringParameters": {},
        "pathParameters": {},
        "stageVariables": {},
        "requestContext": {
            "path": f"{prefix}{path}",
            "accountId": ACCOUNT,
            "resourceId": "05c7jb",
            "stage": stage,
            "domainName": domain,
            "domainPrefix": domain.split(".", maxsplit=1)[0],
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": identity,
            "resourcePath": path,
            "httpMethod": method,
            "apiId": API_ID,
        },
    }


def self_signed_certificate(common_name: str = "client.example.com") -> str:
    """A client certificate's PEM, as API Gateway passes it under mutual TLS."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
