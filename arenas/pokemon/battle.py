"""VGC doubles on a local Showdown server as a two-agent arena (seats ``p1`` and ``p2``).

Both seats are :class:`~arenas.pokemon.players.SeatPlayer` s; their requests arrive as events
on one queue. A step answers every pending seat; when no seat is left to answer, the arena waits
for the server's next request to each seat (or the end of the battle). A seat whose choice the
server rejects is asked again at once with the server's error. Unparsable or illegal actions are
returned with the reason, up to ``retries`` times per decision; then the default order is sent.
"""

from __future__ import annotations

import asyncio
import queue
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from poke_env.concurrency import POKE_LOOP

from arenas.multiagent import MultiAgentArena
from arenas.pokemon import actions, render, server, teams
from arenas.pokemon.players import MOVE_POLICIES, PREVIEW_POLICIES, Event, SeatPlayer, answer
from arenas.tools import as_action
from arenas.types import Observation, StepResult, Task
from arenas.verifiers import Component, Rubric
from arenas.verifiers.pokemon import battle_outcome, hp_differential

SYSTEM = """You play a Pokémon doubles battle ({fmt}) on Pokémon Showdown as side {seat} (VGC formats: open team sheets).
Each request shows the field, both sides and the legal options per active slot (a and b).
Team preview: reply "team ABCD" (the four you bring by team number; the first two lead).
Turns: reply one line with one order per slot, e.g. "move 1 2, switch 3" or "move 2 terastallize 1, move 1 -1"
(targets: 1/2 = opponent slots, -1/-2 = your own). An illegal action is returned with the reason."""


@dataclass
class BattleConfig:
    battle_format: str = teams.DEFAULT_FORMAT
    """Showdown format id: gen9vgc2025regi (default), gen9vgc2024regg, or gen9randomdoublesbattle."""
    team_set_size: int = 16
    """VGC-Bench team-set size (1, 4, 16 or 64 in-distribution teams) the train split draws from."""
    team_seed: int = 0
    """Seed choosing the team set."""
    mirror: bool = False
    """Allow a team to meet itself."""
    max_battle_turns: int = 60
    """Battle turns before the episode is truncated (scored as a draw; the shaped component still counts)."""
    retries: int = 2
    """Illegal actions returned for a retry per decision before the default order is sent."""
    shaped_weight: float = 0.0
    """Weight of the HP-differential component in the reward (0: pure +1/-1/0)."""
    restart_after: int = 2000
    """Battles a server hosts before new episodes move to a fresh one."""
    timeout_s: float = 120.0
    """Longest wait for the server (a stuck battle ends the episode as truncated)."""
    random_tasks: int = 100
    """Tasks per split in the random-doubles format (no team files)."""
    observation_detail: bool = True
    """Text view with what a player reads (types, stats, speed order, move category/accuracy/priority/PP,
    effects, tera use); False: the plain view (smaller prompts)."""


def make_rubric(shaped_weight: float) -> Rubric:
    return Rubric([Component("outcome", battle_outcome, 1.0),
                   Component("hp_differential", hp_differential, shaped_weight)], success="outcome")


async def _play_one(p1: SeatPlayer, p2: SeatPlayer) -> None:
    await asyncio.gather(p1._send_challenges(p2.username, 1), p2._accept_challenges(p1.username, 1, None))


