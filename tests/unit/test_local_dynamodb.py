"""The local DynamoDB makes a template's table with the API calls CloudFormation's properties mean."""

from __future__ import annotations

from local.dynamodb import create_table_requests
from local.template import TableSpec
from tests.support.messages_table import template_tables


def test_the_messages_table_is_created_with_its_keys_index_billing_encryption_and_recovery() -> None:
    [table] = template_tables()

    assert create_table_requests(table) == [
        (
            "create_table",
            {
                "TableName": "MessagesTable",
                "AttributeDefinitions": [
                    {"AttributeName": "id", "AttributeType": "S"},
                    {"AttributeName": "feed", "AttributeType": "S"},
                ],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST",
                "GlobalSecondaryIndexes": [
                    {
                        "IndexName": "newest-first",
                        "KeySchema": [
                            {"AttributeName": "feed", "KeyType": "HASH"},
                            {"AttributeName": "id", "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                ],
                "SSESpecification": {"Enabled": True, "SSEType": "KMS"},
            },
        ),
        (
            "update_continuous_backups",
            {
                "TableName": "MessagesTable",
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            },
        ),
    ]


def test_cloudformation_only_properties_are_left_out_and_renamed_ones_translated() -> None:
    table = TableSpec(
        "Events",
        "Events",
        {
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "StreamSpecification": {"StreamViewType": "NEW_IMAGE"},
            "TimeToLiveSpecification": {"AttributeName": "expires", "Enabled": True},
            "ContributorInsightsSpecification": {"Enabled": True},
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": "by-x",
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                    "ContributorInsightsSpecification": {"Enabled": True},
                }
            ],
        },
    )

    [(_, create), ttl] = create_table_requests(table)

    assert create["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert "ContributorInsightsSpecification" not in create
    assert "ContributorInsightsSpecification" not in create["GlobalSecondaryIndexes"][0]
    assert ttl == (
        "update_time_to_live",
        {"TableName": "Events", "TimeToLiveSpecification": {"AttributeName": "expires", "Enabled": True}},
    )
