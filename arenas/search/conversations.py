"""Deterministic conversations over the corpus, TopiOCQA-style, kept only where rewriting matters.

A conversation opens on a topic entity ("Who is Ada Lovelace?"), asks about it through a few
context-dependent questions (a pronoun, a short noun phrase like "the film", or an ellipsis
"What about the engine?" of the question before), and may shift to an entity mentioned in an
earlier gold passage ("Tell me about Charles Babbage."), the way TopiOCQA conversations follow
links. Each question turn has a gold passage (the passage holding the sentence the question is
about), a gold self-contained rewrite (the entity named, e.g. "How is Ada Lovelace related to
the analytical engine?"), the sentence as the answer shown afterwards, and a short answer span
(a year or number in that sentence) where there is one.

Filter (measured with the arena's own retriever): a question turn is kept only when the raw
utterance ranks the gold passage worse than 10 and the gold rewrite ranks it in the top 3.
Opening and topic-shift turns name their entity; they are shown as context and not scored.

Splits are by entity: a conversation's split comes from its opening entity's title hash (train
80%, dev 10%, test 10%) and every entity it visits belongs to that split only (a topic shift goes
to an entity no conversation has used yet), so no test entity appears in train.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from arenas.engines.search import load_index, tokenize, words
from arenas.search.articles import Article, split_sentences

SPLITS = ("train", "dev", "test")
SEED = 20250521
MAX_SHIFTS = 2
QUESTIONS_PER_ENTITY = 3
RAW_WORSE_THAN, REWRITE_WITHIN = 10, 3

TEMPLATES = (
    "What is the connection between {o} and {k}?",
    "How is {s} related to {k}?",
    "What does {s} have to do with {k}?",
    "Tell me more about {p} {k}.",
    "What role did {k} play for {o}?",
    "Why is {k} important for {o}?",
)
ELLIPSES = ("What about {k}?", "And {k}?", "How about {k}?", "And what about {k}?")
OPENERS = {"People": "Who is {t}?"}
OPENER = "What is {t}?"
SHIFTS = ("Tell me about {t}.", "What do you know about {t}?", "I'd like to know about {t}.")
IMPLICIT_SHIFTS = ("{wh} is the {head} mentioned earlier?", "Tell me about the {head} you mentioned.",
                   "{wh} is that {head} you brought up?")

_DETERMINERS = {"the", "a", "an", "its", "his", "her", "their", "of"}
_GENERIC = set("""first second third most other same such many several world also called known part number
one two three four five time times years year century centuries form forms type types term terms name names
use used uses including include includes large largest small smallest major new old great greatest high
highest early late main various different important well way ways long following only own""".split())
_VERBS = set("""is was are were be been has had have became become made led took saw won began oversaw
gave held left lost ran rose fell grew knew wrote spoke came went found built set put includes include
contains remains remained serves served means meant""".split())
_PRONOUNS = {"it", "its", "he", "him", "his", "she", "her", "they", "them", "their", "this", "that"}
_PREPOSITIONS = set("""about above across after against along among around before behind below beneath beside
between beyond during except inside near over since through throughout toward towards under until upon
within without earlier later""".split())
_STOP = {"a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no",
         "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this",
         "to", "was", "will", "with", "which", "who", "whom", "from", "has", "have", "had", "were", "been"}


def split_of(title: str) -> str:
    h = int(hashlib.sha256(title.encode()).hexdigest()[:8], 16) % 10
    return "test" if h == 0 else "dev" if h == 1 else "train"


def _rng(*parts: Any) -> random.Random:
    return random.Random(int(hashlib.sha256("|".join(map(str, (SEED, *parts))).encode()).hexdigest()[:16], 16))


def references(article: Article) -> dict[str, str]:
    """How a question refers to the entity: subject, object and possessive forms, and a noun phrase."""
    low = f" {article.extract.lower()} "
    he = sum(low.count(f" {w} ") for w in ("he", "his", "him"))
    she = sum(low.count(f" {w} ") for w in ("she", "her", "hers"))
    words_ = re.split(r"\s(?:by|of|in|from|for|that|which|who|on|with|and)\s|[,(;]",
                      f" {article.description.lower()} ")[0].split()
    while words_ and words_[-1].endswith(("ed", "ing")):  # "church based" -> "church"
        words_.pop()
    head = ""
    if words_ and words_[-1].isalpha() and len(words_[-1]) > 2 and words_[-1] not in words(article.title):
        head = words_[-1]
    if article.topic == "People" or he + she >= 3:
        if she > he:
            return {"s": "she", "o": "her", "p": "her", "np": "", "head": head}
        if he > 0:
            return {"s": "he", "o": "him", "p": "his", "np": "", "head": head}
    if article.topic == "People":
        return {"s": "this person", "o": "this person", "p": "this person's", "np": "", "head": head}
    return {"s": "it", "o": "it", "p": "its", "np": f"the {head}" if head else "", "head": head}


def keyword_candidates(sentence: str, title: str, df: Counter, n_docs: int) -> list[str]:
    """Noun-ish phrases of the sentence (words after a determiner, capitalised names), rarest first;
    none shares a word with the title."""
    title_words = set(words(title))
    tokens = re.findall(r"[A-Za-z][A-Za-z'-]*|\S", sentence)
    found: dict[str, float] = {}

    def add(phrase: list[str]) -> None:
        ws = [w.lower() for w in phrase]
        if not ws or any(w in title_words or w in _PRONOUNS for w in ws) or ws[-1] in _GENERIC:
            return
        if len(ws[-1]) < 4 or not all(w.replace("-", "").isalpha() for w in ws):
            return
        stems = tokenize(" ".join(phrase))
        if not stems:
            return
        found[" ".join(phrase)] = sum(math.log(n_docs / (1 + df[s])) for s in stems) / len(stems)

    for i, tok in enumerate(tokens):
        if tok.lower() in _DETERMINERS:
            run = []
            for t in tokens[i + 1:i + 5]:
                if (not t[0].isalpha() or not t.islower() or t in _STOP or t in _VERBS or t in _PREPOSITIONS
                        or t.endswith(("ed", "ly", "-known", "-serving", "-based", "-born"))):
                    break
                run.append(t)
            if run:
                add(run[-2:])
        if i > 0 and tok[0].isupper() and tokens[i - 1][0].isalpha():
            run = [tok]
            for t in tokens[i + 1:i + 4]:
                if not t[0].isupper():
                    break
                run.append(t)
            if len(run) >= 2:
                add(run)
    return sorted(found, key=lambda k: (-found[k], k))


def answer_span(sentence: str) -> str | None:
    m = re.search(r"\b(1[0-9]{3}|20[0-9]{2})\b", sentence) or re.search(r"\b\d[\d,.]*\d\b|\b\d\b", sentence)
    return m.group(0) if m else None


def _possessive(title: str) -> str:
    return f"{title}'" if title.endswith("s") else f"{title}'s"


class Generator:
    """Builds the conversations of every split; counts what the filter drops, per split."""

    def __init__(self, articles: list[Article], index_folder: Path):
        self.index = load_index(index_folder)
        self.by_title = {a.title: a for a in articles}
        self.entities = [a for a in articles if a.passages]
        self.df: Counter = Counter()
        for a in articles:
            for p in a.passages:
                self.df.update(set(tokenize(f"{a.title}. {p.text}")))
        self.n_docs = sum(len(a.passages) for a in articles)
        self.titles_by_first: dict[str, list[str]] = {}
        for a in self.entities:
            first = a.title.split()[0] if a.title.split() else ""
            if len(a.title) >= 4 and first[:1].isupper():
                self.titles_by_first.setdefault(first, []).append(a.title)
        self.stats = {split: Counter() for split in SPLITS}
        self.split = SPLITS[0]

    def mentions(self, text: str, exclude: set[str]) -> list[str]:
        """Titles of this split's entities written in ``text`` (case-sensitive, whole words)."""
        out = []
        for first in set(re.findall(r"[A-Z][\w'-]*", text)):
            for title in self.titles_by_first.get(first, ()):
                if title not in exclude and re.search(rf"(?<!\w){re.escape(title)}(?!\w)", text):
                    out.append(title)
        return sorted(set(out))

    def _question(self, article: Article, passage, sentence: str, keyword: str, refs: dict[str, str],
                  rng: random.Random, last_template: str | None) -> dict[str, Any]:
        t = article.title
        if last_template is not None and rng.random() < 0.3:
            template, utterance = last_template, rng.choice(ELLIPSES).format(k=keyword)
            kind = "ellipsis"
        else:
            template = rng.choice(TEMPLATES)
            use_np = bool(refs["np"]) and refs["head"] not in keyword.lower().split() and rng.random() < 0.35
            forms = ({"s": refs["np"], "o": refs["np"], "p": _possessive(refs["np"])} if use_np
                     else {k: refs[k] for k in ("s", "o", "p")})
            utterance = template.format(k=keyword, **forms)
            kind = "noun_phrase" if use_np else "pronoun"
        rewrite = template.format(k=keyword, s=t, o=t, p=_possessive(t))
        return {"utterance": utterance[0].upper() + utterance[1:], "rewrite": rewrite, "gold": passage.id,
                "answer": sentence, "answer_span": answer_span(sentence), "entity": t, "kind": kind,
                "scored": True, "template": template}

    def _keep(self, turn: dict[str, Any]) -> bool:
        stats = self.stats[self.split]
        raw = self.index.rank(turn["utterance"], turn["gold"])
        gold = self.index.rank(turn["rewrite"], turn["gold"])
        stats["candidates"] += 1
        raw_ok = raw is None or raw > RAW_WORSE_THAN
        gold_ok = gold is not None and gold <= REWRITE_WITHIN
        stats["dropped_raw_in_top10"] += not raw_ok
        stats["dropped_rewrite_not_top3"] += not gold_ok
        stats["dropped"] += not (raw_ok and gold_ok)
        turn["raw_rank"], turn["rewrite_rank"] = raw, gold
        return raw_ok and gold_ok

    def _opening(self, article: Article, rng: random.Random, opener: str, shift: bool) -> dict[str, Any]:
        """The turn that brings the entity in: named (context, not scored) or, for a shift, half the
        time described ("Who is the mathematician mentioned earlier?"), scored when it passes the filter."""
        lead = article.passages[0]
        first = split_sentences(lead.text)[0]
        named = {"utterance": opener.format(t=article.title), "answer": first, "gold": lead.id,
                 "entity": article.title, "kind": "shift" if shift else "opener", "scored": False}
        head = references(article)["head"]
        if not shift or not head or rng.random() < 0.5:
            return named
        wh = "Who" if article.topic == "People" else "What"
        described = {"utterance": rng.choice(IMPLICIT_SHIFTS).format(wh=wh, head=head), "answer": first,
                     "gold": lead.id, "entity": article.title, "kind": "implicit_shift", "scored": True,
                     "rewrite": f"{wh} is {article.title}?", "answer_span": answer_span(first)}
        return described if self._keep(described) else named

    def _visit(self, article: Article, rng: random.Random, opener: str, shift: bool = False) -> list[dict[str, Any]]:
        first = split_sentences(article.passages[0].text)[0]
        turns = [self._opening(article, rng, opener, shift)]
        refs = references(article)
        last_template = None
        for passage in article.passages:
            for sentence in split_sentences(passage.text):
                if sentence == first or sum(t["scored"] for t in turns) >= QUESTIONS_PER_ENTITY:
                    continue
                for keyword in keyword_candidates(sentence, article.title, self.df, self.n_docs)[:2]:
                    turn = self._question(article, passage, sentence, keyword, refs, rng, last_template)
                    if self._keep(turn):
                        turns.append(turn)
                        last_template = turn.pop("template")
                        break
        return turns

    def conversations(self) -> Iterator[tuple[str, dict[str, Any]]]:
        order = list(self.entities)
        _rng("order").shuffle(order)
        used: set[str] = set()
        for article in order:
            if article.title in used:
                continue
            self.split = split_of(article.title)
            stats = self.stats[self.split]
            rng = _rng(self.split, article.title)
            used.add(article.title)
            opener = OPENERS.get(article.topic, OPENER)
            turns = self._visit(article, rng, opener)
            entities = [article.title]
            for _ in range(MAX_SHIFTS):
                gold_text = " ".join(t["answer"] for t in turns)
                options = [m for m in self.mentions(gold_text, used) if m in self.by_title]
                if not options or rng.random() < 0.25:
                    break
                nxt = self.by_title[rng.choice(options)]
                used.add(nxt.title)
                entities.append(nxt.title)
                turns += self._visit(nxt, rng, rng.choice(SHIFTS), shift=True)
            for t in turns:
                t.pop("template", None)
            if any(t["scored"] for t in turns):
                stats["conversations"] += 1
                stats["kept"] += sum(t["scored"] for t in turns)
                stats["shifts"] += len(entities) - 1
                stats["entities"] += len(entities)
                yield self.split, {"id": f"search-{self.split}-{stats['conversations']:05d}",
                                   "entities": entities, "turns": turns}


def generate_all(articles: list[Article], index_folder: Path) -> Iterator[tuple[str, list[dict], dict]]:
    gen = Generator(articles, index_folder)
    out: dict[str, list[dict]] = {split: [] for split in SPLITS}
    for split, conversation in gen.conversations():
        out[split].append(conversation)
    for split in SPLITS:
        stats = dict(gen.stats[split])
        stats["kept_share"] = round(stats.get("kept", 0) / max(1, stats.get("candidates", 0)), 4)
        yield split, out[split], stats
