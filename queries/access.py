"""Who may see what: identities mapped to roles (national, county, admin) and county scopes.

The mapping comes from the deployment's configuration (the `[access]` section of secrets.toml,
or a TOML file it names), never from the user or the URL. A scope is part of `Filters`, so every
query restricts counties in SQL and every cache entry is keyed by it.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROLES = ("national", "county", "admin")
DEFAULT_CONTACT = "the Usalama Mitaani programme office, Ministry of Interior"


class AccessConfigError(ValueError):
    """The access configuration is malformed; the message names the entry."""


@dataclass(frozen=True)
class Grant:
    """One identity's access.

    Attributes:
        identity: the e-mail (lower case) or demo label the grant belongs to.
        role: national, county or admin.
        counties: for county users the county codes they may see; None means every county.
    """

    identity: str
    role: str
    counties: tuple[str, ...] | None = None

    @property
    def scope(self) -> tuple[str, ...] | None:
        """The county scope that goes into Filters (None for national and admin users)."""
        return self.counties if self.role == "county" else None

    @property
    def sees_data_quality(self) -> bool:
        return self.role == "admin"

    def describe(self) -> str:
        if self.role == "county":
            return f"county coordinator ({', '.join(self.counties or ())})"
        return {"national": "national user", "admin": "administrator"}[self.role]


@dataclass(frozen=True)
class AccessConfig:
    """The identity -> grant mapping and whom to ask for access."""

    grants: Mapping[str, Grant]
    contact: str = DEFAULT_CONTACT
    issuers: tuple[str, ...] = ()  # trusted identity-token issuers; empty trusts the provider

    def grant_for(self, identity: str | None) -> Grant | None:
        """The grant of an identity (case-insensitive e-mail), or None: no access."""
        if not identity:
            return None
        return self.grants.get(identity.strip().lower())


def _grant(identity: str, entry: Any, known_counties: set[str] | None) -> Grant:
    if isinstance(entry, str):
        entry = {"role": entry}
    if not isinstance(entry, Mapping):
        raise AccessConfigError(f"access entry for {identity} must be a table or a role name")
    role = str(entry.get("role", "")).strip()
    if role not in ROLES:
        raise AccessConfigError(f"access entry for {identity}: role must be one of {ROLES}")
    counties = None
    if role == "county":
        raw = entry.get("counties") or ([entry["county"]] if entry.get("county") else [])
        counties = tuple(sorted({str(code).strip().zfill(3) for code in raw}))
        if not counties:
            raise AccessConfigError(f"access entry for {identity}: a county role needs counties")
        unknown = [c for c in counties if known_counties is not None and c not in known_counties]
        if unknown:
            raise AccessConfigError(f"access entry for {identity}: unknown counties {unknown}")
    return Grant(identity=identity.strip().lower(), role=role, counties=counties)


def access_config(
    section: Mapping[str, Any] | None,
    known_counties: set[str] | None = None,
    base_dir: Path | None = None,
) -> AccessConfig:
    """Parse the `[access]` section of secrets.toml.

    ```toml
    [access]
    contact = "usalama-dashboard@interior.go.ke"
    users_file = "/etc/usalama/users.toml"   # optional; same [users] layout, merged
    issuers = ["https://login.microsoftonline.com/<tenant-id>/v2.0"]   # optional
    [access.users]
    "ps@interior.go.ke" = "national"
    "coordinator.nakuru@interior.go.ke" = { role = "county", counties = ["032"] }
    "data.team@interior.go.ke" = "admin"
    ```

    Raises:
        AccessConfigError: an entry is malformed (unknown role, county role without counties,
            unknown county code, unreadable users file).
    """
    section = dict(section or {})
    users: dict[str, Any] = dict(section.get("users") or {})
    users_file = section.get("users_file")
    if users_file:
        path = Path(users_file)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        try:
            users.update(tomllib.loads(path.read_text()).get("users", {}))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise AccessConfigError(f"access users_file {path} cannot be read: {exc}") from exc
    grants = {
        identity.strip().lower(): _grant(identity, entry, known_counties)
        for identity, entry in users.items()
    }
    return AccessConfig(
        grants=grants,
        contact=str(section.get("contact") or DEFAULT_CONTACT),
        issuers=tuple(str(issuer) for issuer in section.get("issuers") or ()),
    )
