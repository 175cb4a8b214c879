"""One live progress bar (rich, on stderr) for long work: episodes, training steps."""

from __future__ import annotations

from typing import Any


class StatusBar:
    """A bar with a label, done/total, a free-form stats text and the time remaining.
    Disabled, it does nothing, so callers need no branches."""

    def __init__(self, label: str, total: int, completed: int = 0, enabled: bool = True):
        self.enabled = enabled
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.progress = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(),
                                     TextColumn("{task.fields[stats]}"), TimeRemainingColumn(),
                                     refresh_per_second=4, console=Console(stderr=True))
            self.task = self.progress.add_task(label, total=total, completed=completed, stats="")

    def __enter__(self) -> StatusBar:
        if self.enabled:
            self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.enabled:
            self.progress.__exit__(*exc)

    def advance(self, stats: str) -> None:
        if self.enabled:
            self.progress.update(self.task, advance=1, stats=stats)
