"""GUI arena at scale: N concurrent episodes on one browser, throughput and memory over many episodes.

Plays the oracle on test-split tasks from ``--concurrency`` threads (one arena, hence one browser
context, per thread; one Chromium for all). Reports episodes/s and steps/s, and the resident memory
of this process plus the whole Chromium process tree after the warm-up (``--warmup`` episodes) and
at the end; the growth between the two is the leak check (target: under 20%).

    python benchmarks/gui_scale.py --episodes 1000 --concurrency 8
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from arenas.gui.arena import GUIArena
from arenas.gui.browser import BrowserHost
from arenas.gui.measure import play_oracle


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_mb(root: int) -> float:
    """Resident memory of ``root`` and all its descendants."""
    children: dict[int, list[int]] = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(p))
            except (OSError, ValueError, IndexError):
                continue
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += _rss_kb(pid)
        stack.extend(children.get(pid, []))
    return total / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=100)
    args = ap.parse_args()
    local = threading.local()
    made: list[GUIArena] = []
    lock = threading.Lock()
    tasks = GUIArena().sample_tasks("test", args.episodes, seed=0)

    def play(task) -> tuple[bool, int]:
        if not hasattr(local, "arena"):
            local.arena = GUIArena(max_turns=40)
            with lock:
                made.append(local.arena)
        out = play_oracle(local.arena, task)
        return out["success"], out["steps"]

    host = BrowserHost.shared()
    wins = steps = 0
    mem = {}
    samples: list[str] = []
    t0 = t_warm = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency) as ex:
        for i, (ok, n) in enumerate(ex.map(play, tasks), 1):
            wins += ok
            steps += n
            if i == args.warmup:
                mem["after_warmup"] = tree_rss_mb(os.getpid())
                t_warm = time.perf_counter()
            if i % args.warmup == 0:
                samples.append(f"{i}: {tree_rss_mb(os.getpid()):.0f}")
    elapsed = time.perf_counter() - t0
    mem["end"] = tree_rss_mb(os.getpid())
    for a in made:
        a.close()
    print(f"episodes {args.episodes}  concurrency {args.concurrency}  browsers 1 (pid {host.browser_pid})  "
          f"cores {os.cpu_count()}")
    print(f"oracle success {wins / args.episodes:.3f}  episodes/s {args.episodes / elapsed:.1f}  "
          f"steps/s {steps / elapsed:.1f}  (after warm-up: {(args.episodes - args.warmup) / (time.perf_counter() - t_warm):.1f} ep/s)")
    print(f"memory (this process + Chromium tree): after {args.warmup} episodes {mem['after_warmup']:.0f} MB, "
          f"after {args.episodes} {mem['end']:.0f} MB, growth {mem['end'] / mem['after_warmup'] - 1:+.1%}")
    print("memory by episode (MB): " + ", ".join(samples))


if __name__ == "__main__":
    main()
