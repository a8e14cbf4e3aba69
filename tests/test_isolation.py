"""The suite runs the app on its own settings, whatever the developer's shell and home hold
(tests/isolation.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st

from tests.app_support import clear_caches, open_page
from tests.isolation import EMPTY_SECRETS, drop_app_settings, server_options


def test_the_apps_settings_are_dropped_and_the_harness_settings_kept() -> None:
    environ = {
        "REPORTING_DB_URL": "postgresql://prod/reporting",
        "USALAMA_SERVING_COPY": "/var/lib/usalama/serving.duckdb",
        "STREAMLIT_SERVER_PORT": "80",
        "USALAMA_TEST_TODAY": "2027-03-15",
        "USALAMA_REQUIRE_ALL_SUITES": "1",
        "PATH": "/usr/bin",
        "MY_USALAMA_NOTE": "kept: not the app's",
    }
    dropped = drop_app_settings(environ)
    assert dropped == ["REPORTING_DB_URL", "STREAMLIT_SERVER_PORT", "USALAMA_SERVING_COPY"]
    assert environ == {
        "USALAMA_TEST_TODAY": "2027-03-15",
        "USALAMA_REQUIRE_ALL_SUITES": "1",
        "PATH": "/usr/bin",
        "MY_USALAMA_NOTE": "kept: not the app's",
    }


def test_a_database_url_in_the_developers_home_secrets_is_not_read(
    demo_db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    (home / ".streamlit").mkdir(parents=True)
    production = tmp_path / "production.sqlite"
    (home / ".streamlit" / "secrets.toml").write_text(
        f'[reporting_db]\nurl = "sqlite:///{production}"\n[privacy]\nthreshold = 11\n'
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setattr(st.secrets, "_secrets", None)  # parsed again, under this HOME
    clear_caches()
    at = open_page(demo_db_path, monkeypatch, {})
    assert not at.exception, [e.value for e in at.exception]
    captions = " ".join(c.value for c in at.caption) + " ".join(c.value for c in at.sidebar.caption)
    assert "SYNTHETIC DEMO DATA" in captions
    assert not production.exists()  # SQLite would have created the file on connecting
    clear_caches()


def test_browser_servers_read_the_suites_empty_secrets_unless_a_test_names_its_own() -> None:
    assert server_options(["--client.toolbarMode", "minimal"]) == [
        "--client.toolbarMode",
        "minimal",
        "--secrets.files",
        str(EMPTY_SECRETS),
    ]
    own = ["--secrets.files", "/tmp/oidc/secrets.toml"]
    assert server_options(own) == own
    assert EMPTY_SECRETS.read_text().lstrip().startswith("#")  # no setting in it
