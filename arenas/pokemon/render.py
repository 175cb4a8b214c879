"""The text observation of one side of a VGC battle.

Field (weather, terrain and rooms with the turns left, read from the battle log; side conditions
with the turn they started and their usual duration), both sides' active Pokémon and benches (HP %,
status, boosts, tera, and the items, abilities and moves known from open team sheets), last turn's
events from the server log, and the legal options per slot.

With ``detail`` (the default) it adds what a player reads off the team sheets and the field: types,
your stats and the opponent's base stats with its possible speed range, each move's category,
power, accuracy (when below 100%), priority (when not 0) and PP, volatile effects, the speed order
of the active Pokémon, and who has terastallized. ``detail=False`` is the plain view, kept as the
baseline of ``benchmarks/pokemon_prompt_size.py``.
"""

from __future__ import annotations

from poke_env.battle.double_battle import DoubleBattle
from poke_env.battle.pokemon import Pokemon

from arenas.pokemon import actions, field

DURATIONS = {"trickroom": 5, "tailwind": 4, "reflect": 5, "lightscreen": 5, "auroraveil": 5,
             "gravity": 5, "wonderroom": 5, "magicroom": 5, "safeguard": 5, "mist": 5}
"""Usual durations (light clay, damp rock and the like extend some of them)."""
EVENT_TAGS = {"move", "switch", "drag", "faint", "-damage", "-heal", "-status", "-curestatus", "-boost",
              "-unboost", "-weather", "-fieldstart", "-fieldend", "-sidestart", "-sideend", "-terastallize",
              "-supereffective", "-resisted", "-immune", "-crit", "-miss", "-fail", "cant", "-item",
              "-enditem", "-ability", "-activate", "-start", "-end", "turn", "win", "tie"}


def _name(x: object) -> str:
    return getattr(x, "name", str(x)).replace("_", " ").lower()


STATS = ("hp", "atk", "def", "spa", "spd", "spe")
STATS_HELP = ("Stats read HP/Atk/Def/SpA/SpD/Spe; the opponent's are base stats, with its speed range "
              "at its level.")
SKIP_EFFECTS = {"UNKNOWN"}


def _types(mon: Pokemon) -> str:
    if mon.is_terastallized and mon.tera_type is not None:
        return _name(mon.tera_type)
    return "/".join(_name(t) for t in mon.types)


def _stats(mon: Pokemon, own: bool) -> str:
    if own and all(mon.stats.get(k) for k in STATS[1:]):
        values = [mon.max_hp if k == "hp" and mon.max_hp else mon.stats[k] for k in STATS]
        return "stats " + "/".join(map(str, values))
    lo, hi = field.speed_range(mon.base_stats["spe"], mon.level)
    return "base " + "/".join(str(mon.base_stats[k]) for k in STATS) + f", speed {lo}-{hi}"


def _mon_line(mon: Pokemon, hp: bool = True, sheet: Pokemon | None = None, tera: str | None = None,
              detail: bool = False, own: bool = False) -> str:
    """One Pokémon; ``sheet`` is its open-team-sheet entry when poke-env keeps it apart."""
    sheet = sheet or mon
    bits = [mon.species]
    if mon.fainted:
        return f"{mon.species} (fainted)"
    if detail:
        bits += [_types(mon), _stats(mon, own)]
    if hp:
        bits.append(f"{round(mon.current_hp_fraction * 100)}% HP" if mon.max_hp else "not seen in battle")
    if mon.status is not None:
        bits.append(_name(mon.status))
    boosts = [f"{k}{v:+d}" for k, v in mon.boosts.items() if v]
    if boosts:
        bits.append("boosts " + " ".join(boosts))
    tera_type = _name(mon.tera_type or sheet.tera_type) if (mon.tera_type or sheet.tera_type) else tera
    if mon.is_terastallized:
        bits.append(f"terastallized {tera_type}")
    elif tera_type:
        bits.append(f"tera {tera_type}")
    item = mon.item if mon.item and mon.item != "unknown_item" else sheet.item
    if item and item != "unknown_item":
        bits.append(f"item {item}")
    if mon.ability or sheet.ability:
        bits.append(f"ability {mon.ability or sheet.ability}")
    effects = [_name(e) for e in mon.effects if e.name not in SKIP_EFFECTS] if detail else []
    if effects:
        bits.append("effects " + " ".join(effects))
    return ", ".join(bits)


def _tera_types(b: DoubleBattle) -> dict[str, str]:
    """Tera types from the request (poke-env does not keep them for every forme)."""
    side = (b.last_request or {}).get("side", {}).get("pokemon", [])
    return {p["ident"]: p["teraType"].lower() for p in side if p.get("teraType")}


