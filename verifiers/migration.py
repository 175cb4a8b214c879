"""Verifiers of the API-migration arena: a submission is the migrated module's source.

- :func:`hidden_tests` (the reward): the fraction of hidden test calls whose normalised results
  equal the reference migration's, run in a sandbox of the *new* library version. The hidden
  calls and expected values never enter the sandbox; the parent compares. The score is 0 when the
  submission trips the guard (monkeypatching a library, import-system or process tricks, frame
  walking) or still uses one of the task's removed APIs.
- :func:`removed_api` (logged): 1.0 when no removed API of the task's change is left.
- :func:`edit_similarity` (logged): ReCode's edit-similarity between submission and reference.
- :func:`regression` (logged): the share of public-test inputs on which the submission behaves
  like the reference.

``reference``: ``{"code", "calls", "expected", "public": n, "removed"}``; ``context``:
``{"python": new venv interpreter, "venv": its name, "backend": "subprocess" | "docker", "module": import
name, "version": the new version, "aliases": {...}, "limits": {...}}``.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import json
import math
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from arenas.engines.sandbox import Limits, RunResult, run_sandboxed
from arenas.verifiers.base import Verdict

FORBIDDEN_MODULES = {"importlib", "ctypes", "subprocess", "multiprocessing", "gc", "inspect", "builtins",
                     "site", "sysconfig", "pty", "signal", "socket", "runpy", "imp", "pkgutil", "zipimport",
                     "code", "codeop", "threading", "_thread", "atexit", "marshal", "pickle"}
FORBIDDEN_CALLS = {"exec", "eval", "compile", "__import__", "setattr", "delattr", "globals", "vars",
                   "breakpoint", "open", "getattr"}
FORBIDDEN_ATTRS = {"_getframe", "f_back", "f_locals", "f_globals", "tb_frame", "gi_frame", "__traceback__",
                   "__subclasses__", "__globals__", "__builtins__", "__code__", "__dict__", "__loader__",
                   "__setattr__", "__delattr__", "__getattribute__", "__import__"}
FORBIDDEN_DOTTED = {"sys.path", "sys.modules", "sys.meta_path", "sys.path_hooks", "sys.exit", "sys.settrace",
                    "sys.setprofile", "sys.stdout", "sys.__stdout__", "os._exit", "os.system", "os.popen",
                    "os.fork", "os.kill", "os.killpg", "os.execv", "os.execve", "os.execvp", "os.spawnv",
                    "os.environ", "os.chdir", "os.remove", "os.unlink", "os.listdir", "os.walk", "os.scandir",
                    "os.open", "os.fdopen", "os.write"}


# ---- static analysis ------------------------------------------------------------------------
def _imports(tree: ast.AST) -> dict[str, str]:
    """Local name -> dotted origin (``np`` -> ``numpy``, ``Markup`` -> ``jinja2.Markup``)."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                names[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                names[a.asname or a.name] = f"{node.module}.{a.name}"
    return names


