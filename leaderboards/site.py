"""``arenas leaderboard publish``: the results database as a static HTML site.

One index page (a table per board and an aggregate per suite), a page per board (arena) with
reward-component and task-family breakdowns, and a page per entry (configuration, hardware,
packages, tokens, time, errors, and a sample of trajectories turn by turn). Plots are files
next to the pages and the only script is inline (sortable tables), so the site works opened
from disk with no network.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from arenas.leaderboards import plots
from arenas.leaderboards.db import Entry, ResultsDB
from arenas.leaderboards.ranking import Standing, aggregate
from arenas.leaderboards.ratings import entry_label as label
from arenas.leaderboards.ratings import ratings
from arenas.leaderboards.results import OTHER, Boards, interval, load_boards, tie_note
from arenas.trajectory import Trajectory, read_trajectories

SAMPLE_EPISODES = 5
MAX_TEXT = 3000

CSS = """body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border:1px solid #ccc;padding:.25rem .5rem;font-size:.9rem}
th{background:#f2f2f2;cursor:pointer;user-select:none}th[data-order=asc]::after{content:" ▲"}
th[data-order=desc]::after{content:" ▼"}td.num{text-align:right;font-variant-numeric:tabular-nums}
.bad{color:#b00020}.note{color:#666;font-size:.85rem}pre{background:#f7f7f7;padding:.5rem;overflow-x:auto;
white-space:pre-wrap;font-size:.8rem}details{margin:.3rem 0}.turn{border-left:3px solid #4c72b0;margin:.4rem 0;
padding-left:.6rem}img{max-width:100%}"""

SORT_JS = """document.querySelectorAll('table.sortable th').forEach((th, i) => th.addEventListener('click', () => {
  const body = th.closest('table').tBodies[0], asc = th.dataset.order !== 'asc';
  th.closest('tr').querySelectorAll('th').forEach(h => delete h.dataset.order);
  th.dataset.order = asc ? 'asc' : 'desc';
  const key = r => { const c = r.cells[i], v = c.dataset.value ?? c.textContent.trim(), n = parseFloat(v);
                     return isNaN(n) ? v : n; };
  Array.from(body.rows).sort((a, b) => { const x = key(a), y = key(b); return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1); })
    .forEach(r => body.appendChild(r));
}));"""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def slug(*parts: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", "-".join(parts)).strip("_")


def page(title: str, body: str, up: bool = True) -> str:
    nav = '<p><a href="index.html">← leaderboard</a></p>' if up else ""
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
            f"<style>{CSS}</style></head><body>{nav}<h1>{esc(title)}</h1>\n{body}\n"
            f"<script>{SORT_JS}</script></body></html>\n")


def num(value: float, fmt: str = ".3f") -> str:
    """A numeric cell (its raw value sorts)."""
    text = "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, fmt)
    raw = "" if text == "n/a" else f' data-value="{value}"'
    return f'<td class="num"{raw}>{text}</td>'


def table(headers: list[str], rows: list[str], cls: str = "sortable") -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>\n' + "\n".join(rows) + "\n</tbody></table>"


def board_title(key: tuple[str, str, str]) -> str:
    suite, arena, split = key
    return f"{arena} · {split} · {suite}"


def standing_rows(rows: list[Standing]) -> list[str]:
    out = []
    for s in rows:
        e = s.entry
        invalid = s.invalid_actions / s.turns if s.turns else 0.0
        verified = "yes" if e.verified else f'<span class="bad" title="{esc(e.note)}">no</span>'
        errors = f'<td class="num{" bad" if s.errors else ""}" data-value="{s.errors}">{s.errors}</td>'
        out.append(f'<tr><td class="num" data-value="{s.rank}">{s.rank}</td>'
                   f'<td><a href="entry-{e.id}.html">{esc(label(e))}</a></td>'
                   f'<td class="num" data-value="{s.value}">{esc(interval(s))}</td>{num(s.success_rate, ".1%")}'
                   f'{num(invalid, ".1%")}{num(s.episodes, "d")}{errors}'
                   f'{num(s.tokens / s.episodes if s.episodes else 0.0, ".0f")}<td>{verified}</td>'
                   f'<td class="note">{esc(tie_note(s))}</td></tr>')
    return out


RANK_HEADERS = ["rank", "agent", "score [95% CI]", "success", "invalid actions", "episodes", "errors",
                "tokens/episode", "verified", "paired test with the next"]


def family(task_id: str) -> str:
    """A task's family: its id without the trailing number (``sql-flights-window_rank-3``)."""
    return re.sub(r"[-_]?\d+$", "", task_id) or task_id


