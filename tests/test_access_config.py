"""Identity -> role mapping from configuration."""

from __future__ import annotations

import pytest

from queries.access import AccessConfigError, access_config

SECTION = {
    "contact": "help@example.go.ke",
    "users": {
        "PS@Interior.go.ke": "national",
        "nakuru@example.go.ke": {"role": "county", "counties": ["32"]},
        "coast@example.go.ke": {"role": "county", "counties": ["001", "002"]},
        "data@example.go.ke": {"role": "admin"},
    },
}


def test_roles_and_scopes() -> None:
    config = access_config(SECTION, known_counties={"001", "002", "032"})
    assert config.grant_for("ps@interior.go.ke").scope is None
    assert config.grant_for(" Nakuru@Example.go.ke ").scope == ("032",)
    assert config.grant_for("coast@example.go.ke").scope == ("001", "002")
    admin = config.grant_for("data@example.go.ke")
    assert admin.scope is None and admin.sees_data_quality
    assert config.grant_for("stranger@example.com") is None
    assert config.grant_for(None) is None
    assert config.contact == "help@example.go.ke"


@pytest.mark.parametrize(
    "entry",
    [
        "superuser",
        {"role": "county"},
        {"role": "county", "counties": ["999"]},
        42,
    ],
)
def test_malformed_entries_are_refused(entry) -> None:
    with pytest.raises(AccessConfigError):
        access_config({"users": {"x@example.go.ke": entry}}, known_counties={"001"})


def test_users_file_is_merged(tmp_path) -> None:
    (tmp_path / "users.toml").write_text('[users]\n"extra@example.go.ke" = "national"\n')
    config = access_config({"users_file": "users.toml", "users": {}}, base_dir=tmp_path)
    assert config.grant_for("extra@example.go.ke").role == "national"