def opponent_mons(b: DoubleBattle) -> list[tuple[Pokemon, Pokemon]]:
    """The opponent's Pokémon once each, as (battle entry, team-sheet entry): a forme's sheet entry
    and its in-battle entry can be two objects in poke-env."""
    by_species: dict[str, list[Pokemon]] = {}
    for mon in b.opponent_team.values():
        by_species.setdefault(mon.species, []).append(mon)
    out = []
    for mons in by_species.values():
        seen = [m for m in mons if m.max_hp] or mons
        sheet = max(mons, key=lambda m: (len(m.moves), m.item not in (None, "unknown_item")))
        out.append((seen[0], sheet))
    return out


def move_text(m, detail: bool = False) -> str:
    """``id (type, power)``; with ``detail`` also category, accuracy below 100%, priority, PP."""
    if not detail:
        return f"{m.id} ({_name(m.type)}, {m.base_power or '-'} BP"
    bits = [_name(m.type), _name(m.category)]
    if m.base_power:
        bits.append(f"{m.base_power} BP")
    if isinstance(m.accuracy, float) and m.accuracy < 1:
        bits.append(f"{round(m.accuracy * 100)}%")
    if m.priority:
        bits.append(f"priority {m.priority:+d}")
    bits.append(f"{m.current_pp}/{m.max_pp} PP")
    return f"{m.id} ({', '.join(bits)}"


def _moves_line(mon: Pokemon, detail: bool = False) -> str:
    return "; ".join(move_text(m, detail) + ")" for m in list(mon.moves.values())[:4])


def _conditions(conds: dict, turn: int) -> str:
    out = []
    for c, start in conds.items():
        key = _name(c).replace(" ", "")
        if key in DURATIONS and start:
            left = max(DURATIONS[key] - (turn - start), 0)
            out.append(f"{_name(c)} (~{left} turns left)")
        elif key in ("spikes", "toxicspikes"):
            out.append(f"{_name(c)} x{start}")
        else:
            out.append(_name(c))
    return ", ".join(out) or "none"


def field_text(b: DoubleBattle, log: list[str] | None = None,
               sheets: dict[str, Pokemon] | None = None) -> str:
    """Weather, terrain and rooms with their turns left (from ``log``; from poke-env's start turns
    when there is no log), then the side conditions."""
    if log is not None:
        timed = field.field_lines(b, log, sheets or {})
        weather = "; ".join(timed) or "none"
        text = f"Field: {weather}."
    else:
        weather = ", ".join(f"{_name(w)} (since turn {t})" for w, t in b.weather.items()) or "none"
        text = f"Field: weather {weather}; field {_conditions(b.fields, b.turn)}."
    return (f"{text}\nYour side: {_conditions(b.side_conditions, b.turn)}. "
            f"Opponent side: {_conditions(b.opponent_side_conditions, b.turn)}.")


def events_text(lines: list[str], limit: int = 40) -> str:
    keep = []
    for line in lines:
        parts = line.split("|")
        if len(parts) > 1 and parts[1] in EVENT_TAGS:
            keep.append(" ".join(p for p in parts[1:] if p and not p.startswith("[from] ")).lstrip("-"))
    return "\n".join(keep[-limit:]) or "(nothing yet)"


def team_preview_text(b: DoubleBattle, detail: bool = True) -> str:
    tera = _tera_types(b)
    idents = {id(m): k for k, m in b.team.items()}
    mine = "\n".join(
        f"  {i}. {_mon_line(m, hp=False, tera=tera.get(idents.get(id(m), '')), detail=detail, own=True)}"
        f"; moves: {_moves_line(m, detail)}" for i, m in enumerate(actions.team_list(b), 1))
    sheet = opponent_mons(b) or [(m, m) for m in b.teampreview_opponent_team]
    theirs = "\n".join(f"  - {_mon_line(m, hp=False, sheet=s, detail=detail)}; "
                       f"moves: {_moves_line(s, detail) or 'unknown'}" for m, s in sheet)
    legend = STATS_HELP + "\n" if detail else ""
    return (f"Team preview ({b.format}). {legend}Your team:\n{mine}\n"
            f"Opponent's team (open team sheet):\n{theirs}\n" + actions.PREVIEW_HELP)


