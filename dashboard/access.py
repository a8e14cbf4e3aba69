"""Login and role resolution for this session: OIDC through st.login, or the demo's role switcher.

With `[auth]` configured, only identities listed in `[access.users]` see data. Without it, the
synthetic demo runs open with a "view as" switcher; a real database without login shows nothing
unless the deployment explicitly opts in with `[access] open_role` (for a trusted intranet).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from queries.access import AccessConfig, AccessConfigError, Grant, access_config
from queries.db import SECRETS_FILE, DatabaseSource

log = logging.getLogger("dashboard.access")
audit_log = logging.getLogger("dashboard.audit")


def _secrets_section(name: str) -> Mapping[str, Any] | None:
    try:
        return st.secrets.get(name, None)
    except (FileNotFoundError, KeyError, ValueError):  # no or unparsable secrets file
        return None


def app_secrets() -> dict[str, Any] | None:
    """The deployment's secrets as Streamlit reads them (`.streamlit/secrets.toml`, or wherever
    `secrets.files` says), or None when there are none: the database URL and the privacy
    threshold come from here, like `[auth]` and `[access]`."""
    try:
        return st.secrets.to_dict()
    except (FileNotFoundError, KeyError, ValueError):
        return None


def auth_configured() -> bool:
    """True when the deployment configured OIDC login (`[auth]` in secrets.toml)."""
    return _secrets_section("auth") is not None


def _config(counties: pd.DataFrame) -> AccessConfig:
    section = _secrets_section("access")
    return access_config(
        {key: section[key] for key in section} if section is not None else None,
        known_counties=set(counties["county_code"]),
        base_dir=SECRETS_FILE.parent,
    )


def _login_page() -> None:
    st.title("Usalama Mitaani dashboard")
    st.markdown(
        "This dashboard shows incident, participation, training and rehabilitation figures of "
        "the KARA Usalama Mitaani programme. Please log in with your ministry account."
    )
    st.button("Log in", type="primary", on_click=st.login, icon=":material/login:")
    st.stop()


def _no_access_page(email: str | None, contact: str) -> None:
    log.warning("access refused for %s: not in the access list", email or "<no e-mail>")
    st.title("No access yet")
    st.markdown(
        f"You are logged in as **{email or 'an account without an e-mail address'}**, but this "
        "account has not been given access to the Usalama Mitaani dashboard.\n\n"
        f"To ask for access, contact **{contact}**, saying which county you coordinate (or "
        "that you need the national view)."
    )
    st.button("Log out", on_click=st.logout)
    st.stop()


def _demo_switcher(counties: pd.DataFrame) -> Grant:
    names = dict(zip(counties["county_code"], counties["county_name"], strict=True))
    with st.sidebar:
        st.markdown("### View as (demo)")
        role = st.radio(
            "Role",
            ["national", "county", "admin"],
            key="demo_role",
            horizontal=True,
            format_func={"national": "National", "county": "County", "admin": "Admin"}.get,
            help="Only in demo mode: see the dashboard as a national user, a county coordinator "
            "or an administrator. With a real database this switcher does not exist.",
        )
        if role == "county":
            code = st.selectbox(
                "Coordinator of",
                list(names),
                key="demo_county",
                format_func=lambda c: names[c],
                index=list(names).index("032") if "032" in names else 0,
            )
            return Grant(
                identity=f"demo coordinator of {names[code]}", role="county", counties=(code,)
            )
    return Grant(identity=f"demo {role} user", role=role)


def require_login(source: DatabaseSource) -> None:
    """Before the database is touched: with login configured, show only the login page until
    the user has logged in; with a real database and no login, show nothing at all unless the
    deployment opted in to open access."""
    if auth_configured():
        if not st.user.is_logged_in:
            _login_page()
        return
    if source.is_demo or _open_role() is not None:
        return
    st.error(
        "Login is not configured, so the reporting database is not shown. The administrator "
        "must add an `[auth]` section (OIDC) and an `[access]` list to .streamlit/secrets.toml; "
        "see the README."
    )
    st.stop()


def _open_role() -> str | None:
    role = (_secrets_section("access") or {}).get("open_role")
    return str(role) if role in ("national", "admin") else None


def _verified_email(allowed_issuers: tuple[str, ...]) -> str | None:
    """The logged-in user's e-mail, if the identity provider vouches for it.

    An unverified address, or one from an issuer the deployment does not trust, is no identity:
    with a multi-tenant provider anyone could otherwise claim a coordinator's address.
    """
    email = st.user.get("email")
    if st.user.get("email_verified") is False:
        log.warning("login refused for %s: e-mail not verified by the provider", email)
        return None
    issuer = st.user.get("iss")
    if allowed_issuers and issuer not in allowed_issuers:
        log.warning("login refused for %s: issuer %s is not trusted", email, issuer)
        return None
    return email


def resolve_grant(source: DatabaseSource, counties: pd.DataFrame) -> Grant:
    """Whose session this is and what they may see; stops the page with a message otherwise."""
    try:
        config = _config(counties)
    except AccessConfigError as exc:
        log.error("access configuration error: %s", exc)
        st.error(
            f"The dashboard's access configuration is invalid ({exc}). Nothing is shown "
            "until the administrator fixes it."
        )
        st.stop()
    if auth_configured():
        if not st.user.is_logged_in:
            _login_page()
        email = _verified_email(config.issuers)
        grant = config.grant_for(email)
        if grant is None:
            _no_access_page(st.user.get("email"), config.contact)
        return grant
    if source.is_demo:
        return _demo_switcher(counties)
    return Grant(identity="open access (no login configured)", role=_open_role() or "national")


def log_export(grant_identity: str, what: str, filters_params: dict[str, str]) -> None:
    """The audit trail: who exported what, with which filters (the log has the time)."""
    audit_log.info("export by=%s what=%r filters=%s", grant_identity, what, filters_params)
