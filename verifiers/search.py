"""Conversational search: rewards from the rank at which BM25 returns the gold passage.

After ConvSearch-R1 (Zhu et al., 2025): a rewrite is judged only by what the retriever does with
it, so no label of the rewrite itself is needed. The retriever is :mod:`arenas.engines.search`
(shared with the arena's tools), so a recorded rewrite is rescored offline from the cached
index alone; retrieval there is exact and deterministic.

Rank-incentive reward (the paper's piecewise shaping, halved to [0, 1]):
rank 1-10 -> (19/9 - r/9) / 2 (1.0 down to 0.5), 11-100 -> (10/9 - r/90) / 2, otherwise 0.

Guards against reward hacking, each turning the reward of the turn to 0:
- ``within_length``: a rewrite longer than ``max_rewrite_words`` words (pasting the history, a
  bag of words) scores 0;
- ``no_copy``: a run of ``copy_ngram`` words copied from passage text the conversation showed
  (earlier answers), once entity titles are blanked out of that text, scores 0;
- ``format``: a reply without exactly one non-empty ``<rewrite>`` block (or ``rewrite`` call).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from arenas.engines.search import load_index, words
from arenas.verifiers.base import Component, Rubric, Verdict

MAX_REWRITE_WORDS = 40
COPY_NGRAM = 6
MAX_REWRITE_CHARS = 4000
"""Longer replies are rejected before tokenizing (a 1 MB rewrite costs nothing)."""


# ---- the reply ---------------------------------------------------------------------------------
_REWRITE = re.compile(r"<rewrite>(.*?)</rewrite>", re.S)
_THINK = re.compile(r"<think>.*?</think>", re.S)


def parse_reply(text: str, require_think: bool = False) -> tuple[str | None, str | None]:
    """(rewrite, None) or (None, what is wrong) for a ``<think>…</think><rewrite>…</rewrite>`` reply."""
    if not isinstance(text, str):
        return None, "the reply is not text"
    try:
        text.encode()
    except UnicodeEncodeError:
        return None, "the reply is not valid UTF-8"
    if require_think and not _THINK.search(text):
        return None, "the reply has no <think>...</think> block"
    found = _REWRITE.findall(text)
    if len(found) != 1:
        return None, f"the reply must hold exactly one <rewrite>...</rewrite> block (found {len(found)})"
    return check_rewrite(found[0])


def check_rewrite(rewrite: Any) -> tuple[str | None, str | None]:
    """(rewrite, None) when it is a usable query, else (None, why)."""
    if not isinstance(rewrite, str):
        return None, "the rewrite must be a string"
    try:
        rewrite.encode()
    except UnicodeEncodeError:
        return None, "the rewrite is not valid UTF-8"
    if len(rewrite) > MAX_REWRITE_CHARS:
        return None, f"the rewrite has {len(rewrite)} characters; at most {MAX_REWRITE_CHARS} are read"
    if not words(rewrite):
        return None, "the rewrite is empty"
    return rewrite.strip(), None


# ---- guards ------------------------------------------------------------------------------------
def _blank_titles(text: str, titles: Sequence[str]) -> list[str]:
    for title in sorted(titles, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(title)}(?!\w)", " | ", text, flags=re.I)
    return [w for part in text.split("|") for w in (words(part) + ["|"])]


def longest_copied_run(rewrite: str, seen: Sequence[str], titles: Sequence[str]) -> int:
    """Longest run of consecutive rewrite words found consecutively in a seen text, entity titles
    blanked out of both (naming the entity is what a rewrite should do)."""
    mine = [w for w in _blank_titles(rewrite, titles)]
    best = 0
    for text in seen:
        theirs = _blank_titles(text, titles)
        grams: dict[str, set[int]] = {}
        for j, w in enumerate(theirs):
            grams.setdefault(w, set()).add(j)
        run: dict[int, int] = {}
        for w in mine:
            nxt: dict[int, int] = {}
            if w != "|":
                for j in grams.get(w, ()):
                    nxt[j] = run.get(j - 1, 0) + 1
                    best = max(best, nxt[j])
            run = nxt
    return best


# ---- the judgement of one rewrite --------------------------------------------------------------
def judge(candidate: Mapping[str, Any], reference: Mapping[str, Any], context: Mapping[str, Any]) -> dict[str, Any]:
    """Everything the components need, computed once per (candidate, reference, context)."""
    key = (candidate.get("rewrite"), candidate.get("error"), reference["gold"], str(context["index"]),
           tuple(context.get("seen", ())), tuple(context.get("titles", ())),
           context.get("max_rewrite_words", MAX_REWRITE_WORDS), context.get("copy_ngram", COPY_NGRAM))
    return _judge_cached(key)


@lru_cache(maxsize=4096)
def _judge_cached(key: tuple) -> dict[str, Any]:
    rewrite, error, gold, index, seen, titles, max_words, copy_ngram = key
    out: dict[str, Any] = {"format": rewrite is not None and error is None, "rank": None}
    if not out["format"]:
        out["reason"] = error or "no rewrite"
        return out
    n_words = len(words(rewrite))
    out["words"] = n_words
    out["within_length"] = n_words <= max_words
    out["copied_run"] = longest_copied_run(rewrite, seen, titles) if seen else 0
    out["no_copy"] = out["copied_run"] < copy_ngram
    out["rank"] = load_index(index).rank(rewrite, gold)
    out["guarded"] = out["within_length"] and out["no_copy"]
    return out


def rank_reward(rank: int | None) -> float:
    """ConvSearch-R1's rank-incentive shaping, scaled to [0, 1]."""
    if rank is None or rank > 100:
        return 0.0
    return (19 / 9 - rank / 9) / 2 if rank <= 10 else (10 / 9 - rank / 90) / 2


