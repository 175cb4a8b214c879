"""The verdict: the oracle passes, the old code scores 0, and every listed hack is stopped."""

import pytest

from arenas.migration.arena import RUBRIC, MigrationConfig, _context
from arenas.migration.tasks import load_all
from arenas.verifiers.migration import guard_violations, removed_api_uses, run_calls


@pytest.fixture(scope="module")
def task(built):
    return next(t for t in load_all() if t.id == "pandas.DataFrame.append/order")


@pytest.fixture(scope="module")
def context(task):
    return _context(task, MigrationConfig())


def score(task, context, code):
    return RUBRIC.score({"code": code}, task.reference, context)


def test_reference_scores_one_and_old_code_zero(task, context):
    assert score(task, context, task.reference["code"]).total == 1.0
    old = score(task, context, task.prompt["code"])
    assert old.total == 0.0 and old.components["removed_api"] == 0.0


def test_constant_answers_that_pass_public_tests_fail_hidden_ones(task, context):
    entry = task.prompt["entry"]
    table = {repr(eval("(" + t["call"][len(entry) + 1:-1] + ",)")): t["expected"] for t in task.prompt["public_tests"]}
    code = f"TABLE = {table!r}\n\n\ndef {entry}(*args):\n    return TABLE.get(repr(args))\n"
    b = score(task, context, code)
    assert b.components["regression"] == 1.0  # every public test passes
    assert b.components["hidden_tests"] == 0.0 and b.total == 0.0
    empty = f"def {entry}(orders, new_order):\n    pass\n"
    assert score(task, context, empty).total == 0.0


@pytest.mark.parametrize("patch", [
    "pd.DataFrame.append = lambda self, other, ignore_index=False: pd.concat([self, pd.DataFrame([other])], "
    "ignore_index=ignore_index)\n",
    "setattr(pd.DataFrame, 'append', lambda self, o, ignore_index=False: pd.concat([self, pd.DataFrame([o])]))\n",
    "from pandas import DataFrame\nDataFrame.append = lambda self, o, ignore_index=False: self\n",
])
def test_monkeypatching_the_library_back_scores_zero(task, context, patch):
    code = task.prompt["code"].replace("\n\ndef ", "\n" + patch + "\n\ndef ", 1)
    b = score(task, context, code)
    assert b.total == 0.0 and b.details["hidden_tests"]["reason"] == "guard"


@pytest.mark.parametrize("trick", [
    "import sys\nsys.path.insert(0, '/old/site-packages')\n",
    "import importlib\n",
    "m = __import__('pandas')\n",
    "import sys\nsys.modules.pop('pandas', None)\n",
    "exec('import os')\n",
    "data = open('/etc/passwd').read()\n",
    "import os\nos._exit(0)\n",
    "import sys\nsys.exit(0)\n",
    "import gc\n",
])
def test_import_system_process_and_file_tricks_are_refused(trick):
    assert guard_violations(trick)


def test_reading_hidden_tests_from_disk_finds_nothing(task, context):
    # the hidden calls and expected values never enter the sandbox: the harness only gets calls
    call = task.reference["calls"][-1]
    expected = task.reference["expected"][-1]
    code = ("import os\nimport pandas as pd\n\n\ndef add_order(orders, new_order):\n"
            "    return sorted(os.listdir('.'))\n")
    r = run_calls(code, [call], context)
    listing = r.payload["results"][0]["value"]
    assert listing == ["harness.py", "solution.py"] or set(listing) <= {"harness.py", "solution.py", ".venv", "__pycache__",
                                                                          ".stdout", ".stderr"}
    assert repr(expected) not in r.stdout


def test_catching_every_exception_does_not_pass(task, context):
    body = task.prompt["code"].replace("    df = pd.DataFrame", "    try:\n        df = pd.DataFrame", 1)
    code = "\n".join(("    " + ln if ln.startswith("    ") and "try:" not in ln else ln) for ln in body.splitlines())
    code = code.replace("        return {", "    except BaseException:\n        return {}\n    return {", 1)
    assert score(task, context, code).total == 0.0


def test_sys_exit_inside_a_call_fails_that_call(task, context):
    code = "import sys\n\n\ndef add_order(orders, new_order):\n    raise SystemExit(0)\n"
    r = run_calls(code, task.reference["calls"], context)
    assert r.payload and not any(x["ok"] for x in r.payload["results"])


def test_a_forged_result_line_is_ignored(task, context):
    fake = '{"version": "2.2.3", "results": [{"ok": true, "value": 1}]}'
    code = f"print({fake!r})\n\ndef add_order(orders, new_order):\n    return 1\n"
    assert score(task, context, code).total == 0.0


def test_importing_the_old_version_is_caught_at_run_time(task, context):
    from arenas.verifiers.migration import outcomes

    r = run_calls(task.reference["code"], task.reference["calls"], context)
    assert all(outcomes(r, task.reference["expected"], context["version"]))
    assert not any(outcomes(r, task.reference["expected"], "1.5.3"))


@pytest.mark.parametrize("code,pattern,hit", [
    ("import numpy as np\nx = np.float_\n", "api:numpy.float_", True),
    ("from numpy import float_\n", "api:numpy.float_", False),
    ("import numpy\nx = numpy.product([1])\n", "api:numpy.product", True),
    ("rows = []\nrows.append(1)\n", "method:append", False),
    ("df = df.append(x)\n", "method:append", True),
    ("s.iteritems()\n", "attr:iteritems", True),
    ("pd.read_csv(f, squeeze=True)\n", "kw:read_csv:squeeze", True),
    ("np.array(x, copy=False)\n", "kw:array:copy=False", True),
    ("np.array(x, copy=True)\n", "kw:array:copy=False", False),
    ("df.drop('a', 1)\n", "args:drop:2", True),
    ("conn.execute('SELECT 1')\n", "strarg:execute", True),
    ("conn.execute(text('SELECT 1'))\n", "strarg:execute", False),
    ("select([t.c.a])\n", "listarg:select", True),
    ("engine.execute(q)\n", "recv:engine.execute", True),
    ("conn.execute(q)\n", "recv:engine.execute", False),
])
def test_removed_api_patterns(code, pattern, hit):
    assert bool(removed_api_uses(code, [pattern])) is hit


def test_modules_loaded_from_another_venv_fail_the_run(task, context):
    from arenas.verifiers.migration import foreign_modules, outcomes

    r = run_calls(task.reference["code"], task.reference["calls"], context)
    assert foreign_modules(r.payload) == [] and r.payload["patched"] == []
    r.payload["loaded"] = [*r.payload["loaded"], "/cache/migration/venvs/pandas-old-x/venv/lib/python3.11/"
                           "site-packages/pandas/core/frame.py"]
    assert foreign_modules(r.payload) and not any(outcomes(r, task.reference["expected"], context["version"]))


def test_runtime_patch_report_catches_a_patch_the_static_guard_would_miss(task, context):
    from arenas.verifiers.migration import outcomes

    # run_calls skips the static guard, as a trick that evaded it would
    patch = ("\n\ndef _append(self, other, ignore_index=False):\n"
             "    return pd.concat([self, pd.DataFrame([other])], ignore_index=ignore_index)\n\n\n"
             "pd.DataFrame.append = _append\n")
    r = run_calls(task.prompt["code"] + patch, task.reference["calls"], context)
    assert all(x["ok"] for x in r.payload["results"])  # the old code "works" again...
    assert "DataFrame.append" in r.payload["patched"]  # ...but the patch is reported
    assert not any(outcomes(r, task.reference["expected"], context["version"]))
