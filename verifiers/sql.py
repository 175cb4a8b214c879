"""Verifiers of the SQL arena: test-suite execution equivalence, execution accuracy, value answers.

``reference`` is a task's reference: ``{"gold": [sql per question], "order_matters": [bool per
question], "answers": [gold rows per question, for value tasks]}``; ``context`` says which
question and database: ``{"question": i, "db_path": "<sqlite file>", "db": name}``, optionally
``"dialect": "postgresql"`` when the agent worked against PostgreSQL and ``"timeout_s"``.

Verdicts are always computed on the SQLite databases, also for episodes played on PostgreSQL
(both are loaded from the same source): a prediction that fails on SQLite because it uses
PostgreSQL-only syntax is transpiled with ``sqlglot`` (postgres -> sqlite) and retried.

Results are compared by :mod:`arenas.verifiers.sql_compare`: as bags of rows (order only when
the gold query orders its result), allowing a permutation of the columns, numbers with a small
tolerance, and any order or choice among rows that the gold's ORDER BY leaves tied. The
databases are the original and the neighbours of :mod:`arenas.verifiers.sql_suite`.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from arenas.engines.sql import QueryError, ReadOnlySQLite, StepBudgetExceeded
from arenas.verifiers.base import Verdict
from arenas.verifiers.sql_compare import Probe, Rows, Ties, norm_rows, results_equal, split_probe, tie_probe
from arenas.verifiers.sql_distill import Distilled, build_copy, cached_distill, distill, forget_distilled
from arenas.verifiers.sql_suite import neighbour_paths

SUITE_SIZE = 7
"""Shared neighbours per gold (the distilled targeted copies come on top)."""
DEFAULT_TIMEOUT_S = 60.0
"""A wall-clock safety net only: verdicts are decided by step budgets, the same on any machine."""
GOLD_TIMEOUT_S = 60.0
MIN_STEPS = 250_000
"""A prediction's step budget on a database is ``max(MIN_STEPS, SLOW_FACTOR x the gold's steps
there)`` (a step is :data:`~arenas.engines.sql.STEP` SQLite instructions; the floor is about
two seconds of CPU)."""
SLOW_FACTOR = 20
MAX_SET_ROWS = 100_000
GOLD_CACHE_SIZE = 4096
COPY_CACHE_SIZE = 32


# ---- execution ---------------------------------------------------------------------------------
_local = threading.local()


def _conn(path: Path) -> ReadOnlySQLite:
    """This thread's connection to ``path`` (a forked worker opens its own)."""
    conns = getattr(_local, "conns", None)
    if conns is None or _local.pid != os.getpid():
        conns = _local.conns = {}
        _local.pid = os.getpid()
    key = str(path)
    if key not in conns:
        conns[key] = ReadOnlySQLite(path)
    return conns[key]


def _transpile_postgres(sql: str) -> str | None:
    try:
        import sqlglot
    except ImportError:
        return None
    try:
        out = sqlglot.transpile(sql, read="postgres", write="sqlite")
    except Exception:  # sqlglot raises many error types on unparsable input
        return None
    return out[0] if len(out) == 1 and out[0].strip() != sql.strip() else None


# ---- gold results on the suite -----------------------------------------------------------------
@dataclass
class GoldRun:
    """The gold rows on one database of the suite. ``path`` is None for a targeted copy (an
    in-memory copy of the original with ``updates``, rebuilt when evicted from its cache)."""

    name: str
    path: Path | None
    rows: Rows
    """normalised (:func:`~arenas.verifiers.sql_compare.norm`)"""
    ties: Ties | None = None
    seconds: float = 0.0
    """how long the gold query took here: a prediction's cost is guessed from it"""
    steps: int = 0
    """the gold's work here, in steps: a prediction's budget is a multiple of it"""
    updates: tuple = ()

    @property
    def budget(self) -> int:
        return max(MIN_STEPS, SLOW_FACTOR * self.steps)


