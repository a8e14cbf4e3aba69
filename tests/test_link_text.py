"""Text from a link is never trusted: it is cut, quoted, escaped before markdown, and logged
with %r, so no link can put a live link or an image on a page or forge a log line."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from dashboard.formatting import escape_markdown
from queries.filters import LINK_VALUE_SHOWN_CHARS, shown_link_value
from tests.app_support import open_page

LINK = "[Session expired, log in again](https://evil.example/login)"
IMAGE = "![t](https://evil.example/px.png)"
FORGED = "x\n2026-12-01 09:00:00 INFO dashboard.audit: export by=ps@interior.go.ke"
HUGE = "A" * 100_000
PAYLOADS = [LINK, IMAGE, FORGED, HUGE, ":red[alarm] $x^2$ <b>bold</b> **strong**"]


@pytest.mark.parametrize("text", PAYLOADS, ids=["link", "image", "newline", "huge", "directives"])
def test_escaped_text_has_no_markdown_left(text: str) -> None:
    escaped = escape_markdown(text)
    # Every special character is preceded by a backslash, and no line break survives.
    assert "\n" not in escaped
    assert not re.search(r"(?<!\\)[\[\]()!*:$<>`]", escaped)
    assert escaped.replace("\\", "") == " ".join(text.splitlines())


def test_a_link_value_is_cut_and_loses_control_characters() -> None:
    shown = shown_link_value(FORGED + HUGE)
    assert len(shown) == LINK_VALUE_SHOWN_CHARS + 2  # the quotes
    assert shown.endswith("…'") and "\n" not in shown


@pytest.mark.parametrize("parameter", ["period", "compare", "county", "ward"])
@pytest.mark.parametrize(
    "payload", PAYLOADS, ids=["link", "image", "newline", "huge", "directives"]
)
def test_hostile_link_values_are_shown_inert_and_logged_quoted(
    demo_db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    parameter: str,
    payload: str,
) -> None:
    params = {parameter: payload}
    if parameter == "ward":
        params["county"] = "032"
    with caplog.at_level(logging.INFO, logger="dashboard"):
        at = open_page(demo_db_path, monkeypatch, params)
    assert not at.exception
    notes = [info.value for info in at.info]
    assert notes, "the ignored value must be mentioned"
    for note in notes:
        assert "](" not in note and "![" not in note and "\n" not in note
        assert len(note) < 400  # the 100,000-character value is not echoed
    logged = [r.getMessage() for r in caplog.records if "link parameter" in r.getMessage()]
    assert logged
    for message in logged:
        assert "\n" not in message and len(message) < 2_000
