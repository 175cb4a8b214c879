"""The search engine shared by the search arena's tools and its verifier: an exact,
deterministic BM25 retriever (bm25s, k1=0.9, b=0.4 as in ConvSearch-R1, Lucene's English
stopwords, Snowball English stemmer) over a passage collection built once into a folder.

Every passage gets its score; the rank of a passage is one plus the number scoring higher, ties
broken by passage order, and a passage scoring zero is never retrieved.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

K1, B = 0.9, 0.4
_WORD = re.compile(r"\w+")
_STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there "
    "these they this to was will with".split())
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Lower-cased word tokens (letters and digits), accents kept."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).lower())


def tokenize(text: str) -> list[str]:
    """The retriever's tokens: words without stopwords, stemmed."""
    return _stemmer().stemWords([w for w in words(text) if w not in _STOPWORDS])


class Index:
    """A BM25 index over the passages, loaded from a folder written by :func:`write_index`."""

    def __init__(self, folder: Path):
        import bm25s

        self.folder = Path(folder)
        self.bm25 = bm25s.BM25.load(str(self.folder / "bm25"), mmap=False)
        self.ids: list[str] = (self.folder / "ids.txt").read_text().split("\n")
        self.texts: list[str] = (self.folder / "texts.txt").read_text().split("\n")
        self.position = {pid: i for i, pid in enumerate(self.ids)}

    def text(self, passage_id: str) -> str:
        return self.texts[self.position[passage_id]]

    def scores(self, query: str) -> np.ndarray:
        ids = self.bm25.get_tokens_ids(tokenize(query))
        if not ids:
            return np.zeros(len(self.ids), dtype=np.float32)
        with _lock:  # bm25s keeps no per-call state, but numpy scratch buffers are not shared
            return self.bm25.get_scores_from_ids(ids)

    def rank(self, query: str, passage_id: str) -> int | None:
        """The 1-based rank of ``passage_id`` for ``query``; None when it scores zero."""
        scores = self.scores(query)
        i = self.position[passage_id]
        s = scores[i]
        if s <= 0:
            return None
        return int(np.count_nonzero(scores > s) + np.count_nonzero(scores[:i] == s) + 1)

    def top(self, query: str, k: int) -> list[tuple[str, float]]:
        """The ``k`` best passages with their scores (zero scores excluded), ties by passage order."""
        scores = self.scores(query)
        k = max(0, min(k, len(scores)))
        if k == 0:
            return []
        part = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        cut = scores[part].min()
        cand = np.flatnonzero(scores >= cut)  # every tie at the cut, so the order is exact
        order = cand[np.lexsort((cand, -scores[cand]))][:k]
        return [(self.ids[i], float(scores[i])) for i in order if scores[i] > 0]


def write_index(folder: Path, ids: Sequence[str], texts: Sequence[str]) -> None:
    """Builds the BM25 index of ``texts`` (one per passage id) into ``folder``."""
    import bm25s

    folder.mkdir(parents=True, exist_ok=True)
    docs = [tokenize(t) for t in texts]
    vocab = {tok: i for i, tok in enumerate(sorted({tok for doc in docs for tok in doc}))}
    model = bm25s.BM25(k1=K1, b=B)  # a sorted vocabulary makes the saved index byte-identical
    model.index(([[vocab[tok] for tok in doc] for doc in docs], vocab), show_progress=False)
    model.save(str(folder / "bm25"))
    (folder / "ids.txt").write_text("\n".join(ids))
    (folder / "texts.txt").write_text("\n".join(" ".join(t.split()) for t in texts))


_INDEXES: dict[str, Index] = {}


def load_index(folder: str | Path) -> Index:
    """One loaded index per folder per process."""
    key = str(folder)
    with _lock:
        if key not in _INDEXES:
            _INDEXES[key] = Index(Path(folder))
        return _INDEXES[key]
