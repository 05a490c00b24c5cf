"""The docs name the tests that prove their claims: every test they name exists, under that name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# `unit/test_x.py`, `tests/unit/test_x.py`, `unit/test_x.py::test_name`
_REFERENCE = re.compile(r"`(?:tests/)?((?:unit|integration|e2e)/test_\w+\.py)(?:::(\w+))?`")


def _references() -> list[tuple[str, str, str | None]]:
    return [
        (document.name, match[1], match[2])
        for document in DOCS
        for match in _REFERENCE.finditer(document.read_text())
    ]


def test_the_docs_name_tests() -> None:
    assert len(_references()) >= 20


@pytest.mark.parametrize(("document", "path", "name"), _references())
def test_each_test_the_docs_name_exists(document: str, path: str, name: str | None) -> None:
    source = ROOT / "tests" / path
    assert source.is_file(), f"{document} names {path}, which does not exist"
    if name is not None:
        assert re.search(rf"^def {name}\(", source.read_text(), re.MULTILINE), f"{document}: {path}::{name}"


# Links between the documents -------------------------------------------------------------------------

_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
_LINK = re.compile(r"\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6} (.+?)\s*$", re.MULTILINE)


def _prose(document: Path) -> str:
    return _FENCE.sub("", document.read_text())


def _anchors(document: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens."""
    anchors: set[str] = set()
    for heading in _HEADING.findall(_prose(document)):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        anchor, number = slug, 0
        while anchor in anchors:
            number += 1
            anchor = f"{slug}-{number}"
        anchors.add(anchor)
    return anchors


def _links() -> list[tuple[str, str]]:
    return [
        (str(document.relative_to(ROOT)), target)
        for document in DOCS
        for target in _LINK.findall(_prose(document))
        if not re.match(r"[a-z]+:", target)  # http:, https:, mailto:
    ]


def test_the_docs_link_to_each_other() -> None:
    assert len(_links()) >= 40


@pytest.mark.parametrize(("document", "target"), _links())
def test_each_link_between_the_docs_reaches_a_file_and_its_heading(document: str, target: str) -> None:
    path, _, anchor = target.partition("#")
    destination = (ROOT / document).parent / path if path else ROOT / document
    assert destination.exists(), f"{document} links to {target}: no such file"
    if anchor:
        assert destination.suffix == ".md", f"{document} links to {target}: an anchor in a non-Markdown file"
        assert anchor in _anchors(destination), f"{document} links to {target}: no such heading"


#: What used to be a README section (readers may look for it there) and where it lives now. The README
#: keeps what a newcomer needs first; each moved section has one home in docs/, which the README names.
MOVED = {
    "Deploy (parameters, what the stack creates, operating it)": "docs/deploy.md#deploy",
    "No provider yet? A self-contained deploy": "docs/deploy.md#no-provider-yet-a-self-contained-deploy",
    "Throttling and concurrency": "docs/deploy.md#throttling-and-concurrency",
    "TLS": "docs/deploy.md#tls",
    "Access logs": "docs/deploy.md#access-logs",
    "Alarms": "docs/deploy.md#alarms",
    "Regions": "docs/deploy.md#regions",
    "Configuration": "docs/configuration.md#variables",
    "Why was my token refused? (in full)": "docs/configuration.md#explaining-a-token-make-explain",
    "Verified-token cache": "docs/configuration.md#verified-token-cache",
    "Observability": "docs/configuration.md#observability",
    "Run it with the SAM CLI": "docs/sam-cli.md#run-it-with-the-sam-cli",
    "The quick start with HTTPie": "docs/local-stack.md#the-quick-start-with-httpie",
}


@pytest.mark.parametrize(("section", "home"), MOVED.items())
def test_each_section_moved_out_of_the_readme_has_a_home_the_readme_names(section: str, home: str) -> None:
    path, _, anchor = home.partition("#")
    assert anchor in _anchors(ROOT / path), f"{section}: {home} has no such heading"
    assert f"]({path}" in (ROOT / "README.md").read_text(), f"the README does not link to {path}"


def test_the_readme_is_a_first_read() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) < 250
    # What a newcomer needs first comes first: the two commands, the flow, then the map of docs/.
    order = [readme.index(marker) for marker in ("make dev ", "make test ", "# 1. ", "## Documentation")]
    assert order == sorted(order)
    documented = set(re.findall(r"^\| \[docs/([\w-]+\.md)\]", readme, flags=re.MULTILINE))
    assert documented == {document.name for document in (ROOT / "docs").glob("*.md")}
