"""Verifiers of the GUI arena (MiniWoB++ in a real browser).

Task mode: ``candidate`` is the page's final status as MiniWoB's own JavaScript reports it,
``{"done": bool, "raw_reward": float, "reward": float, "reason": str | None}``; success is
MiniWoB's convention, a finished episode with a positive raw reward. Nothing about success is
reimplemented here: the task's page decides it.

Critic mode (GUI-Critic-R1's pre-operative critique): ``candidate`` is the critic's parsed
answer ``{"judgement": "correct"|"incorrect"|None, "suggestion_ok": bool | None}``; ``reference``
is the computed label ``{"label": "correct"|"incorrect"}``. Whether a suggested action keeps the
task solvable is decided by replaying it in a browser (the arena does that, as for the label) and
arrives here as ``suggestion_ok``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from arenas.verifiers.base import Component, Rubric, Verdict


def miniwob_success(candidate: Mapping[str, Any], reference: Any, context: Mapping[str, Any]) -> Verdict:
    """1 when MiniWoB's page ended the episode with a positive raw reward."""
    done = bool(candidate.get("done"))
    raw = float(candidate.get("raw_reward") or 0.0)
    ok = done and raw > 0
    return Verdict(1.0 if ok else 0.0, ok, {"done": done, "raw_reward": raw, "reason": candidate.get("reason")})


def miniwob_raw_reward(candidate: Mapping[str, Any], reference: Any, context: Mapping[str, Any]) -> Verdict:
    """MiniWoB's raw reward clipped to [0, 1] (partial credit on the few graded tasks); logged."""
    raw = float(candidate.get("raw_reward") or 0.0) if candidate.get("done") else 0.0
    return Verdict(max(0.0, min(1.0, raw)), raw > 0, {"raw_reward": raw})


TASK_RUBRIC = Rubric([Component("success", miniwob_success, 1.0),
                      Component("raw_reward", miniwob_raw_reward, 0.0)])

_JUDGEMENT = re.compile(r"<judgement>\s*(correct|incorrect)\s*</judgement>", re.I)
_SUGGESTION = re.compile(r"<suggestion>(.*?)</suggestion>", re.I | re.S)


def parse_critique(text: str) -> dict[str, Any]:
    """The critic's judgement and suggestion from ``<judgement>…</judgement><suggestion>…</suggestion>``."""
    j = _JUDGEMENT.search(text or "")
    s = _SUGGESTION.search(text or "")
    return {"judgement": j.group(1).lower() if j else None, "suggestion": s.group(1).strip() if s else None}


def judgement_correct(candidate: Mapping[str, Any], reference: Mapping[str, Any],
                      context: Mapping[str, Any]) -> Verdict:
    """1 when the critic's judgement equals the computed label."""
    said, label = candidate.get("judgement"), reference["label"]
    if said not in ("correct", "incorrect"):
        return Verdict.fail("no <judgement>correct|incorrect</judgement> found", label=label)
    ok = said == label
    return Verdict(1.0 if ok else 0.0, ok, {"judgement": said, "label": label})


def suggestion_valid(candidate: Mapping[str, Any], reference: Mapping[str, Any],
                     context: Mapping[str, Any]) -> Verdict:
    """For an incorrect proposal: 1 when the suggested action, replayed, keeps the task solvable.
    For a correct proposal there is nothing to suggest and the component equals the judgement."""
    if reference["label"] == "correct":
        return judgement_correct(candidate, reference, context)
    if candidate.get("judgement") != "incorrect":
        return Verdict.fail("the proposal was wrong and was not flagged")
    ok = bool(candidate.get("suggestion_ok"))
    return Verdict(1.0 if ok else 0.0, ok, {"suggestion": candidate.get("suggestion"),
                                            "replay": candidate.get("suggestion_replay")})


CRITIC_RUBRIC = Rubric([Component("judgement", judgement_correct, 0.7),
                        Component("suggestion", suggestion_valid, 0.3)], success="judgement")


def critic_metrics(pairs: list[tuple[str | None, str]]) -> dict[str, float]:
    """Accuracy, TPR (incorrect proposals flagged) and TNR (correct ones passed) over
    (judgement, label) pairs, as CriticLeanBench and GUI-Critic-Test report them."""
    pos = [(j, lab) for j, lab in pairs if lab == "incorrect"]
    neg = [(j, lab) for j, lab in pairs if lab == "correct"]
    acc = sum(j == lab for j, lab in pairs) / len(pairs) if pairs else 0.0
    tpr = sum(j == "incorrect" for j, _ in pos) / len(pos) if pos else 0.0
    tnr = sum(j == "correct" for j, _ in neg) / len(neg) if neg else 0.0
    return {"accuracy": acc, "tpr": tpr, "tnr": tnr, "n": float(len(pairs)),
            "base_rate_correct": len(neg) / len(pairs) if pairs else 0.0}