def family_table(rows: list[Standing]) -> str:
    fams: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for s in rows:
        for ep in s.entry.episodes:
            fams[family(ep.task_id)][s.entry.id].append(ep.score)
    if len(fams) < 2:
        return ""
    headers = ["task family", "episodes"] + [label(s.entry) for s in rows]
    body = []
    for name, per in sorted(fams.items()):
        cells = "".join(num(sum(per[s.entry.id]) / len(per[s.entry.id])) if per.get(s.entry.id) else num(math.nan)
                        for s in rows)
        body.append(f"<tr><td>{esc(name)}</td>{num(max(len(v) for v in per.values()), 'd')}{cells}</tr>")
    return "<h2>By task family</h2>" + table(headers, body)


def component_table(rows: list[Standing]) -> str:
    names = sorted({c for s in rows for c in s.components})
    if not names:
        return ""
    body = [f'<tr><td><a href="entry-{s.entry.id}.html">{esc(label(s.entry))}</a></td>'
            + "".join(num(s.components.get(n, math.nan)) for n in names) + "</tr>" for s in rows]
    return "<h2>Reward components (finished episodes)</h2>" + table(["agent", *names], body)


def ratings_section(out: Path, name: str, title: str, rows: list[Standing]) -> str:
    """Multi-agent arenas: the rating ladder of the agents and their opponent pool."""
    rated = ratings([s.entry for s in rows])
    if not rated:
        return ""
    body = [f"<tr><td>{esc(r.player)}</td>{num(r.elo, '.0f')}<td>[{r.lo:.0f}, {r.hi:.0f}]</td>{num(r.games, 'd')}</tr>"
            for r in rated]
    ladder = plots.rating_ladder(rated, out / "plots" / f"{name}-ratings.svg", f"{title}: ratings")
    return ("<h2>Ratings (Bradley–Terry on the Elo scale, from every game of the board)</h2>"
            + table(["player", "rating", "95% interval", "games"], body) + img(ladder, f"rating ladder of {title}"))


def img(src: Path | None, alt: str) -> str:
    return f'<p><img src="plots/{esc(src.name)}" alt="{esc(alt)}"></p>' if src else ""


def board_page(out: Path, key: tuple[str, str, str], rows: list[Standing]) -> str:
    name = slug("board", *key)
    title = board_title(key)
    bars = plots.score_bars(rows, out / "plots" / f"{name}-scores.svg", title)
    comps = plots.component_bars(rows, out / "plots" / f"{name}-components.svg", f"{title}: components")
    body = (table(RANK_HEADERS, standing_rows(rows)) + img(bars, f"scores of {title}")
            + ratings_section(out, name, title, rows) + component_table(rows)
            + img(comps, f"reward components of {title}") + family_table(rows))
    (out / f"{name}.html").write_text(page(title, body))
    return f"{name}.html"


def aggregate_table(by_arena: dict[str, list[Standing]]) -> str:
    agg = aggregate(by_arena)
    if len(by_arena) < 2 or not agg:
        return ""
    body = [f"<tr><td>{esc(a['agent'])}</td>{num(a['mean_rank'], '.2f')}{num(a['mean'])}{num(a['arenas'], 'd')}"
            f"{num(a['episodes'], 'd')}{num(a['errors'], 'd')}</tr>" for a in agg]
    return ("<h3>Aggregate (agents that played every arena)</h3>"
            + table(["agent", "mean rank", "mean score", "arenas", "episodes", "errors"], body))