_gold_cache: OrderedDict[tuple[str, str], list[GoldRun]] = OrderedDict()
_copy_cache: OrderedDict[tuple, ReadOnlySQLite] = OrderedDict()
_cache_lock = threading.Lock()


def _copy(db_path: Path, updates: tuple) -> ReadOnlySQLite:
    key = (str(db_path), updates, os.getpid())
    with _cache_lock:
        if key in _copy_cache:
            _copy_cache.move_to_end(key)
            return _copy_cache[key]
    db = ReadOnlySQLite(None, conn=build_copy(db_path, list(updates)), close_on_drop=True)
    with _cache_lock:
        db = _copy_cache.setdefault(key, db)
        while len(_copy_cache) > COPY_CACHE_SIZE:
            _copy_cache.popitem(last=False)
    return db


def _database(run: GoldRun, db_path: Path, gold_sql: str) -> ReadOnlySQLite:
    return _conn(run.path) if run.path is not None else _copy(db_path, run.updates)


def _run_gold(name: str, path: Path | None, db: ReadOnlySQLite, gold_sql: str, probe: Probe | None,
              updates: tuple = ()) -> GoldRun:
    """The gold rows on one database, through the tie probe where the query has one."""
    start = time.perf_counter()
    if probe is not None:
        try:
            rows, ties = split_probe(db.query(probe.sql, GOLD_TIMEOUT_S, None, None)[1], probe)
            return GoldRun(name, path, rows, ties, time.perf_counter() - start, db.last_steps, updates)
        except QueryError:
            pass
    rows = norm_rows(db.query(gold_sql, GOLD_TIMEOUT_S, None, None)[1])
    return GoldRun(name, path, rows, None, time.perf_counter() - start, db.last_steps, updates)


def _freeze(updates: list) -> tuple:
    return tuple((sql, tuple(params)) for sql, params in updates)


def gold_suite(db_path: str | Path, gold_sql: str, size: int = SUITE_SIZE, order: bool | None = None) -> list[GoldRun]:
    """The original database, ``size`` shared neighbours and the gold's distilled targeted
    copies, with the gold rows on each. The shared ones are the most telling for this query
    (its result there is non-empty and differs from the original; the pool is scanned in order
    until enough of those are found); the targeted ones catch the plausible wrong variants the
    others miss (:mod:`arenas.verifiers.sql_distill`, computed once per gold and cached on
    disk). Cached in memory."""
    path = Path(db_path).resolve()
    order = bool(re.search(r"\border\s+by\b", gold_sql, re.IGNORECASE)) if order is None else order
    key = (str(path), gold_sql, order)
    with _cache_lock:
        if key in _gold_cache:
            _gold_cache.move_to_end(key)
            return _gold_cache[key]
    probe = tie_probe(gold_sql)
    original = _run_gold("original", path, _conn(path), gold_sql, probe)
    suite = [original]
    baseline = Counter(original.rows)
    wanted = size
    ranked = []
    for k, npath in enumerate(neighbour_paths(path)):
        try:
            run = _run_gold(f"neighbour {k}", npath, _conn(npath), gold_sql, probe)
        except QueryError:
            continue
        ranked.append((-(2 * (Counter(run.rows) != baseline) + bool(run.rows)), k, run))
        if sum(rank == -3 for rank, *_ in ranked) >= wanted:
            break  # enough neighbours that change a non-empty result: the rest cannot rank higher
    ranked.sort(key=lambda x: x[:2])
    suite += [g for *_, g in ranked[:wanted]]
    for pick in distilled_suite(path, gold_sql, order, suite, probe).picks:
        updates = _freeze(pick.updates)
        suite.append(_run_gold(pick.name, None, _copy(path, updates), gold_sql, probe, updates))
    with _cache_lock:
        _gold_cache[key] = suite
        while len(_gold_cache) > GOLD_CACHE_SIZE:
            _gold_cache.popitem(last=False)
    return suite


