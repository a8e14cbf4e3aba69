"""A PostgreSQL cluster from Debian's binaries, run as the `postgres` OS user: the test suite's
throwaway server (tests/conftest.py) and the benchmark's persistent one (bench/bench_scale.py).

A helper module, not a test file: pytest collects nothing here.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PG_OS_USER = "postgres"  # the system user Debian's postgresql package creates
PG_SUPERUSER = "postgres"


@dataclass
class PostgresServer:
    """A PostgreSQL cluster listening on 127.0.0.1, with trust authentication."""

    bin_dir: Path
    root: Path
    port: int = 0
    initdb_seconds: float = 0.0
    start_seconds: float = 0.0
    version: str = field(init=False)

    def __post_init__(self) -> None:
        self.version = self.bin_dir.parent.name

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_path(self) -> Path:
        return self.root / "postgresql.log"

    def url(self, database: str = "postgres", user: str = PG_SUPERUSER, password: str = "") -> str:
        """A SQLAlchemy (psycopg 3) URL for a database of this server."""
        auth = f"{user}:{password}" if password else user
        return f"postgresql+psycopg://{auth}@127.0.0.1:{self.port}/{database}"

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.parent.name))


def find_pg_bin_dir() -> Path:
    """The bin directory of the newest PostgreSQL from Debian's packages (or USALAMA_PG_BIN)."""
    override = os.environ.get("USALAMA_PG_BIN")
    if override:
        return Path(override)
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=_version_key)
    if not candidates:
        raise RuntimeError(
            "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin: install Debian's "
            "'postgresql' package (./dev test does)"
        )
    return candidates[-1].parent


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_pg_user(args: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    return ["runuser", "-u", PG_OS_USER, "--", *args] if os.geteuid() == 0 else args


def _run_pg(server: PostgresServer, args: list[str], timeout: float) -> None:
    result = subprocess.run(
        _as_pg_user(args),
        cwd=server.root,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{Path(args[0]).name} failed (exit {result.returncode}):\n"
            f"{result.stdout}{result.stderr}\n--- server log tail ---\n{server.log_tail()}"
        )


def _initdb(server: PostgresServer) -> None:
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam(PG_OS_USER)
        except KeyError as exc:
            raise RuntimeError(
                f"running as root but there is no '{PG_OS_USER}' user to run PostgreSQL as "
                "(Debian's postgresql package creates it)"
            ) from exc
        os.chown(server.root, owner.pw_uid, owner.pw_gid)
    began = time.perf_counter()
    _run_pg(
        server,
        [
            str(server.bin_dir / "initdb"),
            "--pgdata",
            str(server.data_dir),
            "--username",
            PG_SUPERUSER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        ],
        timeout=120,
    )
    settings = {
        "listen_addresses": "'127.0.0.1'",
        "unix_socket_directories": f"'{server.root}'",
        # Durability is worthless for a test or benchmark cluster; speed is not.
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "timezone": "'UTC'",
        "log_timezone": "'UTC'",
    }
    with (server.data_dir / "postgresql.conf").open("a") as conf:
        conf.write("\n# usalama test settings\n")
        conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
    server.initdb_seconds = time.perf_counter() - began


def pg_ctl_start(server: PostgresServer) -> None:
    """`pg_ctl start` the cluster on `server.port` and wait for it; RuntimeError with the log."""
    _run_pg(
        server,
        [
            str(server.bin_dir / "pg_ctl"),
            "--pgdata",
            str(server.data_dir),
            "--log",
            str(server.log_path),
            "--options",
            f"-p {server.port}",
            "--wait",
            "--timeout",
            "60",
            "start",
        ],
        timeout=90,
    )


def _start(server: PostgresServer) -> None:
    for attempt in range(3):
        server.port = _free_port()
        began = time.perf_counter()
        try:
            pg_ctl_start(server)
        except RuntimeError:
            # Another process may have taken the free port between the check and the start.
            if attempt < 2 and "could not bind" in server.log_tail():
                continue
            raise
        server.start_seconds = time.perf_counter() - began
        return


def start_postgres(root: Path | None = None) -> PostgresServer:
    """Start a cluster on a free port; raises RuntimeError with the server's log if it cannot.

    Args:
        root: a folder that holds (or will hold) a persistent cluster, initdb'd on first use and
            reused afterwards; None makes a throwaway cluster in a new temporary folder.
    """
    bin_dir = find_pg_bin_dir()
    throwaway = root is None
    if root is None:
        root = Path(tempfile.mkdtemp(prefix="usalama-pg-", dir="/tmp"))
    else:
        root = Path(root).resolve()
        root.mkdir(parents=True, exist_ok=True)
    server = PostgresServer(bin_dir=bin_dir, root=root)
    try:
        if not (server.data_dir / "PG_VERSION").exists():
            shutil.rmtree(server.data_dir, ignore_errors=True)  # a half-made cluster
            _initdb(server)
        _start(server)
        return server
    except BaseException:
        stop_postgres(server, remove=throwaway)
        raise


def stop_postgres(server: PostgresServer, remove: bool = True) -> None:
    """Stop the server; with `remove`, at once (no checkpoint) and delete its files, otherwise
    cleanly (a checkpoint first), so the cluster starts again next time."""
    if (server.data_dir / "postmaster.pid").exists():
        subprocess.run(
            _as_pg_user(
                [
                    str(server.bin_dir / "pg_ctl"),
                    "--pgdata",
                    str(server.data_dir),
                    "--mode",
                    "immediate" if remove else "fast",
                    "--wait",
                    "--timeout",
                    "300",
                    "stop",
                ]
            ),
            cwd=server.root,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=330,
            check=False,
        )
    if remove:
        shutil.rmtree(server.root, ignore_errors=True)