def _dotted(node: ast.AST, imports: Mapping[str, str]) -> str | None:
    """The resolved dotted name of ``a.b.c`` whose root is an imported name, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id in imports:
        return ".".join([imports[node.id], *reversed(parts)])
    return None


def _call_name(node: ast.Call) -> str:
    f = node.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def _list_names(tree: ast.AST) -> set[str]:
    """Names bound to list/dict/set displays, comprehensions or list()/dict() calls."""
    out: set[str] = set()
    builders = (ast.List, ast.ListComp, ast.Dict, ast.DictComp, ast.Set, ast.SetComp)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            value = node.value
            is_list = isinstance(value, builders) or (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
                                                      and value.func.id in ("list", "dict", "set"))
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if is_list:
                out.update(t.id for t in targets if isinstance(t, ast.Name))
    return out


def _matches(pattern: str, node: ast.AST, imports: Mapping[str, str], lists: set[str]) -> bool:
    kind, _, arg = pattern.partition(":")
    if kind == "api":
        if isinstance(node, (ast.Attribute, ast.Name)):
            return _dotted(node, imports) == arg
        return False
    if kind == "str":
        return isinstance(node, ast.Constant) and node.value == arg
    if kind == "name":
        return isinstance(node, ast.Name) and node.id == arg
    if kind == "attr":
        return isinstance(node, ast.Attribute) and node.attr == arg
    if not isinstance(node, ast.Call):
        return False
    name = _call_name(node)
    if kind == "method":
        f = node.func
        return (isinstance(f, ast.Attribute) and f.attr == arg
                and not (isinstance(f.value, ast.Name) and f.value.id in lists))
    if kind == "recv":  # recv:name.method -> name.method(...) on a plain variable called name
        owner, _, method = arg.partition(".")
        f = node.func
        return (isinstance(f, ast.Attribute) and f.attr == method and isinstance(f.value, ast.Name)
                and f.value.id == owner)
    if kind == "kw":  # kw:func:name or kw:func:name=Constant
        func, _, spec = arg.partition(":")
        kw, _, value = spec.partition("=")
        for k in node.keywords:
            if name == func and k.arg == kw:
                if not value:
                    return True
                if isinstance(k.value, ast.Constant) and repr(k.value.value) == value:
                    return True
        return False
    if kind == "args":  # args:func:n -> called with at least n positional arguments
        func, _, n = arg.partition(":")
        return name == func and len(node.args) >= int(n)
    if kind == "strarg":  # strarg:func -> first positional argument is a plain string literal
        first = node.args[0] if node.args else None
        if isinstance(first, ast.BinOp):
            first = first.left
        return name == arg and (isinstance(first, ast.JoinedStr)
                                or (isinstance(first, ast.Constant) and isinstance(first.value, str)))
    if kind == "listarg":  # listarg:func -> first positional argument is a list display
        return name == arg and bool(node.args) and isinstance(node.args[0], ast.List)
    return False


def removed_api_uses(code: str, patterns: list[str] | tuple[str, ...]) -> list[str]:
    """The patterns (``api:``, ``str:``, ``name:``, ``attr:``, ``method:``, ``recv:``, ``kw:``, ``args:``, ``strarg:``, ``listarg:``)
    found in ``code`` with their line numbers. Unparsable code reports nothing (it fails anyway)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    imports, lists = _imports(tree), _list_names(tree)
    found = []
    for node in ast.walk(tree):
        for p in patterns:
            if _matches(p, node, imports, lists):
                found.append(f"{p} (line {getattr(node, 'lineno', '?')})")
    return found


def guard_violations(code: str) -> list[str]:
    """Constructs that could game the verdict rather than migrate the code: rebinding attributes
    of imported modules or classes (re-adding a removed API), reaching the import system or
    other interpreters, exiting the process, walking frames, reading files."""
    try:
        tree = ast.parse(code)
    except SyntaxError as e:
        return [f"syntax error: {e.msg} (line {e.lineno})"]
    imports = _imports(tree)
    out: list[str] = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", "?")
        if isinstance(node, ast.Import):
            bad = [a.name for a in node.names if a.name.split(".")[0] in FORBIDDEN_MODULES]
            out += [f"import of {b} (line {line})" for b in bad]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in FORBIDDEN_MODULES:
            out.append(f"import from {node.module} (line {line})")
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for t in targets:
                for sub in ast.walk(t):
                    if isinstance(sub, (ast.Attribute, ast.Subscript)) and _dotted(
                            sub.value if isinstance(sub, ast.Subscript) else sub, imports):
                        out.append(f"assignment to an imported module or class attribute (line {line})")
                        break
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_CALLS:
            out.append(f"use of {node.id}() (line {line})")
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRS:
            out.append(f"use of .{node.attr} (line {line})")
        elif isinstance(node, ast.Attribute) and _dotted(node, imports) in FORBIDDEN_DOTTED:
            out.append(f"use of {_dotted(node, imports)} (line {line})")
        elif isinstance(node, ast.Name) and node.id in ("__builtins__", "__loader__", "__spec__"):
            out.append(f"use of {node.id} (line {line})")
    return sorted(set(out))


def edit_similarity_ratio(a: str, b: str) -> float:
    """1 - normalised edit distance, approximated by difflib's matching-blocks ratio."""
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


# ---- running the tests ----------------------------------------------------------------------
_RUNS: OrderedDict[str, RunResult] = OrderedDict()


