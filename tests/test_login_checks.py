"""Login hardening: an unverified or untrusted identity gets no data, and a real database without
login configured is not even contacted."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.pages import OVERVIEW

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
AUTH = {
    "client_id": "x",
    "client_secret": "y",
    "cookie_secret": "z",
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "server_metadata_url": "https://id.example/.well-known/openid-configuration",
}
TRUSTED = "https://login.example.go.ke/realms/ministry"


@pytest.fixture
def app(demo_db_path: Path, monkeypatch: pytest.MonkeyPatch):
    import streamlit as st

    monkeypatch.delenv("REPORTING_DB_URL", raising=False)
    monkeypatch.setenv("USALAMA_DEMO_DB", str(demo_db_path))

    def run(user: dict) -> AppTest:
        st.cache_data.clear()
        at = AppTest.from_file(APP, default_timeout=120)
        at.secrets["auth"] = AUTH
        at.secrets["access"] = {"issuers": [TRUSTED], "users": {"ps@example.go.ke": "national"}}
        at.user = user
        return at.run()

    return run


@pytest.mark.parametrize(
    ("user", "sees_data"),
    [
        ({"email": "ps@example.go.ke", "email_verified": True, "iss": TRUSTED}, True),
        ({"email": "ps@example.go.ke", "iss": TRUSTED}, True),  # providers that omit the claim
        ({"email": "ps@example.go.ke", "email_verified": False, "iss": TRUSTED}, False),
        (
            {"email": "ps@example.go.ke", "email_verified": True, "iss": "https://evil.example"},
            False,
        ),
    ],
)
def test_only_a_vouched_identity_sees_data(app, user, sees_data) -> None:
    at = app({"is_logged_in": True, **user})
    assert not at.exception
    assert (len(at.metric) == len(OVERVIEW.cards)) is sees_data
    if not sees_data:
        assert at.title[0].value == "No access yet"


def test_real_database_without_login_is_not_contacted(monkeypatch) -> None:
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    # Nothing listens on port 9: if the app tried the database it would say it cannot be used.
    monkeypatch.setenv("REPORTING_DB_URL", "postgresql+psycopg://reader:secret@127.0.0.1:9/x")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert len(at.error) == 1 and "Login is not configured" in at.error[0].value
    assert "127.0.0.1" not in at.error[0].value