def distilled_suite(path: Path, gold_sql: str, order: bool, default: list[GoldRun],
                    probe: Probe | None) -> Distilled:
    """The gold's distilled targeted copies against the ``default`` suite (cached on disk)."""
    def run_gold(db: ReadOnlySQLite) -> tuple[Rows, Ties | None, int]:
        run = _run_gold("", None, db, gold_sql, probe)
        return run.rows, run.ties, run.budget

    def compute() -> Distilled:
        dbs = [(_database(run, path, gold_sql), (run.rows, run.ties, run.budget)) for run in default]
        return distill(path, gold_sql, order, dbs, run_gold)

    return cached_distill(path, gold_sql, compute)


def clear_caches() -> None:
    """Forgets every gold result and targeted copy held in memory (the disk caches stay)."""
    with _cache_lock:
        _gold_cache.clear()
        _copy_cache.clear()
        _original_cache.clear()
        _original_steps.clear()
    forget_distilled()


_original_cache: OrderedDict[tuple[str, int, int, str], Rows] = OrderedDict()
_original_steps: dict[tuple[str, int, int, str], int] = {}


def _version(path: Path) -> tuple[str, int, int]:
    """``path`` and the version of its file (a changed file misses the caches keyed by it)."""
    try:
        stat = path.stat()
    except OSError:  # opening it reports the error
        return str(path), -1, -1
    return str(path), stat.st_mtime_ns, stat.st_size


def original_gold_rows(db_path: str | Path, gold_sql: str) -> Rows:
    """The gold query's own rows on the original database alone (cached in memory)."""
    path = Path(db_path).resolve()
    key = (*_version(path), gold_sql)
    with _cache_lock:
        if key in _original_cache:
            _original_cache.move_to_end(key)
            return _original_cache[key]
    db = _conn(path)
    rows = db.query(gold_sql, GOLD_TIMEOUT_S, None, None)[1]
    _original_steps[key] = db.last_steps
    with _cache_lock:
        _original_cache[key] = rows
        while len(_original_cache) > GOLD_CACHE_SIZE:
            _original_steps.pop(next(iter(_original_cache)), None)
            _original_cache.popitem(last=False)
    return rows


# ---- reference access ----------------------------------------------------------------------------
def _question(reference: Mapping[str, Any], context: Mapping[str, Any]) -> tuple[int, str, bool]:
    i = int(context.get("question", 0))
    gold = reference["gold"]
    gold_sql = gold if isinstance(gold, str) else gold[i]
    flags = reference.get("order_matters")
    if flags is None:
        order = bool(re.search(r"\border\s+by\b", gold_sql, re.IGNORECASE))
    else:
        order = bool(flags if isinstance(flags, bool) else flags[i])
    return i, gold_sql, order


def _db_path(context: Mapping[str, Any]) -> Path:
    if "db_path" not in context:
        raise KeyError("context needs 'db_path' (the task's SQLite file)")
    return Path(context["db_path"])


# The prediction's complete result (or error) on the original database, from the last verdicts
# of this thread: the execution-accuracy metric that follows a test-suite verdict of the same
# submission reads it instead of running the query again.
MEMO_SIZE = 4


@dataclass
class _Outcome:
    rows: Rows | None
    error: str | None
    transpiled: str | None


def _memo_key(path: Path, sql: str, context: Mapping[str, Any]) -> tuple:
    return (*_version(path), sql, str(context.get("dialect", "sqlite")).lower().startswith("postgres"),
            float(context.get("timeout_s", DEFAULT_TIMEOUT_S)))


def _memo() -> OrderedDict[tuple, _Outcome]:
    memo = getattr(_local, "memo", None)
    if memo is None:
        memo = _local.memo = OrderedDict()
    return memo


def _remember(key: tuple, outcome: _Outcome) -> None:
    memo = _memo()
    memo[key] = outcome
    memo.move_to_end(key)
    while len(memo) > MEMO_SIZE:
        memo.popitem(last=False)


