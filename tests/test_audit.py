"""The audit trail: every download is logged with who, what and the filters."""

from __future__ import annotations

import logging

from tests.app_support import clear_caches, run_app, use_demo_db


def test_a_download_is_logged_with_who_what_and_filters(demo_db_path, monkeypatch, caplog) -> None:
    use_demo_db(demo_db_path, monkeypatch)
    clear_caches()
    auth = {
        "client_id": "x",
        "client_secret": "y",
        "cookie_secret": "z",
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "server_metadata_url": "https://id.example/.well-known/openid",
    }
    access = {"users": {"nakuru@example.go.ke": {"role": "county", "counties": ["032"]}}}
    at = run_app(
        {"period": "this_fy"},
        secrets={"auth": auth, "access": access},
        user={"is_logged_in": True, "email": "nakuru@example.go.ke"},
    )
    assert not at.exception
    button = next(b for b in at.download_button if b.key == "download-county-league-table")
    with caplog.at_level(logging.INFO, logger="dashboard.audit"):
        button.click().run()
    records = [r for r in caplog.records if r.name == "dashboard.audit"]
    assert len(records) == 1
    message = records[0].getMessage()
    assert "by=nakuru@example.go.ke" in message
    assert "County league table (CSV)" in message and "'period': 'this_fy'" in message
