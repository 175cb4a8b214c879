import pytest

from arenas.config import ConfigError
from arenas.leaderboards.suites import check_pinned, list_suites, load_suite, parse_suite
from arenas.registry import list_arenas


def test_core_suite_is_every_manifest_with_a_suite_table():
    suite = load_suite("core-v1")
    assert suite.id == "core-v1" and suite.metric == "mean_reward"
    assert {e.arena for e in suite.entries} == {s.id for s in list_arenas() if s.suite}
    assert suite.entry("lb-guess").n == 8  # registered by the tests like a new arena folder


def test_pinned_suite_and_its_check():
    suite = load_suite("sql-v1")
    entry = suite.entry("sql")
    assert {"core-v1", "sql-v1"} <= set(list_suites())
    assert entry.n == len(entry.tasks) == 100 and len(set(entry.tasks)) == 100
    check_pinned(entry, list(entry.tasks))
    with pytest.raises(ConfigError, match="task generator changed"):
        check_pinned(entry, [*entry.tasks[:-1], "sql-other-1"])


@pytest.mark.parametrize("data, message", [
    ({"name": "x", "version": 1, "colour": 1}, "unknown keys"),
    ({"name": "x", "version": 1, "metric": "speed"}, "metric"),
    ({"name": "x", "version": 1, "arenas": {"a": {"tasks": ["t1"], "n": 2}}}, "pins 1 tasks"),
])
def test_bad_suites_are_config_errors(data, message):
    with pytest.raises(ConfigError, match=message):
        parse_suite(data)


def test_unknown_suite_lists_the_known_ones():
    with pytest.raises(ConfigError, match="core-v1"):
        load_suite("nope-v9")