def index_page(out: Path, bds: Boards, links: dict[tuple[str, str, str], str], suites: dict[str, Any],
               training: str | None = None) -> None:
    parts = ['<p class="note">Every entry was re-scored from its trajectories by the arena\'s verifier before it '
             "was accepted. Scores count errored episodes as 0; intervals resample whole tasks (95%); neighbours "
             "are compared with a paired bootstrap over the episodes both played.</p>"]
    by_suite: dict[str, dict[tuple[str, str, str], list[Standing]]] = defaultdict(dict)
    for key, rows in bds.items():
        by_suite[key[0]][key] = rows
    for suite in sorted(by_suite, key=lambda s: (s == OTHER, s)):
        boards_of = by_suite[suite]
        desc = (suites.get(suite) or {}).get("description", "")
        parts.append(f"<h2>{esc(suite)}</h2>" + (f'<p class="note">{esc(desc)}</p>' if desc else ""))
        parts.append(aggregate_table({k[1] + "/" + k[2]: v for k, v in boards_of.items()}))
        for key, rows in boards_of.items():
            parts.append(f'<h3><a href="{links[key]}">{esc(key[1])} · {esc(key[2])}</a></h3>')
            parts.append(table(RANK_HEADERS, standing_rows(rows)))
    every = [s for rows in bds.values() for s in rows]
    if every:
        scatter = plots.score_vs_cost(every, out / "plots" / "score-vs-cost.png", "score and cost (every entry)")
        parts.append("<h2>Score and cost</h2>" + img(scatter, "score against tokens (or seconds) per episode"))
    if training:
        parts.append(f'<h2>Training</h2><p><a href="{training}">learning curves of arenas train runs</a></p>')
    if not bds:
        parts.append("<p>No entries yet: run <code>arenas eval</code> or <code>arenas leaderboard ingest</code>.</p>")
    (out / "index.html").write_text(page("arenas leaderboard", "\n".join(parts), up=False))


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + f" … [{len(text) - MAX_TEXT:,} characters cut]"


def render_trajectory(t: Trajectory) -> str:
    turns = []
    for turn in t.turns:
        seen = "".join(f"<pre><b>{esc(m.get('role', '?'))}</b>: {esc(_text(m.get('content', '')))}</pre>"
                       for m in turn.observation)
        act = turn.action or {}
        calls = act.get("tool_calls") or []
        said = f"<pre><b>agent</b>: {esc(_text(act.get('text') or ''))}</pre>" if act.get("text") else ""
        called = f"<pre><b>tool calls</b>: {esc(_text(calls))}</pre>" if calls else ""
        flag = ' <span class="bad">invalid action</span>' if turn.info.get("invalid_action") else ""
        turns.append(f'<div class="turn"><b>turn {turn.index + 1}</b> · reward {turn.reward:.3f}{flag}'
                     f"{seen}{said}{called}</div>")
    final = "".join(f"<pre><b>{esc(m.get('role', '?'))}</b>: {esc(_text(m.get('content', '')))}</pre>"
                    for m in t.final_observation)
    error = f'<pre class="bad">{esc(_text(t.error))}</pre>' if t.error else ""
    label = (f"{esc(t.task_id)} (seed {t.seed}, rollout {t.rollout}): reward {t.reward:.3f}, "
             f"{esc(t.termination or 'unfinished')}, {len(t.turns)} turns")
    return f"<details><summary>{label}</summary>{error}{''.join(turns)}{final}</details>"


def sample_trajectories(entry: Entry, k: int = SAMPLE_EPISODES) -> list[Trajectory]:
    """The first ``k`` finished episodes (by task id) and up to 3 errored ones, from the run folder."""
    path = Path(entry.run_dir) / "episodes.jsonl"
    if not path.exists():
        return []
    trajs = sorted(read_trajectories(path), key=lambda t: (t.task_id, t.seed, t.rollout))
    return [t for t in trajs if t.error is None][:k] + [t for t in trajs if t.error is not None][:3]


