"""The app takes its database URL and privacy threshold from Streamlit's secrets (wherever
`secrets.files` puts them), not only from the project's own `.streamlit/secrets.toml`."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.pages import REHABILITATION
from queries.privacy import THRESHOLD_ENV_VAR
from tests.app_support import clear_caches, run_app


def test_the_database_url_and_threshold_come_from_the_app_secrets(
    demo_db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REPORTING_DB_URL", raising=False)
    monkeypatch.delenv(THRESHOLD_ENV_VAR, raising=False)
    absent_demo = tmp_path / "never-built.sqlite"
    monkeypatch.setenv("USALAMA_DEMO_DB", str(absent_demo))
    clear_caches()
    at = run_app(
        {},
        REHABILITATION.view,
        secrets={
            "reporting_db": {"url": f"sqlite:///{demo_db_path}"},
            "access": {"open_role": "national"},
            "privacy": {"threshold": 10},
        },
    )
    assert not at.exception, [e.value for e in at.exception]
    captions = " ".join(c.value for c in at.caption) + " ".join(c.value for c in at.sidebar.caption)
    # Read from the secrets' database: not the demo, which was never built.
    assert not absent_demo.exists()
    assert "SYNTHETIC DEMO DATA" not in captions
    # And with the secrets' threshold: counts from 1 to 9 read '<10'.
    assert "from 1 to 9" in captions and "'<10'" in captions
    clear_caches()
