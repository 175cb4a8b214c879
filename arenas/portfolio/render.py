"""Text views for language-model agents: the per-decision summary and the tools' answers.

Every number here is computed from :meth:`Market.history` / :meth:`Market.rows`, so the text
never sees past the decision day.
"""

from __future__ import annotations

import math

import numpy as np

from arenas.portfolio.market import Market

TRADING_DAYS = 252


def _pct(x: float) -> str:
    return f"{100 * x:+.2f}%"


def reply_format(tickers: tuple[str, ...]) -> str:
    a, b = tickers[0], tickers[min(1, len(tickers) - 1)]
    return (f'Reply with target weights as one JSON object, e.g. {{"{a}": 0.3, "{b}": 0.2, "CASH": 0.5}} '
            "(long-only, summing to 1; omitted tickers get 0, omitted CASH gets the remainder), "
            "or HOLD to keep your drifted weights, or call a tool to study more history first.")


def rules(tickers: tuple[str, ...], rebalance: str, periods: int, cost_bps: float, cost_model: str,
          tool_names: list[str], esg_rate: float, reward: str = "log_return") -> str:
    esg = (f" An ESG-style regulation adds a grant (or tax) of {esg_rate:.2%} a year times the "
           "holdings-weighted (score - 50) / 50 of illustrative scores." if esg_rate else "")
    step = ("the portfolio's log return net of costs minus that of the equal-weight portfolio"
            if reward == "excess" else "the portfolio's log return net of costs")
    return (
        f"You manage a long-only portfolio of {len(tickers)} assets ({', '.join(tickers)}) plus CASH "
        f"(earns 0), starting all in cash with value 1.0. There are {periods} {rebalance} decisions. "
        "At each decision you see data up to that day's close and choose target weights; they then "
        "drift with prices until the next decision. Each trade costs "
        f"{cost_bps:g} bps of the turnover ({cost_model} model). Your reward each period is "
        f"{step}; the episode is scored against the equal-weight "
        "portfolio rebalanced on the same days (excess log return, Sharpe difference, max drawdown, "
        f"turnover). Invalid weights are repaired as described in the feedback and cost a small "
        f"penalty.{esg} Tools: {', '.join(tool_names)}.\n\n{reply_format(tickers)}"
    )


def summary(market: Market, rebalance: str, problems: list[str] | None = None) -> str:
    """The compact state at the current decision: value, weights, recent returns and risk."""
    u = market.universe
    k, t = market.k, market.t
    h = int(market.days[1] - market.days[0]) if market.periods else 1
    last = np.expm1(market.history(h).sum(0))
    ret20 = np.expm1(market.history(20).sum(0))
    r60 = market.history(60)
    vol = r60.std(0, ddof=1) * math.sqrt(TRADING_DAYS)
    path = market.path[:k + 1]
    dd = 1 - math.exp(path[-1] - path.max())
    lines = []
    if problems:
        lines.append("Your last weights had problems (repaired, small penalty): " + "; ".join(problems))
    lines.append(f"{u.date(t)} - decision {k + 1} of {market.periods} ({rebalance} rebalancing)")
    lines.append(f"Portfolio value {math.exp(market.log_value):.4f} (last period "
                 f"{_pct(math.expm1(market.last_log_return))}, drawdown {dd:.2%})")
    lines.append(f"{'ticker':<7}{'weight':>8}{'last-period':>13}{'20d-return':>12}{'60d-vol(ann)':>14}")
    for i, name in enumerate(u.tickers):
        lines.append(f"{name:<7}{market.weights[i]:>8.1%}{_pct(last[i]):>13}{_pct(ret20[i]):>12}{vol[i]:>14.1%}")
    lines.append(f"{'CASH':<7}{market.weights[-1]:>8.1%}")
    if u.n_assets > 1:
        off = _correlation(r60)[~np.eye(u.n_assets, dtype=bool)]
        lines.append(f"Average pairwise correlation of daily returns (60d): {off.mean():.2f}")
    lines.append(reply_format(u.tickers))
    return "\n".join(lines)


def _correlation(r: np.ndarray) -> np.ndarray:
    """Correlation matrix; an asset with unchanged prices over the window correlates 0."""
    if r.shape[1] == 1:
        return np.ones((1, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.corrcoef(r.T)
    c = np.nan_to_num(c, nan=0.0)
    np.fill_diagonal(c, 1.0)
    return c


def returns_table(market: Market, days: int) -> str:
    r = market.history(days)
    total = np.expm1(r.sum(0))
    ann = r.mean(0) * TRADING_DAYS
    vol = r.std(0, ddof=1) * math.sqrt(TRADING_DAYS)
    lines = [f"Daily log returns over the last {len(r)} trading days up to {market.universe.date(market.t)}:",
             f"{'ticker':<7}{'total':>10}{'ann.mean':>10}{'ann.vol':>9}{'mean/vol':>10}"]
    for i, name in enumerate(market.universe.tickers):
        ratio = ann[i] / vol[i] if vol[i] > 0 else 0.0
        lines.append(f"{name:<7}{_pct(total[i]):>10}{ann[i]:>10.3f}{vol[i]:>9.3f}{ratio:>10.2f}")
    return "\n".join(lines)


def covariance_table(market: Market, days: int) -> str:
    r = market.history(days)
    names = market.universe.tickers
    vol = r.std(0, ddof=1) * math.sqrt(TRADING_DAYS)
    corr = _correlation(r)
    lines = [f"Annualised volatility and correlation of daily returns, last {len(r)} trading days "
             "(covariance = corr * vol_i * vol_j):",
             "vol " + " ".join(f"{n}={v:.3f}" for n, v in zip(names, vol, strict=True)),
             " " * 7 + "".join(f"{n[:5]:>6}" for n in names)]
    for i, name in enumerate(names):
        lines.append(f"{name:<7}" + "".join(f"{x:>6.2f}" for x in corr[i]))
    return "\n".join(lines)


def drawdown_table(market: Market, days: int) -> str:
    p = market.history(days, market.universe.prices)
    peak = np.maximum.accumulate(p, axis=0)
    max_dd = (1 - p / peak).max(0)
    now_dd = 1 - p[-1] / peak[-1]
    lines = [f"Drawdowns from the running peak over the last {len(p)} trading days:",
             f"{'ticker':<7}{'max':>8}{'current':>9}"]
    for i, name in enumerate(market.universe.tickers):
        lines.append(f"{name:<7}{max_dd[i]:>8.1%}{now_dd[i]:>9.1%}")
    path = market.path[:market.k + 1]
    own = 1 - np.exp(path - np.maximum.accumulate(path))
    lines.append(f"Your portfolio since the start: max {own.max():.1%}, current {own[-1]:.1%}")
    return "\n".join(lines)


def price_table(market: Market, column: int, days: int) -> str:
    p = market.history(days, market.universe.prices)[:, column]
    first = market.t + 1 - len(p)
    name = market.universe.tickers[column]
    rows = [f"{market.universe.date(first + i)} {x:.4f}" for i, x in enumerate(p)]
    return f"Adjusted closes of {name}:\n" + "\n".join(rows)