def speed_text(b: DoubleBattle, sheets: dict[str, Pokemon], log: list[str]) -> str:
    """The active Pokémon fastest first, with boosts, paralysis, Tailwind, Choice Scarf and speed
    abilities counted; the opponent's as a range (its EVs and nature are not on the sheet)."""
    timed = set(field.timers(log))
    rows = []
    for own, mons, sides in ((True, b.active_pokemon, b.side_conditions), (False, b.opponent_active_pokemon,
                                                                            b.opponent_side_conditions)):
        tailwind = any("TAILWIND" in str(c).upper() for c in sides)
        for slot, mon in enumerate(mons):
            if mon is None or mon.fainted:
                continue
            sheet = mon if own else sheets.get(mon.species, mon)
            item = mon.item if mon.item and mon.item != "unknown_item" else sheet.item or ""
            f = field.speed_factor(mon, tailwind, timed, item)
            if own and mon.stats.get("spe"):
                lo = hi = int(mon.stats["spe"] * f)
            else:
                lo, hi = (int(v * f) for v in field.speed_range(mon.base_stats["spe"], mon.level))
            label = f"your {actions.SLOTS[slot]}" if own else f"opponent {slot + 1}"
            rows.append(((lo + hi) / 2, f"{label} {mon.species} {lo if lo == hi else f'{lo}-{hi}'}"))
    rows.sort(key=lambda r: -r[0])
    room = "trickroom" in timed
    tail = "; Trick Room is up: the slowest move first within a priority bracket" if room else ""
    return "Speed now, fastest first: " + " > ".join(r[1] for r in rows) + tail + "."


def tera_text(b: DoubleBattle) -> str:
    mine = "you have terastallized" if b.used_tera else "you can still terastallize"
    used = [m.species for m in b.opponent_team.values() if m.is_terastallized]
    theirs = (f"the opponent terastallized {used[0]}" if used else "the opponent has terastallized"
              if b.opponent_used_tera else "the opponent has not terastallized")
    return f"Terastallization: {mine}; {theirs}."


def battle_text(b: DoubleBattle, events: list[str], error: str = "", log: list[str] | None = None,
                detail: bool = True) -> str:
    """The observation for a move-phase request; ``log`` is the battle's whole log so far."""
    sheets = {m.species: s for m, s in opponent_mons(b)}
    out = [f"Turn {b.turn}. " + field_text(b, log if log is not None else events, sheets)]
    if detail:
        out += [speed_text(b, sheets, log if log is not None else events), tera_text(b), STATS_HELP]
    team = actions.team_list(b)
    tera = _tera_types(b)
    idents = {id(m): k for k, m in b.team.items()}

    def mine(m: Pokemon) -> str:
        return _mon_line(m, tera=tera.get(idents.get(id(m), "")), detail=detail, own=True)

    legal = actions.legal_options(b)
    out.append("Your active Pokémon:")
    for slot, mon in enumerate(b.active_pokemon):
        name = actions.SLOTS[slot]
        if mon is None:
            out.append(f"  {name}: (empty)")
            continue
        out.append(f"  {name}: {mine(mon)}")
        moves = actions.slot_moves(b, slot)
        for k, m in enumerate(moves, 1):
            targets = sorted({key.split()[-1] for key in legal[slot]
                              if key.startswith(f"move {k}") and key.split()[-1].lstrip("-").isdigit()
                              and len(key.split()) > 2})
            usable = any(key.startswith(f"move {k}") for key in legal[slot])
            tgt = f", targets {' '.join(targets)}" if targets else ""
            state = "" if usable else ", not usable now"
            out.append(f"     move {k}: {move_text(m, detail)}{tgt}{state})")
    bench = [f"  {i}. {mine(m)}" for i, m in enumerate(team, 1) if not m.active
             and (m.selected_in_teampreview or m.revealed or not b.teampreview_team)]
    out.append("Your bench:\n" + ("\n".join(bench) or "  (none)"))
    out.append("Opponent active:")
    for slot, mon in enumerate(b.opponent_active_pokemon, 1):
        if mon is None:
            out.append(f"  {slot}: (empty)")
            continue
        sheet = sheets.get(mon.species, mon)
        moves = _moves_line(mon if detail and len(mon.moves) >= len(sheet.moves) else sheet, detail)
        out.append(f"  {slot}: {_mon_line(mon, sheet=sheet, detail=detail)}; moves: {moves or 'unknown'}")
    others = [(m, s) for m, s in opponent_mons(b) if not m.active]
    out.append("Opponent's other Pokémon (seen or on the team sheet):\n"
               + ("\n".join(f"  - {_mon_line(m, sheet=s, detail=detail)}" for m, s in others) or "  (none)"))
    out.append("Last turn:\n" + events_text(events))
    opts = []
    for slot, table in enumerate(legal):
        opts.append(f"  slot {actions.SLOTS[slot]}: " + " | ".join(table))
    out.append("Legal options:\n" + "\n".join(opts))
    if error:
        out.append(f"Your last action was rejected: {error}")
    out.append(actions.FORMAT_HELP)
    return "\n".join(out)
