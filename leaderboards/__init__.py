"""Leaderboards: suite definitions, a results index built from run folders, Markdown rendering."""

from arenas.leaderboards.results import Result, load_results, render_markdown
from arenas.leaderboards.suites import SUITES, SuiteEntry

__all__ = ["SUITES", "Result", "SuiteEntry", "load_results", "render_markdown"]