def _run_candidate(db: ReadOnlySQLite, sql: str, max_rows: int | None, context: Mapping[str, Any],
                   details: dict[str, Any], max_steps: int) -> Rows:
    """Runs the prediction, retrying PostgreSQL syntax transpiled to SQLite once it failed."""
    timeout = float(context.get("timeout_s", DEFAULT_TIMEOUT_S))
    sql = details.get("transpiled", sql)
    try:
        _, rows, truncated = db.query(sql, timeout, max_rows, max_steps=max_steps)
    except QueryError as e:
        pg = str(context.get("dialect", "sqlite")).lower().startswith("postgres")
        if (not pg or isinstance(e, StepBudgetExceeded) or "transpiled" in details
                or (alt := _transpile_postgres(sql)) is None):
            raise
        details["transpiled"] = alt
        _, rows, truncated = db.query(alt, timeout, max_rows, max_steps=max_steps)
    if truncated:
        details["truncated"] = True
    return rows


# ---- the verifiers ----------------------------------------------------------------------------------
def _speculate(run: GoldRun, db_path: Path, gold_sql: str, sql: str, timeout: float,
               order: bool) -> tuple[str, str | None]:
    """One database of the suite, on a worker thread: ``("equal" | "different" | "error" |
    "too slow", error)``."""
    db = _database(run, db_path, gold_sql)
    try:
        _, rows, truncated = db.query(sql, timeout, len(run.rows) + 1, max_steps=run.budget)
    except QueryError as e:
        return ("too slow" if isinstance(e, StepBudgetExceeded) else "error"), e.message
    if truncated or not results_equal(run.rows, rows, order, run.ties, True):
        return "different", None
    return "equal", None


VERIFY_THREADS = min(4, os.cpu_count() or 1)
"""Worker threads that run a prediction on the neighbours beside the calling thread (SQLite
releases the GIL while it steps); 1 runs them one after another in the calling thread."""
PARALLEL_MIN_S = 0.002
"""The neighbours run in parallel when the gold took at least this long on them together."""
_pools: dict[int, ThreadPoolExecutor] = {}


def _pool() -> ThreadPoolExecutor:
    pid = os.getpid()  # a forked worker starts its own threads
    with _cache_lock:
        if pid not in _pools:
            _pools.clear()
            _pools[pid] = ThreadPoolExecutor(VERIFY_THREADS, thread_name_prefix="sql-verify")
        return _pools[pid]


