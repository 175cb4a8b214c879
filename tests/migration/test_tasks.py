"""The task set: size, coverage, split hygiene, and the validation step that drops bad tasks."""

from collections import defaultdict

from arenas.migration import tasks
from arenas.migration.catalog import Change, all_changes
from arenas.migration.catalog.base import record_lists


def test_size_and_coverage(built):
    all_tasks = tasks.load_all()
    assert len(all_tasks) >= 150
    assert len({t.prompt["library"] for t in all_tasks}) >= 6
    assert len({t.meta["change"] for t in all_tasks}) >= 40
    assert all(t.meta["cite"].startswith("https://") for t in all_tasks)
    report = tasks.validation_report()
    assert sum(r["kept"] for r in report.values()) == len(all_tasks)


def test_splits_are_by_change_and_all_populated(built):
    splits = defaultdict(set)
    for t in tasks.load_all():
        splits[t.split].add(t.meta["change"])
    assert set(splits) == {"train", "dev", "test"}
    assert not (splits["train"] & splits["test"]) and not (splits["train"] & splits["dev"])


def test_tasks_are_deterministic():
    a = [(c["id"], c["calls"]) for c in tasks.candidates(["numpy"])]
    b = [(c["id"], c["calls"]) for c in tasks.candidates(["numpy"])]
    assert a == b and len(a) == 4 * len([c for c in all_changes() if c.library == "numpy"])


def test_programs_are_realistic_modules():
    for item in tasks.candidates():
        lines = item["old"].strip().splitlines()
        assert 10 <= len(lines) <= 80, item["id"]
        compile(item["old"], item["id"], "exec")
        compile(item["new"], item["id"], "exec")


def test_validation_drops_unbroken_and_wrong_tasks(built):
    program = "import numpy as np\n\n\ndef f(values):\n    return float(np.«sum¦sum»(values))\n"
    unbroken = Change("numpy.fake_unbroken", "numpy", "", "https://example.org", ("api:numpy.sum",), program, "f",
                      "", lambda rng, d: ["[1, 2]"] * 6)
    wrong = Change("numpy.fake_wrong", "numpy", "", "https://example.org", ("api:numpy.product",),
                   "import numpy as np\n\n\ndef f(values):\n    return float(np.«product¦sum»(values))\n", "f", "",
                   lambda rng, d: ["[2, 3]"] * 6)
    items = []
    for change in (unbroken, wrong):
        from arenas.migration.catalog import DOMAINS, side

        items.append({"id": change.id, "change": change, "entry": "f", "old": side(change.program, "old"),
                      "new": side(change.program, "new"), "description": "", "calls": ["f([1, 2])"] * 6,
                      "removed": list(change.removed)})
    kept, dropped = tasks.validate_library("numpy", items)
    assert kept == []
    assert dropped == {"old program not broken by the new version": ["numpy.fake_unbroken"],
                       "old program differs on the old version": ["numpy.fake_wrong"]}
    assert record_lists and DOMAINS
