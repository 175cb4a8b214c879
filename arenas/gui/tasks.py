"""The GUI arena's tasks: (MiniWoB++ task type, seed) pairs.

A task type is included only when its scripted oracle solves at least 95% of the seeds measured by
``benchmarks/gui_oracle_rates.py``, which writes ``data/oracle_rates.json``. Splits are disjoint
seed ranges of the seen types; ``heldout`` holds types never seen in train/dev/test, for
generalisation.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from arenas.types import Task

RATES_FILE = Path(__file__).parent / "data" / "oracle_rates.json"
INCLUDE_AT = 0.95
SEED_BASE = {"train": 0, "dev": 100_000, "test": 200_000, "heldout": 300_000}
SEEDS_PER_TYPE = {"train": 500, "dev": 10, "test": 10, "heldout": 25}
HELDOUT = ("click-checkboxes-transfer", "click-test-transfer", "enter-text-2", "login-user-popup",
           "social-media-some", "click-tab-2-hard", "email-inbox-forward-nl", "multi-orderings",
           "use-autocomplete-nodelay", "read-table-2")
"""Task types kept out of train/dev/test: variants of seen families (transfer, harder layouts,
natural-language phrasings) that test whether a policy generalises."""

CATEGORY = {
    "click": ("click-", "focus-", "find-word", "identify-shape", "count-shape", "grid-", "unicode-", "tic-"),
    "type": ("enter-", "login-", "text-transform", "simple-", "odd-or-even", "find-greatest", "guess-"),
    "form": ("form-", "multi-", "book-", "buy-", "order-", "sign-", "terminal", "search-engine"),
    "list": ("choose-list", "click-scroll-list", "use-autocomplete", "phone-book", "read-table",
             "navigate-tree", "email-", "social-"),
    "date": ("choose-date", "enter-date", "enter-time", "daily-calendar"),
    "drag": ("drag-", "use-slider", "highlight-", "resize-"),
}


def category(task_type: str) -> str:
    for name, prefixes in CATEGORY.items():
        if task_type.startswith(prefixes):
            return name
    return "other"


@cache
def oracle_rates() -> dict[str, dict[str, float]]:
    """Measured oracle success per candidate task type (empty before the first measurement)."""
    if not RATES_FILE.exists():
        return {}
    return json.loads(RATES_FILE.read_text())["rates"]


def included_types() -> list[str]:
    return sorted(t for t, r in oracle_rates().items() if r["rate"] >= INCLUDE_AT)


def types_of(split: str, only: tuple[str, ...] = ()) -> list[str]:
    types = [t for t in included_types() if not only or t in only]
    if split == "heldout":
        return [t for t in types if t in HELDOUT]
    return [t for t in types if t not in HELDOUT]


@cache
def load_tasks(split: str, only: tuple[str, ...] = (), per_type: int | None = None) -> tuple[Task, ...]:
    if split not in SEED_BASE:
        raise ValueError(f"unknown split {split!r}; splits: {', '.join(SEED_BASE)}")
    n = per_type or SEEDS_PER_TYPE[split]
    out = []
    for t in types_of(split, only):
        for i in range(n):
            seed = SEED_BASE[split] + i
            out.append(Task(id=f"{t}/{seed}", split=split, prompt={"task_type": t, "seed": seed},
                            reference={"task_type": t, "seed": seed}, meta={"category": category(t)}))
    return tuple(out)