def test_suite_equivalent(candidate_sql: Any, reference: Mapping[str, Any], context: Mapping[str, Any]) -> Verdict:
    """1 if the predicted query returns the gold result on the original database and on every
    neighbour of the suite, else 0 (the first database where they differ is in ``details``).

    Where the queries are slow enough to gain from it, the neighbours run on worker threads
    while the original is checked here, and their outcomes are read in suite order (the ones no
    worker has started yet run here), so the verdict is the one of checking them one by one:
    after a failure on the original they are dropped, and from a failure that would retry
    transpiled SQL on they are checked one by one."""
    _, gold_sql, order = _question(reference, context)
    if not isinstance(candidate_sql, str) or not candidate_sql.strip():
        return Verdict.fail("no SQL submitted")
    db_path = _db_path(context).resolve()
    suite = gold_suite(db_path, gold_sql, order=order)
    details: dict[str, Any] = {"databases": len(suite), "order_matters": order}

    def check(n_ok: int) -> Verdict | None:
        run = suite[n_ok]
        original = n_ok == 0 and run.path == db_path
        try:  # one row more than the gold is enough to know the bags differ
            db = _database(run, db_path, gold_sql)
            rows = _run_candidate(db, candidate_sql, len(run.rows) + 1, context, details, run.budget)
        except QueryError as e:
            slow = isinstance(e, StepBudgetExceeded)
            if original and not slow:
                _remember(_memo_key(db_path, candidate_sql, context),
                          _Outcome(None, e.message, details.get("transpiled")))
            return Verdict(0.0, False, {**details, "reason": "too slow" if slow else "error", "database": run.name,
                                         "error": e.message, "equal_on": n_ok})
        if original and "truncated" not in details:
            _remember(_memo_key(db_path, candidate_sql, context), _Outcome(rows, None, details.get("transpiled")))
        if details.pop("truncated", False) or not results_equal(run.rows, rows, order, run.ties, True):
            return Verdict(0.0, False, {**details, "reason": "different result", "database": run.name,
                                         "equal_on": n_ok})
        return None

    # threads pay off where the gold took a while on the neighbours (handing over costs ~50 us a query)
    parallel = VERIFY_THREADS > 1 and len(suite) > 2 and sum(r.seconds for r in suite[1:]) > PARALLEL_MIN_S
    if parallel:  # the neighbours start while the original runs here, with the SQL as submitted
        timeout = float(context.get("timeout_s", DEFAULT_TIMEOUT_S))
        pool = _pool()
        futures = [pool.submit(_speculate, run, db_path, gold_sql, candidate_sql, timeout, order)
                   for run in suite[1:]]
    try:
        verdict = check(0)
    except BaseException:
        if parallel:
            for future in futures:
                future.cancel()
        raise
    if verdict is not None or (parallel and "transpiled" in details):
        for future in futures if parallel else ():
            future.cancel()
        if verdict is not None:
            return verdict
        parallel = False  # the neighbours must run the transpiled SQL: one by one
    start = 1
    if parallel:
        pg = str(context.get("dialect", "sqlite")).lower().startswith("postgres")
        try:
            for n_ok, future in enumerate(futures, 1):
                try:  # one no worker has started yet runs here rather than waiting for it
                    status, error = (_speculate(suite[n_ok], db_path, gold_sql, candidate_sql, timeout, order)
                                     if future.cancel() else future.result())
                except Exception:  # replayed below, where it is raised again
                    status, error = "replay", None
                if status == "equal":
                    continue
                name = suite[n_ok].name
                if status == "different":
                    return Verdict(0.0, False, {**details, "reason": "different result", "database": name,
                                                 "equal_on": n_ok})
                if status == "too slow" or (status == "error" and (not pg or "transpiled" in details)):
                    return Verdict(0.0, False, {**details, "reason": status, "database": name,
                                                 "error": error, "equal_on": n_ok})
                start = n_ok  # an exception, or an error that transpiling may fix: one by one from here
                break
            else:
                start = len(suite)
        finally:
            for future in futures:
                future.cancel()
    for n_ok in range(start, len(suite)):
        if (verdict := check(n_ok)) is not None:
            return verdict
    return Verdict(1.0, True, {**details, "equal_on": len(suite)})


test_suite_equivalent.__test__ = False  # a verifier, not a pytest test


def execution_accuracy(candidate_sql: Any, reference: Mapping[str, Any], context: Mapping[str, Any]) -> Verdict:
    """BIRD-style execution accuracy: the set of predicted rows equals the set of gold rows on
    the original database (column order and duplicates as in BIRD: order kept, duplicates not)."""
    _, gold_sql, _ = _question(reference, context)
    if not isinstance(candidate_sql, str) or not candidate_sql.strip():
        return Verdict.fail("no SQL submitted")
    path = _db_path(context).resolve()
    gold = original_gold_rows(path, gold_sql)
    details: dict[str, Any] = {}
    memo = _memo().get(_memo_key(path, candidate_sql, context))
    if memo is not None and memo.transpiled is not None:
        details["transpiled"] = memo.transpiled
    if memo is not None and memo.error is not None:
        return Verdict(0.0, False, {"reason": "error", "error": memo.error})
    if memo is not None and memo.rows is not None and len(memo.rows) <= MAX_SET_ROWS:
        rows = memo.rows
    else:
        details.pop("transpiled", None)
        try:
            steps = _original_steps.get((*_version(path), gold_sql), 0)
            rows = _run_candidate(_conn(path), candidate_sql, MAX_SET_ROWS, context, details,
                                  max(MIN_STEPS, SLOW_FACTOR * steps))
        except QueryError as e:
            return Verdict(0.0, False, {"reason": "error", "error": e.message})
    if details.pop("truncated", False):
        return Verdict(0.0, False, {**details, "reason": f"result too large (over {MAX_SET_ROWS} rows or 16 MB)"})
    same = set(norm_rows(rows)) == set(norm_rows(gold))
    return Verdict(float(same), same, {**details, "reason": "equal" if same else "different result"})


