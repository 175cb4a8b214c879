"""mallocGame: the state of one memory-mapping episode, updated one buffer at a time.

Buffers arrive in a fixed order: by live-interval start, larger first on ties, then by id. Each
is placed in slow memory or at a byte offset of fast memory. A fast placement is legal when the
offset is a multiple of the alignment and ``[offset, offset + footprint)`` is free at every op of
the buffer's live interval (2-D packing over time x address; the footprint is the size rounded
up to the alignment). Free space is computed with numpy over the placed blocks that overlap the
interval, never with a Python loop over buffers.

Requests are logged as integers: an offset, :data:`SLOW`, or :data:`MALFORMED` (an action that
could not be read). Illegal and malformed requests leave the buffer in slow memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arenas.memory.cost import CostModel, Profile, touching_ops
from arenas.memory.workloads import Workload

SLOW = -1
MALFORMED = -2
DEFAULT_ALIGNMENT = 256


def buffer_order(workload: Workload) -> np.ndarray:
    """The order buffers arrive in: start ascending, size descending, id ascending."""
    ids = np.arange(workload.n_buffers)
    return np.lexsort((ids, -workload.size, workload.start))


@dataclass(frozen=True)
class Gaps:
    """Free address ranges of fast memory over one buffer's live interval that fit it,
    best fit first (smallest gap, then lowest address)."""

    start: np.ndarray
    end: np.ndarray

    def __len__(self) -> int:
        return len(self.start)


class Game:
    """One episode's state. ``place`` applies the request for :attr:`current`."""

    def __init__(self, workload: Workload, profile: Profile, capacity: int,
                 alignment: int = DEFAULT_ALIGNMENT, touch: list[np.ndarray] | None = None):
        self.workload = workload
        self.profile = profile
        self.alignment = alignment
        self.capacity = capacity // alignment * alignment
        self.footprint = -(-workload.size // alignment) * alignment
        self.order = buffer_order(workload)
        self.cost = CostModel(workload, profile, touch if touch is not None else touching_ops(workload))
        n = workload.n_buffers
        # placed fast blocks, in placement order: live interval and address range
        self._t0 = np.empty(n, dtype=np.int64)
        self._t1 = np.empty(n, dtype=np.int64)
        self._a0 = np.empty(n, dtype=np.int64)
        self._a1 = np.empty(n, dtype=np.int64)
        self.n_fast = 0
        self.k = 0
        self.offset = np.full(n, SLOW, dtype=np.int64)
        """Final offset of each buffer (SLOW if not in fast memory)."""
        self.requests: list[int] = []
        """What was asked for each buffer, in arrival order (the action log)."""
        self.invalid = 0
        self._gaps_key: tuple[int, int] | None = None
        self._gaps = Gaps(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))

    @property
    def done(self) -> bool:
        return self.k >= len(self.order)

    @property
    def current(self) -> int:
        """The buffer to place now."""
        return int(self.order[self.k])

    def overlapping(self, b: int) -> np.ndarray:
        """Indices (into the placed blocks) of fast buffers live at some op of ``b``'s interval."""
        m = self.n_fast
        s, e = self.workload.start[b], self.workload.end[b]
        return np.flatnonzero((self._t0[:m] < e) & (self._t1[:m] > s))

    def address_ranges(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``[start, end)`` addresses of the placed blocks ``idx`` (as from :meth:`overlapping`)."""
        return self._a0[idx], self._a1[idx]

    def gaps(self, b: int) -> Gaps:
        """Free ranges over ``b``'s interval that are large enough for ``b`` (cached until the
        next placement, since observation, policies and legality checks all ask for them)."""
        if self._gaps_key == (b, self.n_fast):
            return self._gaps
        idx = self.overlapping(b)
        need = self.footprint[b]
        if len(idx) == 0:
            starts, ends = np.zeros(1, dtype=np.int64), np.array([self.capacity], dtype=np.int64)
        else:
            a0, a1 = self._a0[idx], self._a1[idx]
            o = np.argsort(a0, kind="stable")
            starts = np.concatenate(([0], np.maximum.accumulate(a1[o])))
            ends = np.concatenate((a0[o], [self.capacity]))
        keep = ends - starts >= need
        starts, ends = starts[keep], ends[keep]
        o = np.lexsort((starts, ends - starts))
        self._gaps_key, self._gaps = (b, self.n_fast), Gaps(starts[o], ends[o])
        return self._gaps

    def is_legal(self, b: int, offset: int) -> bool:
        if offset < 0 or offset % self.alignment:
            return False
        g = self.gaps(b)
        return bool(np.any((g.start <= offset) & (offset + self.footprint[b] <= g.end)))

    def place(self, request: int) -> tuple[bool, float]:
        """Applies ``request`` (offset, SLOW or MALFORMED) to the current buffer and advances.
        Returns (valid, seconds saved)."""
        b = self.current
        self.requests.append(int(request))
        self.k += 1
        if request == SLOW:
            return True, 0.0
        if request == MALFORMED or not self.is_legal(b, request):
            self.invalid += 1
            return False, 0.0
        return True, self.put(b, request)

    def put(self, b: int, offset: int) -> float:
        """Puts buffer ``b`` at ``offset`` (unchecked, in any order: planners use it); returns the
        seconds saved."""
        m = self.n_fast
        self._t0[m], self._t1[m] = self.workload.start[b], self.workload.end[b]
        self._a0[m], self._a1[m] = offset, offset + self.footprint[b]
        self.n_fast += 1
        self.offset[b] = offset
        return self.cost.move_to_fast(b)

    def copy(self) -> Game:
        other = object.__new__(Game)
        other.__dict__.update(self.__dict__)
        for name in ("_t0", "_t1", "_a0", "_a1", "offset"):
            setattr(other, name, getattr(self, name).copy())
        other.requests = list(self.requests)
        other.cost = self.cost.copy()
        return other
