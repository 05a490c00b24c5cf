"""A local DynamoDB: moto's server on 127.0.0.1, with template.yaml's tables, created as CloudFormation would.

Each table comes from its AWS::DynamoDB::Table resource, translated and resolved like the rest of the
template (local/template.py), so the keys and indexes the functions query are exactly the deployed ones.
The data is in memory: it lives as long as the server runs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from local.apigateway import REGION
from local.serving import check_free
from local.template import TableSpec

#: The port DynamoDB Local listens on, so `aws dynamodb --endpoint-url http://127.0.0.1:8000` habits work.
DEFAULT_PORT = 8000
#: The variable through which a local run tells a function where this DynamoDB is: set in each function
#: whose template declares it (empty when deployed), as `sam local --env-vars` sets only declared variables.
ENDPOINT_VARIABLE = "DYNAMODB_ENDPOINT_URL"
#: moto accepts any credentials; these keep the client from looking for real ones.
CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local", "aws_session_token": "local"}

#: CloudFormation properties that are CreateTable parameters of the same name and shape.
_CREATE_TABLE_PROPERTIES = (
    "AttributeDefinitions",
    "KeySchema",
    "BillingMode",
    "ProvisionedThroughput",
    "OnDemandThroughput",
    "TableClass",
    "DeletionProtectionEnabled",
    "Tags",
)
_INDEX_PROPERTIES = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput", "OnDemandThroughput")


class LocalDynamoDBError(Exception):
    """The local DynamoDB cannot start or cannot create a table; the message says why."""


def create_table_requests(table: TableSpec) -> list[tuple[str, dict[str, Any]]]:
    """The DynamoDB API calls that make `table` as CloudFormation makes it: CreateTable, then its settings.

    Properties that change nothing the functions' calls can see (contributor insights, Kinesis streaming,
    resource policies, imports) are CloudFormation's alone and are left out.
    """
    properties = table.properties
    create: dict[str, Any] = {"TableName": table.name}
    create |= {name: properties[name] for name in _CREATE_TABLE_PROPERTIES if name in properties}
    for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if kind in properties:
            create[kind] = [
                {name: index[name] for name in _INDEX_PROPERTIES if name in index}
                for index in properties[kind]
            ]
    if "StreamSpecification" in properties:
        create["StreamSpecification"] = {"StreamEnabled": True, **properties["StreamSpecification"]}
    sse = properties.get("SSESpecification")
    if sse is not None:  # CloudFormation says SSEEnabled where the API says Enabled
        create["SSESpecification"] = {
            "Enabled": bool(sse.get("SSEEnabled", False)),
            **{name: sse[name] for name in ("SSEType", "KMSMasterKeyId") if name in sse},
        }
    calls: list[tuple[str, dict[str, Any]]] = [("create_table", create)]
    if "PointInTimeRecoverySpecification" in properties:
        calls.append(
            (
                "update_continuous_backups",
                {
                    "TableName": table.name,
                    "PointInTimeRecoverySpecification": properties["PointInTimeRecoverySpecification"],
                },
            )
        )
    if "TimeToLiveSpecification" in properties:
        calls.append(
            (
                "update_time_to_live",
                {"TableName": table.name, "TimeToLiveSpecification": properties["TimeToLiveSpecification"]},
            )
        )
    return calls


class LocalDynamoDB:
    """moto's ThreadedMotoServer on `host:port` (0: a free port), and the tables it was asked for."""

    def __init__(self, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
        from moto.server import ThreadedMotoServer

        if port:
            check_free(host, port)  # the server binds on its own thread, which would hang on a busy port
        # moto's server logs every request through werkzeug; the gateway's own line per request is enough.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self._tables: list[str] = []
        self._started = False

    def start(self) -> None:
        self._server.start()
        self._started = True

    @property
    def url(self) -> str:
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def client(self) -> Any:
        import boto3

        return boto3.client("dynamodb", endpoint_url=self.url, region_name=REGION, **CREDENTIALS)

    def create_tables(self, tables: Iterable[TableSpec]) -> None:
        from botocore.exceptions import ClientError

        client = self.client()
        for table in tables:
            try:
                for operation, request in create_table_requests(table):
                    getattr(client, operation)(**request)
            except ClientError as error:
                raise LocalDynamoDBError(
                    f"{table.logical_id}: the local DynamoDB refused the table: {error}"
                ) from None
            self._tables.append(table.name)

    def stop(self) -> None:
        """Stop serving and drop the tables: moto keeps them per process, not per server."""
        if not self._started:
            return
        client = self.client()
        for name in self._tables:
            client.delete_table(TableName=name)
        self._tables = []
        self._server.stop()
        self._started = False
