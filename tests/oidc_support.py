"""A real OpenID Connect provider for browser tests, and the app served with login through it.

The provider is the `oidc-provider-mock` package (a Flask app implementing discovery, the
authorisation-code flow, signed ID tokens and RP-initiated logout) served from a thread of the
test process on 127.0.0.1. Its users are registered up front with their claims; its login page
asks for the subject (here the e-mail) and has an "Authorize" button.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.browser_support import free_port, serve_app, wait_for_streamlit

if TYPE_CHECKING:
    from playwright.sync_api import Page

CLIENT_ID = "usalama-dashboard"
CLIENT_SECRET = "test-client-secret"
# Back from the provider, the app has drawn either a logged-in page or the no-access page.
_LANDED_JS = """() => {
    const text = document.body.innerText;
    return text.includes('Viewing as') || text.includes('No access yet');
}"""


@contextmanager
def oidc_provider(users: Mapping[str, Mapping[str, Any]]) -> Iterator[str]:
    """Serve an OIDC provider on a free port of 127.0.0.1 and yield its issuer URL.

    Args:
        users: subject (the e-mail a tester types) -> the claims of that user's ID token, e.g.
            `{"ps@example.go.ke": {"email": "ps@example.go.ke", "email_verified": True}}`.
    """
    import werkzeug.serving
    from oidc_provider_mock import User, app

    # The provider refuses plain http unless told that this is a test (Authlib's switch, read
    # on each request, so it stays set while the provider runs and is restored afterwards).
    before = os.environ.get("AUTHLIB_INSECURE_TRANSPORT")
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
    provider = app(
        user_claims=[User(sub=sub, claims=dict(claims)) for sub, claims in users.items()],
        require_client_registration=False,
    )
    server = werkzeug.serving.make_server("127.0.0.1", free_port(), provider, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
        if before is None:
            os.environ.pop("AUTHLIB_INSECURE_TRANSPORT", None)
        else:
            os.environ["AUTHLIB_INSECURE_TRANSPORT"] = before


def _toml_value(value: Any) -> str:
    """A TOML value for a string, a bool, a list or a table of those (JSON strings are valid
    TOML basic strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return (
            "{ " + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
        )
    raise TypeError(f"no TOML form for {value!r}")


def login_secrets(
    path: Path, issuer: str, app_port: int, users: Mapping[str, Any], contact: str
) -> Path:
    """Write a secrets.toml with `[auth]` pointing at the provider and an `[access]` list.

    Args:
        path: the file to write (outside the project: the repository's `.streamlit/` is never
            touched).
        issuer: the provider's URL (`oidc_provider`).
        app_port: the port the app will listen on (the redirect URI names it).
        users: the `[access.users]` table: e-mail -> role name or `{role, counties}`.
        contact: `[access] contact`.
    """
    lines = [
        "[auth]",
        f'redirect_uri = "http://127.0.0.1:{app_port}/oauth2callback"',
        f"cookie_secret = {_toml_value(os.urandom(16).hex())}",
        f"client_id = {_toml_value(CLIENT_ID)}",
        f"client_secret = {_toml_value(CLIENT_SECRET)}",
        f'server_metadata_url = "{issuer}/.well-known/openid-configuration"',
        "",
        "[access]",
        f"contact = {_toml_value(contact)}",
        f"issuers = {_toml_value([issuer])}",
        "",
        "[access.users]",
        *(f"{json.dumps(email)} = {_toml_value(entry)}" for email, entry in users.items()),
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


@contextmanager
def app_with_login(
    demo_db_path: Path,
    directory: Path,
    provider_users: Mapping[str, Mapping[str, Any]],
    access_users: Mapping[str, Any],
    contact: str = "dashboard-help@example.go.ke",
) -> Iterator[str]:
    """The app on the demo database with OIDC login through a local provider; yields its URL.

    The secrets file is written in `directory` and handed to Streamlit with `--secrets.files`,
    Streamlit's own setting for where secrets are read.
    """
    with oidc_provider(provider_users) as issuer:
        port = free_port()
        secrets = login_secrets(
            directory / "secrets.toml", issuer, port, access_users, contact=contact
        )
        env = {
            "USALAMA_DEMO_DB": str(demo_db_path),
            "REPORTING_DB_URL": "",
            "AUTHLIB_INSECURE_TRANSPORT": "1",
            "NO_PROXY": "127.0.0.1,localhost",
        }
        with serve_app(
            env=env,
            port=port,
            show_error_details=None,
            options=("--secrets.files", str(secrets)),
        ) as base_url:
            yield base_url


def log_in(page: Page, base_url: str, subject: str, path: str = "/") -> None:
    """Open the app, press "Log in", sign in at the provider as `subject`, and wait for the app."""
    page.goto(base_url + path)
    page.get_by_role("button", name="Log in").click(timeout=90_000)
    page.wait_for_url(lambda url: "/oauth2/authorize" in url, timeout=30_000)
    page.fill('input[name="sub"]', subject)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(lambda url: url.startswith(base_url), timeout=30_000)
    # Idle alone is not enough: the app reports itself idle before its first run has drawn.
    page.wait_for_function(_LANDED_JS, timeout=90_000, polling=100)
    wait_for_streamlit(page, timeout_ms=90_000)