def entry_page(out: Path, s: Standing) -> None:
    e = s.entry
    facts = [("agent", e.agent_spec), ("arena", f"{e.arena} v{e.arena_version}"), ("split", e.split),
             ("suite", e.suite or OTHER), ("score [95% CI]", interval(s)), ("episodes", s.episodes),
             ("errors (count as 0)", s.errors), ("tokens", s.tokens), ("episode time (s, summed)", f"{s.seconds:.1f}"),
             ("run time (s)", f"{e.elapsed_s:.1f}"), ("verified by re-scoring", "yes" if e.verified else f"no: {e.note}"),
             ("git", json.dumps(e.git)), ("run folder", e.run_dir), ("config hash", e.config_hash)]
    rows = [f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in facts]
    terms: dict[str, int] = defaultdict(int)
    for ep in e.episodes:
        terms[ep.termination or "?"] += 1
    errored = [ep for ep in e.episodes if ep.error]
    err_rows = [f"<tr><td>{esc(ep.task_id)}</td><td>{ep.seed}</td><td>{ep.rollout}</td>"
                f"<td><pre>{esc(ep.error.strip().splitlines()[0][:300])}</pre></td></tr>" for ep in errored[:50]]
    sample = sample_trajectories(e)
    body = (table([], rows, cls="facts")
            + "<h2>Terminations</h2>" + table(["termination", "episodes"],
                                              [f"<tr><td>{esc(k)}</td>{num(v, 'd')}</tr>" for k, v in sorted(terms.items())])
            + (("<h2>Errors</h2>" + table(["task", "seed", "rollout", "error"], err_rows)) if errored else "")
            + "<h2>Configuration</h2>" + f"<pre>{esc(json.dumps(e.config, indent=2, default=str))}</pre>"
            + "<h2>Hardware</h2>" + f"<pre>{esc(json.dumps(e.hardware, indent=2))}</pre>"
            + "<h2>Packages</h2>" + f"<pre>{esc(json.dumps(e.packages, indent=2))}</pre>"
            + f"<h2>Sample trajectories ({len(sample)})</h2>" + "".join(render_trajectory(t) for t in sample))
    (out / f"entry-{e.id}.html").write_text(page(f"{label(e)} on {e.arena} · {e.split}", body))


def training_page(out: Path, train_runs: list[Path]) -> str | None:
    """Learning curves of ``arenas train`` runs (every ``metrics.jsonl`` under the given folders)."""
    from arenas.agents.grpo.metrics import plot_learning_curve

    parts = []
    for metrics in sorted(m for root in train_runs for m in Path(root).rglob("metrics.jsonl")):
        name = slug("train", str(metrics.parent.resolve()))[-120:]
        png = plot_learning_curve(metrics, out / "plots" / f"{name}.png")
        if png is not None:
            parts.append(f"<h2>{esc(metrics.parent)}</h2>" + img(Path(png), f"learning curve of {metrics.parent}"))
    if not parts:
        return None
    (out / "training.html").write_text(page("Learning curves of arenas train runs", "\n".join(parts)))
    return "training.html"


def publish(db: ResultsDB, out: str | Path, suite: str | None = None, train_runs: list[Path] = ()) -> list[Path]:
    """Writes the site into ``out`` (and learning curves of the training runs under ``train_runs``);
    returns the pages written."""
    out = Path(out)
    (out / "plots").mkdir(parents=True, exist_ok=True)
    bds = load_boards(db, suite)
    links = {key: board_page(out, key, rows) for key, rows in bds.items()}
    for rows in bds.values():
        for s in rows:
            entry_page(out, s)
    training = training_page(out, list(train_runs)) if train_runs else None
    index_page(out, bds, links, db.suites(), training)
    return sorted(out.glob("*.html"))