def _rank_verdict(candidate: Any, reference: Any, context: Mapping[str, Any],
                  score_of: Callable[[int | None], float]) -> Verdict:
    """``score_of`` the gold passage's rank; 0, with the reason, when the format or a guard fails."""
    j = judge(candidate, reference, context)
    if not j["format"]:
        return Verdict.fail(j["reason"])
    if not j["guarded"]:
        return Verdict.fail("length cap exceeded" if not j["within_length"] else "copied passage text",
                            words=j["words"], copied_run=j["copied_run"])
    score = score_of(j["rank"])
    return Verdict(score, score > 0, {"rank": j["rank"]})


def rank_incentive(candidate: Any, reference: Any, context: Mapping[str, Any]) -> Verdict:
    """The main reward: rank-incentive shaping of the gold passage's rank."""
    return _rank_verdict(candidate, reference, context, rank_reward)


def mrr_at_10(candidate: Any, reference: Any, context: Mapping[str, Any]) -> Verdict:
    """Reciprocal rank, 0 beyond rank 10."""
    return _rank_verdict(candidate, reference, context, lambda r: 1.0 / r if r is not None and r <= 10 else 0.0)


def recall_at_10(candidate: Any, reference: Any, context: Mapping[str, Any]) -> Verdict:
    return _rank_verdict(candidate, reference, context, lambda r: float(r is not None and r <= 10))


def recall_at_100(candidate: Any, reference: Any, context: Mapping[str, Any]) -> Verdict:
    return _rank_verdict(candidate, reference, context, lambda r: float(r is not None and r <= 100))


def ndcg_at_3(candidate: Any, reference: Any, context: Mapping[str, Any]) -> Verdict:
    """One relevant passage: 1/log2(rank + 1) within the top 3."""
    return _rank_verdict(candidate, reference, context,
                         lambda r: 1.0 / math.log2(r + 1) if r is not None and r <= 3 else 0.0)


def format_ok(candidate: Any, reference: Any, context: Mapping[str, Any]) -> Verdict:
    j = judge(candidate, reference, context)
    return Verdict(float(j["format"]), j["format"], {} if j["format"] else {"reason": j["reason"]})


def format_violation(candidate: Any, reference: Any, context: Mapping[str, Any]) -> Verdict:
    """1 on a format violation: weighted by minus the format penalty."""
    j = judge(candidate, reference, context)
    return Verdict(float(not j["format"]), not j["format"])


def within_length(candidate: Any, reference: Any, context: Mapping[str, Any]) -> Verdict:
    j = judge(candidate, reference, context)
    ok = bool(j.get("within_length"))
    return Verdict(float(ok), ok, {"words": j.get("words")})


def no_copy(candidate: Any, reference: Any, context: Mapping[str, Any]) -> Verdict:
    j = judge(candidate, reference, context)
    ok = bool(j.get("no_copy"))
    return Verdict(float(ok), ok, {"copied_run": j.get("copied_run")})


def answer_in_top3(candidate: Any, reference: Any, context: Mapping[str, Any]) -> Verdict:
    """Agent mode: the answer span occurs in one of the top-3 passages of the final query."""
    span = reference.get("answer_span")
    if not span:
        return Verdict(0.0, False, {"reason": "no answer span for this turn"})
    j = judge(candidate, reference, context)
    if not j["format"] or not j["guarded"]:
        return Verdict.fail("no usable query")
    index = load_index(context["index"])
    top = [pid for pid, _ in index.top(candidate["rewrite"], 3)]
    hit = any(span.lower() in index.text(pid).lower() for pid in top)
    return Verdict(float(hit), hit)


def cited_gold(candidate: Any, reference: Any, context: Mapping[str, Any]) -> Verdict:
    """Agent mode: the answer cites the gold passage."""
    ok = candidate.get("cited") == reference["gold"]
    return Verdict(float(ok), ok)


def answer_span_in_text(candidate: Any, reference: Any, context: Mapping[str, Any]) -> Verdict:
    """Agent mode: the answer text contains the answer span (when the passage states one)."""
    span = reference.get("answer_span")
    if not span:
        return Verdict(0.0, False, {"reason": "no answer span for this turn"})
    ok = span.lower() in str(candidate.get("text") or "").lower()
    return Verdict(float(ok), ok)


def make_rubric(format_penalty: float = 0.0) -> Rubric:
    """The turn rubric: the rank-incentive reward, the paper's format penalty, and metrics."""
    return Rubric([
        Component("rank_incentive", rank_incentive),
        Component("format_violation", format_violation, -float(format_penalty)),
        Component("mrr_at_10", mrr_at_10, 0.0),
        Component("recall_at_10", recall_at_10, 0.0),
        Component("recall_at_100", recall_at_100, 0.0),
        Component("ndcg_at_3", ndcg_at_3, 0.0),
        Component("format", format_ok, 0.0),
        Component("within_length", within_length, 0.0),
        Component("no_copy", no_copy, 0.0),
    ])


def agent_rubric() -> Rubric:
    """Agent mode: citing the gold passage is the reward; the last search query before the answer
    is scored like a rewrite (reported, weight 0)."""
    return Rubric([
        Component("cited_gold", cited_gold),
        Component("answer_span_in_text", answer_span_in_text, 0.0),
        Component("answer_in_top3", answer_in_top3, 0.0),
        Component("rank_incentive", rank_incentive, 0.0),
        Component("mrr_at_10", mrr_at_10, 0.0),
        Component("recall_at_10", recall_at_10, 0.0),
        Component("recall_at_100", recall_at_100, 0.0),
        Component("ndcg_at_3", ndcg_at_3, 0.0),
        Component("within_length", within_length, 0.0),
        Component("no_copy", no_copy, 0.0),
    ])
