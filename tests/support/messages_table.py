"""The messages table as template.yaml defines it, for tests that run the protected function on moto."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from local.dynamodb import create_table_requests
from local.template import TableSpec, load_api

ROOT = Path(__file__).resolve().parents[2]
TABLE_NAME = "MessagesTable"
REGION = "us-east-1"


@cache
def template_tables() -> tuple[TableSpec, ...]:
    """The template's tables, translated and resolved as the local stack creates them."""
    parameters = {"IssuerUrl": "https://issuer.example.com", "Audience": "api://messages"}
    return tuple(load_api(ROOT / "template.yaml", parameters).tables.values())


def create_template_tables(client: Any) -> None:
    for table in template_tables():
        for operation, request in create_table_requests(table):
            getattr(client, operation)(**request)
