"""Wikipedia summaries as articles and passages: sentence splitting and grouping (pure text
processing, shared by the corpus build and the conversation generator)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_ABBREV = {"mr", "mrs", "ms", "dr", "st", "jr", "sr", "no", "mt", "vs", "ca", "c", "approx", "inc", "ltd",
           "co", "gen", "col", "lt", "sgt", "prof", "rev", "fr", "ft", "jan", "feb", "aug", "sept", "oct",
           "nov", "dec", "e.g", "i.e", "u.s", "u.k"}


@dataclass(frozen=True)
class Passage:
    id: str
    title: str
    text: str


@dataclass(frozen=True)
class Article:
    number: int
    title: str
    description: str
    topic: str
    extract: str
    passages: tuple[Passage, ...]


def split_sentences(text: str) -> list[str]:
    """Sentence split at ``. ! ?`` followed by a capital, not after an initial or an abbreviation."""
    out: list[str] = []
    start = 0
    for m in re.finditer(r"[.!?][\"')\]]*\s+(?=[\"'(]?[A-Z0-9])", text):
        before = text[start:m.start()].rsplit(None, 1)
        last = before[-1].lower().strip("(\"'") if before else ""
        if text[m.start()] == "." and (len(last) == 1 or last in _ABBREV):
            continue
        out.append(text[start:m.end()].strip())
        start = m.end()
    tail = text[start:].strip()
    if tail:
        out.append(tail)
    return out


def group_passages(sentences: list[str], min_words: int = 35, max_sentences: int = 3) -> list[str]:
    """Greedy groups of one to three sentences reaching ``min_words``; a short tail joins the last."""
    groups: list[list[str]] = []
    cur: list[str] = []
    for s in sentences:
        cur.append(s)
        if len(cur) >= max_sentences or sum(len(x.split()) for x in cur) >= min_words:
            groups.append(cur)
            cur = []
    if cur:
        if groups and len(groups[-1]) < max_sentences and sum(len(x.split()) for x in cur) < 15:
            groups[-1] = groups[-1] + cur
        else:
            groups.append(cur)
    return [" ".join(g) for g in groups]


def parse_articles(data: bytes) -> list[Article]:
    raw = json.loads(data)
    articles = []
    for number, title in enumerate(sorted(raw)):
        entry = raw[title]
        extract = " ".join(str(entry.get("extract") or "").split())
        passages = tuple(Passage(f"w{number:05d}.{j}", entry.get("title") or title, text)
                         for j, text in enumerate(group_passages(split_sentences(extract))))
        articles.append(Article(number, entry.get("title") or title, entry.get("description") or "",
                                entry.get("topic") or "", extract, passages))
    return articles
