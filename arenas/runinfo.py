"""``run.json``: what is needed to reproduce and compare a run."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any


def _declared_packages() -> list[str]:
    """``arenas`` and every distribution its metadata requires (base and every extra), so a new
    arena's dependencies are recorded as soon as its extra is declared."""
    try:
        requires = metadata.requires("arenas") or []
    except metadata.PackageNotFoundError:
        requires = []
    names = {re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0].lower() for r in requires}
    return ["arenas", *sorted(names - {"arenas"})]


_URL_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<secret>[^@/\s]+)@")
_SECRET_KEYS = re.compile(r"(password|passwd|secret|token|api_key|apikey)", re.I)


def redact(value: Any) -> Any:
    """A copy safe to record: passwords in URLs (``scheme://user:***@host``) and values under
    secret-looking keys (``api_key``, ``password``...) are masked."""
    if isinstance(value, str):
        return _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:***@", value)
    if isinstance(value, dict):
        return {k: "***" if isinstance(k, str) and _SECRET_KEYS.search(k) and v else redact(v)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value


def config_hash(config: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


def package_versions() -> dict[str, str]:
    out = {}
    for name in _declared_packages():
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def hardware() -> dict[str, Any]:
    hw: dict[str, Any] = {"platform": platform.platform(), "machine": platform.machine(),
                          "python": sys.version.split()[0], "cpus": os.cpu_count()}
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        hw["memory_gib"] = round(pages / 2**30, 1)
    except (ValueError, OSError):
        pass
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        hw["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return hw


def git_revision(path: Path | None = None) -> dict[str, Any] | None:
    """The git revision of the arenas source tree (or ``path``), with a dirty flag."""
    where = str(path or Path(__file__).resolve().parent.parent)
    try:
        rev = subprocess.run(["git", "-C", where, "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5)
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", where, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5)
        return {"commit": rev.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.TimeoutExpired):
        return None


def run_record(config: dict[str, Any]) -> dict[str, Any]:
    return {
        "config": config,
        "config_hash": config_hash(config),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "packages": package_versions(),
        "hardware": hardware(),
        "git": git_revision(),
        "argv": redact(list(sys.argv)),
    }
