"""The real library versions: one ``uv`` virtual environment per (library, old|new) pin set.

Each environment is installed from a hash-pinned lock file (``locks/<name>.txt``, made with
``uv pip compile --generate-hashes``) into ``$ARENAS_HOME/migration/venvs/<name>-<lock hash>``,
once, atomically (built in a temporary folder, renamed into place under a file lock), and reused.
Unlike :func:`arenas.engines.cache.cached_build` it writes no per-file checksums: uv already
checks every wheel against the lock's hashes, and hashing a venv's few thousand files would cost
more than re-creating it. uv's package cache lives next to the venvs (same file system), so a
re-created venv hardlinks its files from the cache instead of downloading them again.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from arenas.engines.cache import arenas_home

LOCKS = Path(__file__).with_name("locks")

#: library -> (import name, old version, new version); the versions are the locks' pins
LIBRARIES: dict[str, tuple[str, str, str]] = {
    "numpy": ("numpy", "1.26.4", "2.2.6"),
    "pandas": ("pandas", "1.5.3", "2.2.3"),
    "sqlalchemy": ("sqlalchemy", "1.4.54", "2.0.58"),
    "pydantic": ("pydantic", "1.10.27", "2.10.6"),
    "networkx": ("networkx", "2.8.8", "3.4.2"),
    "jinja2": ("jinja2", "3.0.3", "3.1.6"),
    "marshmallow": ("marshmallow", "2.21.0", "3.23.3"),
}


class EnvError(RuntimeError):
    """A venv could not be created (uv missing, a wheel missing for this Python, no index)."""


@dataclass(frozen=True)
class VenvSpec:
    library: str
    side: str
    """"old" or "new"."""

    @property
    def name(self) -> str:
        return f"{self.library}-{self.side}"

    @property
    def lock(self) -> Path:
        return LOCKS / f"{self.name}.txt"

    @property
    def version(self) -> str:
        _, old, new = LIBRARIES[self.library]
        return old if self.side == "old" else new

    @property
    def module(self) -> str:
        return LIBRARIES[self.library][0]

    def folder_name(self) -> str:
        digest = hashlib.sha256(self.lock.read_bytes()).hexdigest()[:10]
        return f"migration/venvs/{self.name}-{digest}"


def all_specs(libraries: list[str] | None = None) -> list[VenvSpec]:
    return [VenvSpec(lib, side) for lib in (libraries or list(LIBRARIES)) for side in ("old", "new")]


def uv_binary() -> str:
    """The ``uv`` executable: on PATH, or the one the ``uv`` PyPI package ships."""
    found = shutil.which("uv")
    if found:
        return found
    try:
        from uv import find_uv_bin  # type: ignore[import-not-found]

        return find_uv_bin()
    except ImportError as e:
        raise EnvError("uv is not installed: pip install uv") from e


def _build(spec: VenvSpec, tmp: Path) -> None:
    uv = uv_binary()
    env = {**os.environ, "UV_CACHE_DIR": str(arenas_home() / "migration" / "uv-cache"),
           "UV_LINK_MODE": "hardlink", "VIRTUAL_ENV": ""}
    venv = tmp / "venv"
    steps = [[uv, "venv", "-q", "--python", sys.executable, str(venv)],
             [uv, "pip", "install", "-q", "--require-hashes", "--no-deps", "--python",
              str(venv / "bin" / "python"), "-r", str(spec.lock)]]
    for cmd in steps:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise EnvError(f"{spec.name}: {' '.join(cmd[:3])} failed: {proc.stderr.strip()[-800:]}")
    probe = subprocess.run([str(venv / "bin" / "python"), "-I", "-c",
                            f"import importlib.metadata as m; print(m.version({spec.module!r}))"],
                           capture_output=True, text=True, timeout=120)
    if probe.returncode != 0 or probe.stdout.strip() != spec.version:
        raise EnvError(f"{spec.name}: version check failed: {probe.stdout.strip()} {probe.stderr.strip()[-400:]}")
    (tmp / READY).write_text(spec.lock.read_text())


READY = "READY"


def venv_python(spec: VenvSpec) -> Path:
    """The interpreter of ``spec``'s venv, building the venv on first use."""
    target = arenas_home() / spec.folder_name()
    python = target / "venv" / "bin" / "python"
    if (target / READY).exists():
        return python
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / READY).exists():
            return python
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            _build(spec, tmp)
            if target.exists():
                shutil.rmtree(target)
            tmp.rename(target)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return python


def ensure_all(libraries: list[str] | None = None, progress: bool = False) -> dict[str, float]:
    """Builds every venv (of ``libraries``); returns seconds per venv (about 0 when cached)."""
    from arenas.progress import StatusBar

    specs = all_specs(libraries)
    times: dict[str, float] = {}
    with StatusBar("migration venvs", len(specs), enabled=progress) as bar:
        for spec in specs:
            t0 = time.perf_counter()
            venv_python(spec)
            times[spec.name] = time.perf_counter() - t0
            bar.advance(spec.name)
    return times
