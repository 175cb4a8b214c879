"""Shared fixtures: a real PostgreSQL server in a temporary folder, started on 127.0.0.1."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from arenas.engines.services import Service

PG_SUPERUSER = "arenas"


def _postgres_bin() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres (Debian's /usr/lib/postgresql/<v>/bin
    first, newest version first, then PATH)."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True)
    if shutil.which("initdb"):
        candidates.append(str(Path(shutil.which("initdb")).parent))
    for folder in candidates:
        if all((Path(folder) / b).exists() for b in ("initdb", "pg_ctl", "postgres")):
            return Path(folder)
    return None


def _as_server_user(cmd: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the ``postgres`` user then."""
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throw-away PostgreSQL cluster; yields the superuser URL
    (``postgresql+psycopg://arenas@127.0.0.1:<port>/postgres``). Stopped by PID (its process
    group, fast shutdown) at the end."""
    bindir = _postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; "
                    "install them with `apt-get install postgresql`")
    if os.geteuid() == 0:
        try:
            import pwd
            pwd.getpwnam("postgres")
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
    # as root the server runs as ``postgres``, which must reach the folder: keep it out of TMPDIR
    root = Path(tempfile.mkdtemp(prefix="arenas-pg-", dir="/tmp" if os.geteuid() == 0 else None))
    data, sockets = root / "data", root / "run"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    log = open(root / "initdb.log", "wb")
    service = Service(
        "postgresql",
        lambda port: _as_server_user([str(bindir / "postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(port),
                                      "-k", str(sockets), "-c", "fsync=off", "-c", "synchronous_commit=off",
                                      "-c", "full_page_writes=off"]),
        health=_accepts_connections, stop_signal=signal.SIGINT, stop_timeout_s=30)
    try:
        subprocess.run(_as_server_user([str(bindir / "initdb"), "-D", str(data), "-U", PG_SUPERUSER,
                                        "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"]),
                       check=True, stdout=log, stderr=subprocess.STDOUT)
        service.start()
        yield f"postgresql+psycopg://{PG_SUPERUSER}@127.0.0.1:{service.port}/postgres"
    finally:
        service.stop()
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def _accepts_connections(service: Service) -> bool:
    import psycopg

    try:
        psycopg.connect(host="127.0.0.1", port=service.port, user=PG_SUPERUSER, dbname="postgres",
                        connect_timeout=2).close()
        return True
    except psycopg.OperationalError:
        return False