class PokemonBattleArena(MultiAgentArena):
    """Two seats, one battle per episode; see :class:`BattleConfig` for the options."""

    id = "pokemon"
    version = 0
    description = "Pokémon VGC doubles on a local Showdown server, both seats driven by agents."
    reward_components = ("outcome", "hp_differential")
    policies = tuple(MOVE_POLICIES)
    agents = ("p1", "p2")

    def __init__(self, split: str = "train", **config: Any):
        self.config = BattleConfig(**config)
        self.split = split
        self.rubric = make_rubric(self.config.shaped_weight)
        self.render_seats: set[str] | None = None
        """Seats that get text observations (None: all); others are played by built-in policies."""
        self.events: queue.Queue[Event] = queue.Queue()
        self.lease: server.Lease | None = None
        self.players: dict[str, SeatPlayer] = {}
        self.battles: dict[str, Any] = {}
        self.tag: str | None = None
        self._old_tags: set[str] = set()
        self.task: Task | None = None
        self.np_random = np.random.default_rng()
        self._decisions: dict[str, Event] = {}
        self._ended: set[str] = set()
        self._done = True
        self._timed_out = False
        self._challenge = None
        self.seed = 0

    # ---- tasks ----------------------------------------------------------------------------------
    def tasks(self, split: str) -> Sequence[Task]:
        cfg = self.config
        fmt = cfg.battle_format
        if "random" in fmt:
            return [Task(f"{split}-{i}", split, {"format": fmt}) for i in range(cfg.random_tasks)]
        in_dist = teams.team_set(fmt, cfg.team_set_size, cfg.team_seed)
        held = teams.held_out(fmt)
        splits = {"train": (in_dist, in_dist), "dev": (in_dist, held), "test": (held, teams.teams_for(fmt))}
        if split not in splits:
            raise ValueError(f"pokemon: unknown split {split!r}; splits: {', '.join(splits)}")
        pairs = splits[split]
        return [Task(f"{a.name}-vs-{b.name}", split, {"format": fmt, "team": a.name, "opponent_team": b.name},
                     meta={"archetypes": [a.archetype, b.archetype]})
                for a, b in teams.matchups(*pairs, mirror=cfg.mirror)]

    # ---- server and players ---------------------------------------------------------------------
    def _ensure_players(self) -> None:
        if self.lease is not None and self.lease.server.running and \
                self.lease.server.battles < self.config.restart_after:
            return
        self._stop_players()
        self._old_tags.clear()  # a fresh server numbers its battles from 1 again
        self.lease = server.acquire(self.config.restart_after)
        url = self.lease.server.websocket_url
        # no keepalive pings on a local socket: a loaded machine answering late must not drop a battle
        self.players = {s: SeatPlayer(s, self.events, url, self.config.battle_format, ping_interval=None,
                                      ping_timeout=None, open_timeout=self.config.timeout_s)
                        for s in self.agents}
        for p in self.players.values():
            asyncio.run_coroutine_threadsafe(p.ps_client.logged_in.wait(), POKE_LOOP).result(self.config.timeout_s)

    def _stop_players(self) -> None:
        for p in self.players.values():
            asyncio.run_coroutine_threadsafe(p.ps_client.stop_listening(), POKE_LOOP).result(10)
        self.players = {}
        if self.lease is not None:
            self.lease.release()
            self.lease = None

    # ---- episode --------------------------------------------------------------------------------
    def reset(self, task: Task | None = None, seed: int | None = None) -> dict[str, Observation]:
        if seed is not None or task is None:
            self.np_random = np.random.default_rng(seed)
        self.seed = int(self.np_random.integers(2**31))
        if task is None:
            pool = self.tasks(self.split)
            task = pool[int(self.np_random.integers(len(pool)))]
        self._abandon()
        self._ensure_players()
        self.task = task
        p1, p2 = self.players["p1"], self.players["p2"]
        if "team" in task.prompt:
            p1.update_team(teams.team(task.prompt["team"]).text)
            p2.update_team(teams.team(task.prompt["opponent_team"]).text)
        self.lease.server.battles += 1
        self._decisions, self._ended, self._done, self._timed_out = {}, set(), False, False
        self._attempts = {s: 0 for s in self.agents}
        self._invalid = {s: 0 for s in self.agents}
        self._decisions_made = {s: 0 for s in self.agents}
        self._seen = {s: 0 for s in self.agents}
        self._notes: dict[str, str] = {}
        self._first = set(self.agents)
        battle_seed = "sodium," + self.np_random.bytes(16).hex()
        asyncio.run_coroutine_threadsafe(p1.ps_client.send_message(f"/arenaseed {battle_seed}"), POKE_LOOP).result(10)
        self._challenge = asyncio.run_coroutine_threadsafe(_play_one(p1, p2), POKE_LOOP)
        self._collect(set(self.agents))
        return {s: self._observation(s) for s in self._decisions}

    @property
    def pending(self) -> list[str]:
        return [s for s in self.agents if s in self._decisions]

    def _collect(self, outstanding: set[str]) -> None:
        """Reads events until every seat in ``outstanding`` heard from the server, a seat's choice
        was rejected, or the battle ended."""
        while outstanding and not any(d.error for d in self._decisions.values()):
            try:
                ev = self.events.get(timeout=self.config.timeout_s)
            except queue.Empty:
                self._timed_out = True
                return
            tag = ev.battle.battle_tag
            if tag in self._old_tags or (self.tag is not None and tag != self.tag):
                if ev.future is not None:  # a late request of an abandoned battle
                    answer(ev, "")
                continue
            self.tag = tag
            self.battles[ev.seat] = ev.battle
            if ev.kind == "end":
                self._ended.add(ev.seat)
                self._decisions.pop(ev.seat, None)
                outstanding |= set(self.agents) - self._ended
            elif ev.kind == "decision":
                self._decisions[ev.seat] = ev
            outstanding.discard(ev.seat)
            if self._ended:
                outstanding -= self._ended
                if self._ended == set(self.agents):
                    return

    @property
    def battle(self):
        """p1's view of the current battle (None before the first request)."""
        return self.battles.get("p1") or self.battles.get("p2")

    def _battle_of(self, seat: str):
        d = self._decisions.get(seat)
        return d.battle if d is not None else None

    def _observation(self, seat: str, feedback: str = "") -> Observation:
        ev = self._decisions[seat]
        b = ev.battle
        data = {"teampreview": b.teampreview, "battle_turn": b.turn}
        if self.render_seats is not None and seat not in self.render_seats:
            return Observation(messages=[], data=data)
        log = self.players[seat].logs.get(b.battle_tag, [])
        error = feedback or self._notes.pop(seat, "") or (f"server: {ev.error}" if ev.error else "")
        if b.teampreview:
            text = render.team_preview_text(b, self.config.observation_detail)
            text += f"\nYour last action was rejected: {error}" if error else ""
        else:
            text = render.battle_text(b, log[self._seen[seat]:], error, log, self.config.observation_detail)
            if not feedback:
                self._seen[seat] = len(log)
        messages = [{"role": "user", "content": text}]
        if seat in self._first:
            self._first.discard(seat)
            messages.insert(0, {"role": "system", "content": SYSTEM.format(fmt=b.format, seat=seat)})
        data["legal"] = [list(t) for t in actions.legal_options(b)] if not b.teampreview else []
        return Observation(messages=messages, data=data)

    def step(self, actions_by_seat: dict[str, Any]) -> dict[str, StepResult]:
        if self._done:
            raise RuntimeError("pokemon: step() on a finished battle; call reset() first")
        infos: dict[str, dict[str, Any]] = {s: {"invalid_action": False} for s in self.agents}
        feedback: dict[str, str] = {}
        for seat, raw in actions_by_seat.items():
            ev = self._decisions.get(seat)
            if ev is None:
                continue
            b = ev.battle
            text = as_action(raw).text
            parsed = actions.parse_preview(b, text) if b.teampreview else actions.parse_action(b, text)
            self._decisions_made[seat] += 1
            if parsed.error:
                self._invalid[seat] += 1
                self._attempts[seat] += 1
                infos[seat].update(invalid_action=True, invalid_reason=parsed.error)
                if self._attempts[seat] <= self.config.retries:
                    feedback[seat] = parsed.error
                    continue
                self._notes[seat] = f"{parsed.error} (retries spent: the default order was played)"
                message = "/choose default"
            else:
                message = parsed.message
            self._attempts[seat] = 0
            del self._decisions[seat]
            answer(ev, message)
        if not self._decisions:
            self._collect(set(self.agents) - self._ended)
        over = bool(self._ended)
        battle = self.battle
        truncated = self._timed_out
        if not over and battle is not None and battle.turn > self.config.max_battle_turns:
            truncated = True
        if over or truncated:
            return self._finish(infos, truncated)
        results = {}
        for seat in self.agents:
            obs = self._observation(seat, feedback.get(seat, "")) if seat in self._decisions else Observation()
            infos[seat]["battle_turn"] = battle.turn if battle is not None else 0
            results[seat] = StepResult(obs, 0.0, False, False, infos[seat])
        return results

    def _finish(self, infos: dict[str, dict[str, Any]], truncated: bool) -> dict[str, StepResult]:
        self._done = True
        results = {}
        for seat in self.agents:
            player = self.players[seat]
            log = list(player.logs.get(self.battle.battle_tag, [])) if self.battle is not None else []
            candidate = {"log": log, "username": player.username, "truncated": truncated}
            breakdown = self.rubric.score(candidate, {}, {"format": self.config.battle_format})
            rate = self._invalid[seat] / max(self._decisions_made[seat], 1)
            info = infos[seat]
            reason = "server_timeout" if self._timed_out else "max_battle_turns" if truncated else "battle_over"
            info.update(reward_breakdown=breakdown.to_dict(), invalid_action_rate=rate, termination=reason,
                        battle_turn=self.battle.turn if self.battle is not None else 0,
                        result=breakdown.details["outcome"].get("result"), battle_log=log,
                        battle_truncated=truncated,
                        username=player.username)
            results[seat] = StepResult(Observation(), breakdown.total, not truncated, truncated, info)
        self._abandon()
        return results

    def _abandon(self) -> None:
        """Ends the current battle on the server (forfeit) if it is still running."""
        b = self.battle
        if b is not None and len(self._ended) < len(self.agents) and self.players:
            for ev in list(self._decisions.values()):
                answer(ev, "")
            asyncio.run_coroutine_threadsafe(
                self.players["p1"].ps_client.send_message("/forfeit", b.battle_tag), POKE_LOOP).result(10)
            while len(self._ended) < len(self.agents):
                try:
                    ev = self.events.get(timeout=self.config.timeout_s)
                except queue.Empty:
                    break
                if ev.kind == "end" and ev.battle.battle_tag == self.tag:
                    self._ended.add(ev.seat)
                elif ev.future is not None:
                    answer(ev, "")
        if self._challenge is not None:
            try:
                self._challenge.result(self.config.timeout_s)
            except Exception:  # the battle is over either way; its bookkeeping task may have been cut
                pass
            self._challenge = None
        while not self.events.empty():  # late requests of the battle that just ended
            ev = self.events.get_nowait()
            if ev.future is not None:
                answer(ev, "")
        for p in self.players.values():  # keep the last battle: its room still sends a few lines
            p.retire_battles(keep=self.tag)
        if self.tag is not None:
            self._old_tags.add(self.tag)
        self.battles, self.tag = {}, None
        self._decisions = {}

    # ---- baselines ------------------------------------------------------------------------------
    def policy(self, name: str, agent: str) -> Callable[[Observation], Any] | None:
        if name not in MOVE_POLICIES:
            return None
        rng = np.random.default_rng([self.seed, self.agents.index(agent)])
        move, preview = MOVE_POLICIES[name], PREVIEW_POLICIES[name]

        def act(_obs: Observation) -> str:
            b = self._battle_of(agent)
            if b is None:
                return "pass"
            return preview(b, rng) if b.teampreview else move(b, rng)
        return act

    def close(self) -> None:
        self._abandon()
        self._stop_players()
