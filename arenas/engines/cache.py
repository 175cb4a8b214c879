"""The data cache (``$ARENAS_HOME``, default ``~/.cache/arenas``) and checksummed builds.

Data sets are built once from installed packages and reused. A build writes into a temporary
folder and is renamed into place only when complete, with a manifest of SHA-256 checksums, so a
killed build never leaves a half-written cache, and a corrupted file is detected and rebuilt.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

MANIFEST = "MANIFEST.json"


def arenas_home() -> Path:
    home = Path(os.environ.get("ARENAS_HOME") or Path.home() / ".cache" / "arenas")
    home.mkdir(parents=True, exist_ok=True)
    return home


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _manifest_ok(folder: Path) -> bool:
    mf = folder / MANIFEST
    if not mf.exists():
        return False
    try:
        files = json.loads(mf.read_text())["files"]
    except (json.JSONDecodeError, KeyError):
        return False
    return all((folder / name).exists() and sha256_file(folder / name) == digest
               for name, digest in files.items())


def cached_build(name: str, build: Callable[[Path], None], verify: bool = True) -> Path:
    """Returns ``$ARENAS_HOME/<name>``, building it with ``build(tmp_folder)`` if absent or if
    a checksum does not match. Safe against concurrent builders (file lock)."""
    home = arenas_home()
    target = home / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and (not verify or _manifest_ok(target)):
        return target
    with open(home / f".{name.replace('/', '_')}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists() and _manifest_ok(target):
            return target
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        start = time.perf_counter()
        print(f"arenas: building {name} (first use; cached in {home})...", file=sys.stderr, flush=True)
        try:
            build(tmp)
            files = {p.relative_to(tmp).as_posix(): sha256_file(p)
                     for p in sorted(tmp.rglob("*")) if p.is_file()}
            (tmp / MANIFEST).write_text(json.dumps({"name": name, "files": files}, indent=1))
            if target.exists():
                shutil.rmtree(target)
            tmp.rename(target)
            print(f"arenas: built {name} in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return target
