"""PettingZoo ``ParallelEnv`` face of the VGC arena: both seats are learning agents.

Observations are dicts: ``observation`` (the vector below) and ``action_mask`` (one mask per slot
over poke-env's doubles action layout, ``MultiDiscrete([107, 107])``, built from the arena's own
legal orders). The text observation of a seat is in ``infos[seat]["text"]``. Team preview is played
inside the environment by a preview policy (an action space for it would be a different shape), and
a seat that has nothing to choose (the other side is switching) gets a mask allowing only ``pass``
(0) and its action is ignored. An action may also be an order line (``"move 1 2, switch 3"``), which
is how built-in policies play a seat.

The vector (``OBS_SIZE`` = 314 floats in [-1, 1], names in :data:`FEATURES`): for your six Pokémon
in team order, then the opponent's six in the order seen, ``MON_FEATURES`` each: HP fraction,
fainted, active, has a status, terastallized, sum of boosts / 12, speed / 400 (your stat; the
opponent's mid speed range at its level), and 18 type flags (the tera type once terastallized);
then the field: turn / 50, sun/rain/sand/snow and electric/grassy/misty/psychic terrain as turns
left / 8 (from the battle log), Trick Room turns left / 5, Tailwind on your side and on theirs,
screens (Reflect, Light Screen or Aurora Veil) on your side and on theirs.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv
from poke_env.environment.doubles_env import DoublesEnv

from arenas.pokemon import actions, field
from arenas.pokemon.battle import PokemonBattleArena
from arenas.pokemon.players import MOVE_POLICIES, PREVIEW_POLICIES

ACTIONS = DoublesEnv.get_action_space_size(9)
TYPES = ("bug", "dark", "dragon", "electric", "fairy", "fighting", "fire", "flying", "ghost", "grass",
         "ground", "ice", "normal", "poison", "psychic", "rock", "steel", "water")
MON_NAMES = ("hp", "fainted", "active", "status", "terastallized", "boosts", "speed",
             *(f"type_{t}" for t in TYPES))
MON_FEATURES = len(MON_NAMES)
FIELD_TIMERS = ("sunnyday", "raindance", "sandstorm", "snowscape", "electricterrain", "grassyterrain",
                "mistyterrain", "psychicterrain")
FIELD_NAMES = ("turn", *FIELD_TIMERS, "trickroom", "tailwind_mine", "tailwind_theirs", "screens_mine",
               "screens_theirs")
FEATURES = tuple(f"{side}{i}_{n}" for side in ("my", "opp") for i in range(1, 7)
                 for n in MON_NAMES) + FIELD_NAMES
"""The name of every entry of the vector, in order."""
OBS_SIZE = len(FEATURES)


def _mon_features(mon, own: bool) -> list[float]:
    if mon is None:
        return [0.0] * MON_FEATURES
    boosts = sum(mon.boosts.values()) / 12.0 if mon.boosts else 0.0
    speed = mon.stats.get("spe") if own else None
    speed = speed or sum(field.speed_range(mon.base_stats["spe"], mon.level)) / 2
    shown = [mon.tera_type] if mon.is_terastallized and mon.tera_type else mon.types
    types = {t.name.lower() for t in shown if t is not None}
    return [mon.current_hp_fraction, float(mon.fainted), float(bool(mon.active)),
            float(mon.status is not None), float(mon.is_terastallized), boosts, speed / 400.0,
            *(float(t in types) for t in TYPES)]


def action_index(text: str) -> int:
    """The index of an order in poke-env's doubles layout: 0 pass, 1-6 switch to team number N,
    7 + 5 (move - 1) + (target + 2) for moves, + 80 with terastallization."""
    words = text.split()
    if words[0] == "switch":
        return int(words[1])
    if words[0] != "move":
        return 0
    k = int(words[1]) if int(words[1]) <= 4 else 1  # Struggle and the like: the only usable move
    target = int(words[-1]) if words[-1].lstrip("-").isdigit() and len(words) > 2 else 0
    return 7 + 5 * (k - 1) + target + 2 + (80 if "terastallize" in words else 0)


def slot_tables(battle) -> list[dict[int, str]]:
    """Per slot: action index -> legal order text (the mask is exactly the legal orders)."""
    tables = []
    for table in actions.legal_options(battle):
        out: dict[int, str] = {}
        for text in table:
            out.setdefault(action_index(text), text)
        tables.append(out)
    return tables


def encode(battle, log: list[str] | None = None) -> np.ndarray:
    """The vector observation of one side (see the module docstring); ``log`` is the battle's
    protocol log so far, which the field timers are read from."""
    mine = actions.team_list(battle)[:6]
    theirs = list(battle.opponent_team.values())[:6]
    feats: list[float] = []
    for own, group in ((True, mine), (False, theirs)):
        for i in range(6):
            feats += _mon_features(group[i] if i < len(group) else None, own)
    timers = field.timers(log or [])
    sheets = {m.species: m for m in battle.opponent_team.values()}
    item_of = field.item_lookup(battle, sheets)

    def left(name: str, scale: float) -> float:
        t = timers.get(name)
        last = t.last_turn(item_of) if t is not None else None
        return 0.0 if t is None else 1.0 if last is None else max(last - battle.turn + 1, 0) / scale

    sides = {str(s).lower() for s in battle.side_conditions}
    opp = {str(s).lower() for s in battle.opponent_side_conditions}
    screens = ("reflect", "light", "aurora")
    feats += [min(battle.turn / 50.0, 1.0), *(left(n, 8.0) for n in FIELD_TIMERS), left("trickroom", 5.0),
              float(any("tailwind" in s for s in sides)), float(any("tailwind" in s for s in opp)),
              float(any(k in s for s in sides for k in screens)),
              float(any(k in s for s in opp for k in screens))]
    return np.clip(np.asarray(feats, dtype=np.float32), -1.0, 1.0)


class PokemonParallelEnv(ParallelEnv):
    """Self-play VGC doubles; config as :class:`~arenas.pokemon.battle.BattleConfig`, plus
    ``team_preview`` (a preview policy: heuristic or random) and ``text`` (render text observations)."""

    metadata = {"name": "pokemon_vgc_v0", "render_modes": []}

    def __init__(self, split: str = "train", team_preview: str = "heuristic", text: bool = True, **config: Any):
        self.inner = PokemonBattleArena(split=split, **config)
        self.possible_agents = list(self.inner.agents)
        self.agents: list[str] = []
        self.team_preview = PREVIEW_POLICIES[team_preview]
        if not text:
            self.inner.render_seats = set()
        self._texts: dict[str, str] = {}
        self._rng = np.random.default_rng()
        mask = spaces.Box(0, 1, shape=(ACTIONS,), dtype=np.int8)
        self._observation_space = spaces.Dict({
            "observation": spaces.Box(-1.0, 1.0, shape=(OBS_SIZE,), dtype=np.float32),
            "action_mask": spaces.Tuple((mask, mask))})
        self._action_space = spaces.MultiDiscrete([ACTIONS, ACTIONS])

    def observation_space(self, agent: str) -> spaces.Space:
        return self._observation_space

    def action_space(self, agent: str) -> spaces.Space:
        return self._action_space

    def reset(self, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        obs = self.inner.reset(seed=int(self._rng.integers(2**31)))
        self._texts = {s: o.text for s, o in obs.items()}
        while any(self.inner._battle_of(s).teampreview for s in self.inner.pending):
            picks = {s: self.team_preview(self.inner._battle_of(s), self._rng) for s in self.inner.pending}
            results = self.inner.step(picks)
            self._texts = {s: r.observation.text for s, r in results.items()}
        self.agents = list(self.possible_agents)
        return {s: self._obs(s) for s in self.agents}, {s: self._info(s) for s in self.agents}

    def _obs(self, seat: str) -> dict[str, Any]:
        battle = self.inner._battle_of(seat) or self.inner.battles.get(seat)
        if battle is None:
            return _empty_obs()
        vector = encode(battle, self.inner.players[seat].logs.get(battle.battle_tag, []))
        if seat not in self.inner.pending:
            return {"observation": vector, "action_mask": (_only_pass(), _only_pass())}
        masks = []
        for table in slot_tables(battle):
            mask = np.zeros(ACTIONS, dtype=np.int8)
            mask[list(table)] = 1
            masks.append(mask)
        return {"observation": vector, "action_mask": tuple(masks)}

    def _info(self, seat: str) -> dict[str, Any]:
        return {"text": self._texts.get(seat, ""), "pending": seat in self.inner.pending}

    def _to_text(self, seat: str, action: Any) -> tuple[str, bool]:
        """A structured action as an order line; (order, whether it had to be corrected). Masks
        are per slot, so a joint conflict (two terastallizations, one Pokémon switched in twice)
        or a masked-out index is repaired in slot b, keeping as much of the choice as possible."""
        battle = self.inner._battle_of(seat)
        if isinstance(action, str):
            return action, False
        a = np.asarray(action, dtype=np.int64).reshape(-1)
        tables = slot_tables(battle)
        texts = [tables[slot].get(int(a[slot])) if slot < len(a) else None for slot in (0, 1)]
        if None not in texts and not actions.parse_action(battle, ", ".join(texts)).error:
            return ", ".join(texts), False
        legal = actions.legal_options(battle)
        first = texts[0] or next(iter(legal[0]))
        wanted = (texts[1] or "").replace(" terastallize", "")
        for second in [wanted, *legal[1]]:
            if second in legal[1] and not actions.parse_action(battle, f"{first}, {second}").error:
                return f"{first}, {second}", True
        return actions.first_legal(battle), True

    def step(self, action_dict: dict[str, Any]):
        orders, corrected = {}, {}
        for seat in self.inner.pending:
            if seat in action_dict:
                orders[seat], corrected[seat] = self._to_text(seat, action_dict[seat])
            else:
                orders[seat], corrected[seat] = actions.first_legal(self.inner._battle_of(seat)), True
        results = self.inner.step(orders)
        self._texts = {s: r.observation.text for s, r in results.items()}
        obs, rewards, terms, truncs, infos = {}, {}, {}, {}, {}
        for seat in self.agents:
            r = results[seat]
            obs[seat] = self._obs(seat) if not r.done else _empty_obs()
            rewards[seat] = float(r.reward)
            terms[seat], truncs[seat] = r.terminated, r.truncated
            infos[seat] = {**self._info(seat), **{k: v for k, v in r.info.items() if k != "battle_log"},
                           "corrected_action": corrected.get(seat, False)}
        if any(r.done for r in results.values()):
            self.agents = []
        return obs, rewards, terms, truncs, infos

    def close(self) -> None:
        self.inner.close()


def _empty_obs() -> dict[str, Any]:
    return {"observation": np.zeros(OBS_SIZE, np.float32), "action_mask": (_only_pass(), _only_pass())}


def _only_pass() -> np.ndarray:
    mask = np.zeros(ACTIONS, dtype=np.int8)
    mask[0] = 1
    return mask


class PokemonGymEnv(gym.Env):
    """The single-agent view for classic RL: seat ``p1`` with the vector observation and action
    masks of :class:`PokemonParallelEnv`, against a built-in ``opponent`` policy on seat ``p2``
    (random, max_power or heuristic). Reward +1/-1/0 at the end of the battle."""

    metadata = {"render_modes": []}

    def __init__(self, opponent: str = "heuristic", split: str = "train", **config: Any):
        if opponent not in MOVE_POLICIES:
            raise ValueError(f"pokemon: unknown opponent {opponent!r}; built-in: {', '.join(MOVE_POLICIES)}")
        self.env = PokemonParallelEnv(split=split, text=False, **config)
        self.opponent = opponent
        self.observation_space = self.env.observation_space("p1")
        self.action_space = self.env.action_space("p1")
        self._opponent = None

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        obs, infos = self.env.reset(seed=seed)
        self._opponent = self.env.inner.policy(self.opponent, "p2")
        obs, _, _, _, info = self._until_p1(obs, 0.0, False, False, infos["p1"])
        return obs, info

    def _until_p1(self, obs, reward, term, trunc, info):
        """Plays the opponent's lone decisions (p2 replacing a fainted Pokémon) until p1 must act."""
        while not (term or trunc) and "p1" not in self.env.inner.pending:
            obs, rewards, terms, truncs, infos = self.env.step({"p2": self._opponent(None)})
            reward, term, trunc, info = rewards["p1"], terms["p1"], truncs["p1"], infos["p1"]
        return obs["p1"], reward, term, trunc, info

    def step(self, action):
        acts = {"p1": action}
        if "p2" in self.env.inner.pending:
            acts["p2"] = self._opponent(None)
        obs, rewards, terms, truncs, infos = self.env.step(acts)
        return self._until_p1(obs, rewards["p1"], terms["p1"], truncs["p1"], infos["p1"])

    def close(self) -> None:
        self.env.close()
