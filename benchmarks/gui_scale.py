"""GUI arena at scale: N concurrent episodes on one browser, throughput and memory over many episodes.

Plays the oracle on test-split tasks from ``--concurrency`` threads (one arena, hence one browser
context, per thread; one Chromium for all). Reports episodes/s and steps/s, and the resident memory
of this process plus Playwright's driver and the whole Chromium process tree after the warm-up
(``--warmup`` episodes) and at the end; the growth between the two is the leak check (target: under
20%). Every ``--warmup`` episodes it prints memory by kind of process (this Python process, the
driver, the browser, its renderers...), which shows where any growth comes from.

    python benchmarks/gui_scale.py --episodes 1000 --concurrency 8
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from arenas.gui.arena import GUIArena
from arenas.gui.browser import BrowserHost
from arenas.gui.measure import play_oracle


def _kb(pid: int, path: str, field: str) -> int:
    try:
        with open(f"/proc/{pid}/{path}") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _kind(pid: int, root: int) -> str:
    if pid == root:
        return "python"
    try:  # Chromium's helpers rewrite their command line into one space-separated string
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").split()
    except OSError:
        return "other"
    name = Path(cmd[0]).name if cmd else ""
    if "node" in name:
        return "driver"
    kind = next((a[len("--type="):] for a in cmd if a.startswith("--type=")), None)
    return kind or ("browser" if "chrom" in name else "other")


def tree_memory(root: int) -> dict[str, float]:
    """Resident memory (MB) of ``root`` and all its descendants: ``rss`` (the sum of each process's
    RSS, shared pages counted in each), ``pss`` (shared pages divided among their users) and RSS by
    kind of process (this Python process, Playwright's driver, the browser, its renderers...)."""
    children: dict[int, list[int]] = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(p))
            except (OSError, ValueError, IndexError):
                continue
    out: dict[str, float] = {"rss": 0.0, "pss": 0.0, "renderers": 0}
    stack = [root]
    while stack:
        pid = stack.pop()
        rss = _kb(pid, "status", "VmRSS:") / 1024
        kind = _kind(pid, root)
        out["rss"] += rss
        out["pss"] += _kb(pid, "smaps_rollup", "Pss:") / 1024
        out[kind] = out.get(kind, 0.0) + rss
        out["renderers"] += kind == "renderer"
        stack.extend(children.get(pid, []))
    return out


def _fmt(m: dict[str, float]) -> str:
    kinds = ", ".join(f"{k} {v:.0f}" for k, v in sorted(m.items()) if k not in ("rss", "pss", "renderers"))
    return f"rss {m['rss']:.0f} (pss {m['pss']:.0f}; {kinds}; {m['renderers']:.0f} renderers)"


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
    mem: dict[str, dict[str, float]] = {}
    samples: list[str] = []
    t0 = t_warm = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency) as ex:
        for i, (ok, n) in enumerate(ex.map(play, tasks), 1):
            wins += ok
            steps += n
            if i % args.warmup == 0:
                m = tree_memory(os.getpid())
                samples.append(f"{i}: {_fmt(m)}")
                if i == args.warmup:
                    mem["after_warmup"] = m
                    t_warm = time.perf_counter()
    elapsed = time.perf_counter() - t0
    mem["end"] = tree_memory(os.getpid())
    for a in made:
        a.close()
    print(f"episodes {args.episodes}  concurrency {args.concurrency}  browsers 1 (pid {host.browser_pid})  "
          f"cores {os.cpu_count()}")
    print(f"oracle success {wins / args.episodes:.3f}  episodes/s {args.episodes / elapsed:.1f}  "
          f"steps/s {steps / elapsed:.1f}  (after warm-up: {(args.episodes - args.warmup) / (time.perf_counter() - t_warm):.1f} ep/s)")
    w, e = mem["after_warmup"]["rss"], mem["end"]["rss"]
    print(f"memory (this process + driver + Chromium tree, summed RSS): after {args.warmup} episodes {w:.0f} MB, "
          f"after {args.episodes} {e:.0f} MB, growth {e / w - 1:+.1%} "
          f"(PSS {mem['after_warmup']['pss']:.0f} -> {mem['end']['pss']:.0f} MB)")
    print(f"load average {os.getloadavg()[0]:.1f}")
    print("memory by episode (MB):\n  " + "\n  ".join(samples))


if __name__ == "__main__":
    main()
