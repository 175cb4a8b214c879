"""poke-env players whose decisions come from outside poke-env's event loop, and the baseline
policies (random, max base power, poke-env's simple heuristics) that play from a battle state.

A :class:`SeatPlayer` turns every server request into an event on a thread-safe queue: a
``Decision`` (with a future to answer and the server's last error, if any), ``wait`` (the
request needs nothing from this side) or ``end``. The arena, on its own thread, answers the
future with the message to send. Every raw protocol line is kept per battle: the verifier reads
the outcome from that log, not from poke-env's bookkeeping.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from poke_env.battle.double_battle import DoubleBattle
from poke_env.concurrency import POKE_LOOP
from poke_env.player import MaxBasePowerPlayer, Player, SimpleHeuristicsPlayer
from poke_env.ps_client import AccountConfiguration, ServerConfiguration

from arenas.pokemon import actions


@dataclass
class Event:
    seat: str
    kind: str
    """"decision", "wait" or "end"."""
    battle: DoubleBattle
    future: asyncio.Future | None = None
    error: str = ""
    """The server's error for this seat's previous choice, if that is why it is asked again."""


class SeatPlayer(Player):
    """One side of the arena's battles; decisions are made by whoever reads ``events``."""

    def __init__(self, seat: str, events: queue.Queue, websocket_url: str, battle_format: str, **kw: Any):
        self.seat = seat
        self.events = events
        self.logs: dict[str, list[str]] = {}
        self.retired: set[str] = set()
        """Battles dropped from poke-env's bookkeeping (their late messages are ignored)."""
        self._errors: dict[str, str] = {}
        name = f"{seat}{uuid.uuid4().hex[:12]}"
        super().__init__(account_configuration=AccountConfiguration(name, None),
                         server_configuration=ServerConfiguration(websocket_url, ""),
                         battle_format=battle_format, accept_open_team_sheet=True,
                         log_level=logging.CRITICAL, max_concurrent_battles=1, **kw)

    def choose_move(self, battle):  # answered by the arena through _ask
        raise NotImplementedError

    async def _handle_battle_message(self, split_messages: list[list[str]]) -> None:
        tag = split_messages[0][0][1:] if split_messages and split_messages[0] else ""
        if tag in self.retired:  # a late line of a battle that was already scored and dropped
            return
        log = self.logs.setdefault(tag, [])
        for msg in split_messages[1:]:
            if len(msg) > 1 and msg[1] == "error":
                self._errors[tag] = "|".join(msg[2:])
            if len(msg) > 1 and msg[1] not in ("request", "error", ""):
                log.append("|".join(msg))
        await super()._handle_battle_message(split_messages)

    async def _handle_battle_request(self, battle, maybe_default_order: bool = False) -> None:
        if battle._wait:
            self.events.put(Event(self.seat, "wait", battle))
            return
        future = POKE_LOOP.create_future()
        error = self._errors.pop(battle.battle_tag, "")
        self.events.put(Event(self.seat, "decision", battle, future, error))
        message = await future
        if message:
            await self.ps_client.send_message(message, battle.battle_tag)

    def retire_battles(self, keep: str | None) -> None:
        """Forgets every battle but ``keep`` (poke-env would otherwise keep them all)."""
        for tag in [t for t in self._battles if t != keep]:
            del self._battles[tag]
            self.retired.add(tag)
        for tag in [t for t in self.logs if t != keep]:
            del self.logs[tag]

    def _battle_finished_callback(self, battle) -> None:
        self.events.put(Event(self.seat, "end", battle))


def answer(event: Event, message: str) -> None:
    """Sends ``message`` for a pending decision (from any thread)."""
    POKE_LOOP.call_soon_threadsafe(_resolve, event.future, message)


def _resolve(future: asyncio.Future, message: str) -> None:
    if not future.done():
        future.set_result(message)


# ---- baseline policies over a battle state ---------------------------------------------------
_max_power = MaxBasePowerPlayer(start_listening=False, battle_format="gen9vgc2025regi")
_heuristics = SimpleHeuristicsPlayer(start_listening=False, battle_format="gen9vgc2025regi")


def random_preview(battle: DoubleBattle, rng: np.random.Generator) -> str:
    n = len(actions.team_list(battle))
    picked = rng.permutation(n)[: min(actions.PICKED, n)] + 1
    return "team " + "".join(str(i) for i in picked)


def ordered_preview(battle: DoubleBattle, rng: np.random.Generator) -> str:
    """The team sheet's own order: teams list their intended leads and core first."""
    return "team " + "".join(str(i) for i in range(1, min(actions.PICKED, len(actions.team_list(battle))) + 1))


def random_move(battle: DoubleBattle, rng: np.random.Generator) -> str:
    """A uniformly random legal joint order (slots drawn independently, joint rules enforced)."""
    legal = actions.legal_options(battle)
    for _ in range(20):
        text = ", ".join(list(opts)[int(rng.integers(len(opts)))] for opts in legal)
        if not actions.parse_action(battle, text).error:
            return text
    return actions.first_legal(battle)


_random_lock = threading.Lock()


def _from_player(player: Player) -> Callable[[DoubleBattle, np.random.Generator], str]:
    """A poke-env baseline as a policy; its draws from the ``random`` module are seeded from the
    episode's generator so that a seeded episode replays exactly."""

    def choose(battle: DoubleBattle, rng: np.random.Generator) -> str:
        with _random_lock:
            state = random.getstate()
            random.seed(int(rng.integers(2**63)))
            try:
                order = player.choose_move(battle)
            finally:
                random.setstate(state)
        text = actions.order_to_text(battle, order)
        return text if not actions.parse_action(battle, text).error else random_move(battle, rng)
    return choose


MOVE_POLICIES: dict[str, Callable[[DoubleBattle, np.random.Generator], str]] = {
    "random": random_move,
    "max_power": _from_player(_max_power),
    "heuristic": _from_player(_heuristics),
}
PREVIEW_POLICIES: dict[str, Callable[[DoubleBattle, np.random.Generator], str]] = {
    "random": random_preview,
    "max_power": random_preview,
    "heuristic": ordered_preview,
}
