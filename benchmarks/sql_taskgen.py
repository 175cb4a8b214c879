"""SQL task generation speed: cold (every template on every database, gold SQL run and checked)
against cached (the JSON cache read back from ``$ARENAS_HOME``, checksum verified), same process.

Targets: cold <= 30 s, cached <= 1 s.  Run: ``python benchmarks/sql_taskgen.py``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from arenas.sql import tasks
from arenas.sql.data import DATABASES, database_path


def main() -> None:
    start = time.perf_counter()
    for name in DATABASES:  # built once per machine; timed apart from task generation
        database_path(name)
    data_s = time.perf_counter() - start

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        tasks._write(Path(tmp))
        cold_s = time.perf_counter() - start

    tasks.build_tasks()  # make sure the on-disk cache exists
    tasks._build_tasks.cache_clear()
    start = time.perf_counter()
    by_split = tasks.build_tasks()
    cached_s = time.perf_counter() - start

    total = sum(len(v) for v in by_split.values())
    print(f"databases ready:       {data_s:8.3f} s")
    print(f"cold generation:       {cold_s:8.3f} s  ({total} tasks: "
          + ", ".join(f"{s} {len(v)}" for s, v in by_split.items()) + ")  target <= 30 s")
    print(f"cached load:           {cached_s:8.3f} s  target <= 1 s")
    print(f"ratio cold / cached:   {cold_s / cached_s:8.1f}x")


if __name__ == "__main__":
    main()
