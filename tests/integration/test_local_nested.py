"""Nested applications in the local gateway's template reader: only a local Location, named clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.template import TemplateError, load_api

PARENT = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Child:
    Type: AWS::Serverless::Application
    Properties:
      Location: {location}
"""


@pytest.mark.parametrize(
    ("location", "problem"),
    [
        ("s3://bucket/child.yaml", "only a nested application whose Location is a local template"),
        ("https://example.com/child.yaml", "only a nested application whose Location is a local template"),
        (
            "{ApplicationId: arn:aws:serverlessrepo:us-east-1:1:applications/x, SemanticVersion: 1.0.0}",
            "only a nested application whose Location is a local template",
        ),
        ("missing.yaml", "Location 'missing.yaml' is not a file next to the template"),
    ],
)
def test_a_nested_application_that_cannot_run_here_is_named(
    tmp_path: Path, location: str, problem: str
) -> None:
    (tmp_path / "template.yaml").write_text(PARENT.format(location=location))

    with pytest.raises(TemplateError, match=f"^Child: {problem}"):
        load_api(tmp_path / "template.yaml")


def test_a_template_that_includes_itself_stops_at_the_nesting_limit(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(PARENT.format(location="template.yaml"))

    with pytest.raises(TemplateError, match=r"nested applications more than 4 deep"):
        load_api(tmp_path / "template.yaml")