def run_calls(code: str, calls: list[str], context: Mapping[str, Any]) -> RunResult:
    """Runs ``calls`` against ``code`` in the new version's sandbox (memoised per submission, so
    the rubric's components share one run)."""
    key = hashlib.sha256(json.dumps([code, calls, str(context["python"]), context.get("backend")]).encode()).hexdigest()
    if key in _RUNS:
        return _RUNS[key]
    request = {"mode": "calls", "module": context["module"], "calls": calls,
               "aliases": dict(context.get("aliases", {}))}
    result = run_sandboxed(dict(context), request, {"solution.py": code}, Limits(**context.get("limits", {})))
    if not result.timed_out:  # a deadline hit under load is not remembered as the verdict
        _RUNS[key] = result
    while len(_RUNS) > 64:
        _RUNS.popitem(last=False)
    return result


def values_equal(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) \
            and not isinstance(b, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-9)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(values_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(values_equal(a[k], b[k]) for k in a)
    return a == b


def foreign_modules(payload: Mapping[str, Any]) -> list[str]:
    """Loaded files from a site-packages other than the one the library under test came from
    (the harness imports it before the submission): an old version smuggled in."""
    own = str(payload.get("library_file", "")).split("/site-packages/")[0] + "/site-packages/"
    return [f for f in payload.get("loaded", []) if "/site-packages/" in f and not f.startswith(own)]


def outcomes(result: RunResult, expected: list[Any], expected_version: str | None = None) -> list[bool]:
    """Per call: did it return the expected value? A run that died, that loaded a library other
    than the expected version or files of another venv, or that left a library attribute
    patched with the submission's objects, passes nothing."""
    payload = result.payload
    if payload is None or result.timed_out:
        return [False] * len(expected)
    if expected_version and payload.get("version") != expected_version:
        return [False] * len(expected)
    if payload.get("patched") or foreign_modules(payload):
        return [False] * len(expected)
    got = payload.get("results", [])
    return [i < len(got) and got[i].get("ok", False) and values_equal(got[i]["value"], exp)
            for i, exp in enumerate(expected)]


def _hidden(reference: Mapping[str, Any]) -> tuple[list[str], list[Any]]:
    n = reference["public"]
    return reference["calls"][n:], reference["expected"][n:]


def hidden_tests(candidate: Mapping[str, Any], reference: Mapping[str, Any], context: Mapping[str, Any]) -> Verdict:
    code = candidate.get("code", "")
    violations = guard_violations(code)
    if violations:
        return Verdict.fail("guard", violations=violations)
    still = removed_api_uses(code, reference.get("removed", []))
    calls, expected = _hidden(reference)
    result = run_calls(code, list(reference["calls"]), context)
    passed = outcomes(result, list(reference["expected"]), context.get("version"))[reference["public"]:]
    frac = sum(passed) / len(expected) if expected else 0.0
    details = {"passed": sum(passed), "total": len(expected), "wall_s": round(result.wall_s, 3),
               "isolation": result.isolation}
    if result.timed_out:
        details["timed_out"] = True
    if still:
        return Verdict(0.0, False, {**details, "reason": "removed API still used", "removed_api": still})
    return Verdict(frac, frac == 1.0, details)


def removed_api(candidate: Mapping[str, Any], reference: Mapping[str, Any], context: Mapping[str, Any]) -> Verdict:
    still = removed_api_uses(candidate.get("code", ""), reference.get("removed", []))
    return Verdict(0.0 if still else 1.0, not still, {"found": still})


def edit_similarity(candidate: Mapping[str, Any], reference: Mapping[str, Any], context: Mapping[str, Any]) -> Verdict:
    score = edit_similarity_ratio(candidate.get("code", ""), reference["code"])
    return Verdict(score, score == 1.0, {})


def regression(candidate: Mapping[str, Any], reference: Mapping[str, Any], context: Mapping[str, Any]) -> Verdict:
    code = candidate.get("code", "")
    if guard_violations(code):
        return Verdict.fail("guard")
    n = reference["public"]
    result = run_calls(code, list(reference["calls"]), context)
    same = outcomes(result, list(reference["expected"]), context.get("version"))[:n]
    score = sum(same) / n if n else 0.0
    return Verdict(score, score == 1.0, {"same": sum(same), "total": n})
