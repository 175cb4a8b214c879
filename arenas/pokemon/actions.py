"""The text action language of the VGC arena and its check against the legal orders.

One line per decision: a comma-separated order per active slot (``a``, then ``b``):

- ``move K [terastallize] [T]``: move K (1-4 as listed, or the move's name) at target T
  (1/2 = the opponent's slots, -1/-2 = your own; omitted for moves with no target choice);
- ``switch N``: the bench Pokémon numbered N (or its name);
- ``pass``: only when the slot has nothing to do.

Team preview: ``team 1234`` brings those four (by their team numbers); the first two lead.
Every order is matched against poke-env's legal orders for the request, so what is sent to the
server is always one of them; the server's own error still comes back if it disagrees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from poke_env.battle.double_battle import DoubleBattle
from poke_env.battle.move import Move
from poke_env.battle.pokemon import Pokemon
from poke_env.player.battle_order import (
    BattleOrder,
    DoubleBattleOrder,
    PassBattleOrder,
    SingleBattleOrder,
)

SLOTS = ("a", "b")
PICKED = 4
FORMAT_HELP = ('Reply with one line, one order per active slot (a, then b), e.g. "move 1 2, switch 3" or '
               '"move 2 terastallize 1, move 1 -1". Targets: 1/2 = opponent slots, -1/-2 = your slots.')
PREVIEW_HELP = 'Reply with one line "team ABCD": the team numbers of the four you bring; the first two lead.'


def _norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


def slot_moves(battle: DoubleBattle, slot: int) -> list[Move]:
    """The moves of the active Pokémon in ``slot``, numbered as the observation shows them."""
    mon = battle.active_pokemon[slot]
    moves = list(mon.moves.values())[:4] if mon is not None else []
    known = {m.id for m in moves}
    return moves + [m for m in battle.available_moves[slot] if m.id not in known]


def team_list(battle: DoubleBattle) -> list[Pokemon]:
    """Your Pokémon, numbered as the observation shows them: the request's Pokémon in the order
    poke-env first saw them (stable across turns; entries the request does not name are dropped)."""
    idents = {p["ident"] for p in (battle.last_request or {}).get("side", {}).get("pokemon", [])}
    mons = [m for k, m in battle.team.items() if k in idents]
    return mons or list(battle.team.values())


def describe(battle: DoubleBattle, slot: int, order: SingleBattleOrder, move_ids: list[str] | None = None,
             team: list[Pokemon] | None = None) -> str:
    """The canonical text of one legal order (``move_ids``/``team`` save recomputing them)."""
    if isinstance(order, PassBattleOrder) or order.order == "/choose pass":
        return "pass"
    if isinstance(order.order, Pokemon):
        return f"switch {(team or team_list(battle)).index(order.order) + 1}"
    if isinstance(order.order, Move):
        ids = move_ids if move_ids is not None else [m.id for m in slot_moves(battle, slot)]
        k = ids.index(order.order.id) + 1 if order.order.id in ids else 1
        text = f"move {k}" + (" terastallize" if order.terastallize else "")
        return text + (f" {order.move_target}" if order.move_target else "")
    return str(order.order).replace("/choose ", "")


def legal_options(battle: DoubleBattle) -> list[dict[str, SingleBattleOrder]]:
    """Per slot: canonical text -> order, for every legal order of the current request (computed
    once per request: the observation, the parser and the baselines all ask for it)."""
    request = battle.last_request or {}
    key = (request.get("rqid"), battle.teampreview, battle.turn, id(request))
    cached = getattr(battle, "_arenas_legal", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    out = _legal_options(battle)
    battle._arenas_legal = (key, out)
    return out


def _legal_options(battle: DoubleBattle) -> list[dict[str, SingleBattleOrder]]:
    out: list[dict[str, SingleBattleOrder]] = []
    team = team_list(battle)
    for slot, orders in enumerate(battle.valid_orders):
        table: dict[str, SingleBattleOrder] = {}
        ids = [m.id for m in slot_moves(battle, slot)]
        for o in orders:
            if o.mega or o.z_move or o.dynamax:
                continue
            table.setdefault(describe(battle, slot, o, ids, team), o)
        out.append(table or {"pass": PassBattleOrder()})
    return out


@dataclass
class Parsed:
    """A checked action: the server message, or why it is not legal."""

    message: str = ""
    error: str = ""
    text: str = ""
    """The canonical text of the accepted action."""


def _parse_slot(battle: DoubleBattle, slot: int, part: str, legal: dict[str, SingleBattleOrder]) -> tuple[str, str]:
    """Returns (canonical text, error)."""
    name = SLOTS[slot]
    words = part.lower().replace("tera ", "terastallize ").split()
    if not words:
        return "", f"slot {name}: empty order"
    verb, rest = words[0], words[1:]
    if verb == "pass":
        return ("pass", "") if "pass" in legal else ("", f"slot {name}: cannot pass now")
    if verb == "switch":
        if not rest:
            return "", f"slot {name}: switch needs a team number"
        arg = " ".join(rest)
        if arg.isdigit():
            text = f"switch {int(arg)}"
        else:
            mons = [i for i, m in enumerate(team_list(battle), 1) if _norm(m.species) == _norm(arg)
                    or _norm(m.name) == _norm(arg)]
            if not mons:
                return "", f"slot {name}: no Pokémon called {arg!r} in your team"
            text = f"switch {mons[0]}"
        if text in legal:
            return text, ""
        switches = [k for k in legal if k.startswith("switch")]
        why = "it is fainted, active, not brought, or you are trapped" if switches else "no switch is possible"
        return "", f"slot {name}: cannot {text} ({why}); legal switches: {', '.join(switches) or 'none'}"
    if verb != "move":
        return "", f"slot {name}: unknown order {verb!r} (use move, switch or pass)"
    tera = "terastallize" in rest
    rest = [w for w in rest if w != "terastallize"]
    target = None
    if rest and re.fullmatch(r"[+-]?\d", rest[-1]) and len(rest) >= 2:
        target = int(rest.pop())
    if not rest:
        return "", f"slot {name}: move needs a move number"
    arg = " ".join(rest)
    moves = slot_moves(battle, slot)
    if arg.isdigit():
        k = int(arg)
    else:
        ks = [i for i, m in enumerate(moves, 1) if _norm(m.id) == _norm(arg)]
        if not ks:
            return "", f"slot {name}: the active Pokémon has no move {arg!r}"
        k = ks[0]
    base = f"move {k}" + (" terastallize" if tera else "")
    choices = [key for key in legal if key == base or key.startswith(base + " ")]
    if not choices:
        if tera and any(key.startswith(f"move {k}") for key in legal):
            return "", f"slot {name}: cannot terastallize now"
        moves_ok = sorted({" ".join(key.split()[:2]) for key in legal if key.startswith("move")})
        return "", f"slot {name}: move {k} is not usable now; usable: {', '.join(moves_ok) or 'none'}"
    if target is None:
        if base in legal:
            return base, ""
        targets = [key.rsplit(" ", 1)[1] for key in choices]
        return "", f"slot {name}: move {k} needs a target: {', '.join(targets)}"
    text = f"{base} {target}"
    if text in legal:
        return text, ""
    if base in legal:  # a move with no target choice: the given target is ignored
        return base, ""
    targets = [key.rsplit(" ", 1)[1] for key in choices]
    return "", f"slot {name}: move {k} cannot target {target}; targets: {', '.join(targets)}"


def parse_action(battle: DoubleBattle, text: str) -> Parsed:
    """Checks a move-phase action against the legal orders of the current request."""
    line = (text or "").strip().splitlines()
    line = [ln for ln in line if ln.strip()]
    if not line:
        return Parsed(error="empty action. " + FORMAT_HELP)
    raw = re.sub(r"^\s*(/choose|choose|action:)\s*", "", line[-1].strip(), flags=re.I).strip().strip("`'\".")
    legal = legal_options(battle)
    parts = [p.strip() for p in raw.split(",")]
    active = [i for i, opts in enumerate(legal) if set(opts) != {"pass"}]
    if len(parts) == 1 and len(active) == 1:
        parts = ["pass", "pass"]
        parts[active[0]] = raw
    if len(parts) != 2:
        return Parsed(error=f"expected 2 orders separated by a comma, got {len(parts)}. " + FORMAT_HELP)
    texts, errors = [], []
    for slot, part in enumerate(parts):
        canon, err = _parse_slot(battle, slot, part, legal[slot])
        texts.append(canon)
        if err:
            errors.append(err)
    if errors:
        return Parsed(error="; ".join(errors))
    first, second = legal[0][texts[0]], legal[1][texts[1]]
    if first.terastallize and second.terastallize:
        return Parsed(error="only one Pokémon can terastallize per turn")
    if isinstance(first.order, Pokemon) and first.order is second.order:
        return Parsed(error="both slots switch to the same Pokémon")
    if texts == ["pass", "pass"] and (len(legal[0]) > 1 or len(legal[1]) > 1):
        return Parsed(error="both slots pass but at least one has something to do")
    return Parsed(message=DoubleBattleOrder(first, second).message, text=", ".join(texts))


def parse_preview(battle: DoubleBattle, text: str) -> Parsed:
    """Checks a team-preview action (``team 1234``)."""
    line = [ln for ln in (text or "").strip().splitlines() if ln.strip()]
    raw = line[-1].strip().lower() if line else ""
    m = re.fullmatch(r"/?team\s*([\d ,]+)", raw.strip("`'\"."))
    size = len(team_list(battle))
    if not m:
        return Parsed(error="team preview: " + PREVIEW_HELP)
    digits = [int(c) for c in m.group(1) if c.isdigit()]
    picked = min(PICKED, size)
    if len(digits) != picked or len(set(digits)) != picked or not all(1 <= d <= size for d in digits):
        return Parsed(error=f"team preview: give {picked} different numbers from 1 to {size}, e.g. "
                            f"team {''.join(str(i) for i in range(1, picked + 1))}")
    mons = team_list(battle)
    for d in digits:
        mons[d - 1]._selected_in_teampreview = True
    code = "".join(str(d) for d in digits)
    return Parsed(message=f"/team {code}", text=f"team {code}")


def order_to_text(battle: DoubleBattle, order: BattleOrder) -> str:
    """A poke-env order (from a baseline player) in the action language; illegal parts become
    the slot's first legal option."""
    legal = legal_options(battle)
    singles = [order.first_order, order.second_order] if isinstance(order, DoubleBattleOrder) else [order]
    singles += [PassBattleOrder()] * (2 - len(singles))
    out = []
    for slot, single in enumerate(singles):
        by_message = {o.message: k for k, o in legal[slot].items()}
        out.append(by_message.get(single.message, next(iter(legal[slot]))))
    return ", ".join(out)


def first_legal(battle: DoubleBattle) -> str:
    """The first legal joint order (a last-resort default that is still a real choice)."""
    legal = legal_options(battle)
    for a in legal[0]:
        for b in legal[1]:
            text = f"{a}, {b}"
            if not parse_action(battle, text).error:
                return text
    return "pass, pass"
