"""Shared fixtures: a real PostgreSQL server in a temporary folder, started on 127.0.0.1."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(cmd: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the ``postgres`` user then."""
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


def _postmaster_pid(data: Path) -> int | None:
    try:
        return int((data / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throw-away PostgreSQL cluster; yields the superuser URL
    (``postgresql+psycopg://arenas@127.0.0.1:<port>/postgres``). Stopped by PID at the end."""
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
    port = _free_port()
    proc = None
    log = open(root / "server.log", "wb")  # the server writes to it until the end
    try:
        subprocess.run(_as_server_user([str(bindir / "initdb"), "-D", str(data), "-U", PG_SUPERUSER,
                                        "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"]),
                       check=True, capture_output=True)
        proc = subprocess.Popen(
            _as_server_user([str(bindir / "postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(port),
                             "-k", str(sockets), "-c", "fsync=off", "-c", "synchronous_commit=off",
                             "-c", "full_page_writes=off"]),
            stdout=subprocess.DEVNULL, stderr=log)
        url = f"postgresql+psycopg://{PG_SUPERUSER}@127.0.0.1:{port}/postgres"
        _wait_ready(port, proc, root)
        yield url
    finally:
        _stop(proc, data)
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def _wait_ready(port: int, proc: subprocess.Popen, root: Path, timeout_s: float = 60.0) -> None:
    import psycopg

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            psycopg.connect(host="127.0.0.1", port=port, user=PG_SUPERUSER, dbname="postgres",
                            connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if proc.poll() is not None or time.monotonic() > deadline:
                log = (root / "server.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"PostgreSQL did not start:\n{log}") from None
            time.sleep(0.1)


def _stop(proc: subprocess.Popen | None, data: Path) -> None:
    """Fast shutdown of the postmaster by its PID (from postmaster.pid), then of the wrapper."""
    if proc is None:
        return
    pid = _postmaster_pid(data)
    if pid is not None:
        try:
            os.kill(pid, signal.SIGINT)
        except ProcessLookupError:
            pass
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        if pid is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.kill()
        proc.wait(timeout=10)
