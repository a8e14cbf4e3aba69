"""Keep a developer's machine out of the app under test.

The app reads its settings from the environment (`REPORTING_DB_URL`, `USALAMA_*`, Streamlit's
own `STREAMLIT_*`) and its secrets from `~/.streamlit/secrets.toml` and the project's
`.streamlit/secrets.toml`. A developer with a real database URL in either would otherwise run
the suite against that database, and a test expecting the demo would fail (or, worse, pass on
other data). So the test process drops those settings before any test runs, and both the
in-process app (AppTest) and the servers of browser tests read secrets only from an empty file
the suite owns. A test that needs a setting or a secret sets it itself (monkeypatch, AppTest's
`secrets`, or `--secrets.files`).
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

# What the suite's own harness reads; kept.
HARNESS_SETTINGS = frozenset(
    {"USALAMA_REQUIRE_ALL_SUITES", "USALAMA_TEST_TODAY", "USALAMA_TEST_TZ"}
)
SECRETS_OPTION = "--secrets.files"


def _is_app_setting(name: str) -> bool:
    if name in HARNESS_SETTINGS:
        return False
    return name == "REPORTING_DB_URL" or name.startswith(("USALAMA_", "STREAMLIT_"))


def drop_app_settings(environ: dict[str, str] | os._Environ = os.environ) -> list[str]:
    """Remove the app's settings from `environ`; return the names removed."""
    dropped = sorted(name for name in environ if _is_app_setting(name))
    for name in dropped:
        del environ[name]
    return dropped


def _empty_secrets_file() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="usalama-test-secrets-"))
    path = folder / "secrets.toml"
    path.write_text("# The test suite's secrets: none. Tests set their own.\n")
    return path


EMPTY_SECRETS = _empty_secrets_file()


def read_only_suite_secrets() -> None:
    """Make this process's Streamlit (and so AppTest) read secrets only from `EMPTY_SECRETS`."""
    import streamlit as st
    from streamlit import config

    config.set_option("secrets.files", [str(EMPTY_SECRETS)])
    st.secrets._secrets = None  # parsed again, from the suite's file, when first read


def server_options(options: tuple[str, ...] | list[str]) -> list[str]:
    """`streamlit run` options with the suite's empty secrets file, unless they name one."""
    options = list(options)
    return options if SECRETS_OPTION in options else [*options, SECRETS_OPTION, str(EMPTY_SECRETS)]