# ---- value answers -------------------------------------------------------------------------------
_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")


def _as_number(text: str) -> tuple[float, int | None] | None:
    """``(value, decimals shown)`` of a numeric answer such as ``1,234.50``, ``$3.2`` or ``42``."""
    t = text.strip().replace(",", "").replace("_", "").removeprefix("$").removesuffix("%").strip()
    if not _NUMBER.fullmatch(t):
        return None
    decimals = None if "e" in t.lower() else (len(t.split(".")[1]) if "." in t else 0)
    return float(t), decimals


def _same_value(candidate: Any, gold: Any) -> bool:
    if gold is None:
        return candidate is None or str(candidate).strip().lower() in ("", "null", "none")
    if isinstance(gold, int | float) and not isinstance(gold, bool):
        parsed = _as_number(str(candidate))
        if parsed is None:
            return False
        value, decimals = parsed
        if math.isclose(value, gold, rel_tol=1e-4, abs_tol=1e-9):
            return True
        # "rounded to the shown precision": 3.14 for 3.14159, but never 3 for 3.4
        return bool(decimals) and round(float(gold), decimals) == round(value, decimals)
    return _canon(candidate) == _canon(gold)


def _canon(text: Any) -> str:
    """Text answers ignore case, spacing, surrounding quotes and a final full stop."""
    return " ".join(str(text).split()).rstrip(".").strip("'\"").rstrip(".").casefold()


def _answer_items(candidate: Any) -> list[Any]:
    if isinstance(candidate, list | tuple):
        return [v for item in candidate for v in (item if isinstance(item, list | tuple) else [item])]
    if isinstance(candidate, str):
        text = candidate.strip()
        if text.startswith("["):
            try:
                return _answer_items(json.loads(text))
            except json.JSONDecodeError:
                pass
        return [p for p in re.split(r"\s*[\n;]\s*|\s*,\s+", text) if p]
    return [candidate]


def _gold_values(reference: Mapping[str, Any], context: Mapping[str, Any]) -> list[Any]:
    i, gold_sql, _ = _question(reference, context)
    answers = reference.get("answers")
    rows: Sequence[Any] | None = answers[i] if answers is not None and i < len(answers) else None
    if rows is None:
        rows = original_gold_rows(_db_path(context), gold_sql)
    return [v for row in rows for v in (row if isinstance(row, list | tuple) else [row])]


def value_matches(candidate_value: Any, reference: Mapping[str, Any], context: Mapping[str, Any]) -> Verdict:
    """1 if the answer equals the gold value(s): numbers within a relative 1e-4 or equal when
    rounded to the decimals the answer shows, text ignoring case and spacing. Several gold
    values must all be given, in any order."""
    gold = _gold_values(reference, context)
    if candidate_value is None or (isinstance(candidate_value, str) and not candidate_value.strip()):
        return Verdict.fail("no answer submitted", expected_values=len(gold))
    if len(gold) == 1:
        ok = _same_value(candidate_value, gold[0]) or (
            isinstance(candidate_value, list | tuple) and len(candidate_value) == 1
            and _same_value(_answer_items(candidate_value)[0], gold[0]))
        return Verdict(float(ok), ok, {"reason": "equal" if ok else "different value"})
    items = _answer_items(candidate_value)
    remaining = list(gold)
    for item in items:
        match = next((j for j, g in enumerate(remaining) if _same_value(item, g)), None)
        if match is None:
            break
        remaining.pop(match)
    ok = not remaining and len(items) == len(gold)
    return Verdict(float(ok), ok, {"reason": "equal" if ok else "different values",
                                   "expected_values": len(gold), "given_values": len(items),
                                   "unmatched": [str(v) for v in islice(remaining, 5)]})
