"""The layering rules, checked on the source: what may import what (every import statement,
lazy ones inside functions included), and no import cycles between modules."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = {"arenas": "arenas", "agents": "arenas.agents", "verifiers": "arenas.verifiers",
           "leaderboards": "arenas.leaderboards"}
DOMAINS = sorted(p.parent.name for p in (ROOT / "arenas").glob("*/arena.toml"))


def _modules() -> dict[str, Path]:
    found = {}
    for folder, package in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            if "node_modules" in path.parts:
                continue
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((package, *parts))] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """Every ``arenas...`` module an import statement in the file names (resolved to modules)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in MODULES else node.module
                     for a in node.names]
        else:
            continue
        for name in names:
            if name.startswith("arenas"):
                while name not in MODULES and "." in name:
                    name = name.rsplit(".", 1)[0]
                out.add(name)
    return out


IMPORTS = {m: _imports(p) - {m} for m, p in MODULES.items()}


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in ("agents", "verifiers", "leaderboards", "engines"):
        return parts[1] if len(parts) > 1 else "core"
    if parts[1] in DOMAINS:
        return f"domain:{parts[1]}"
    return "core"


def _violations(allowed) -> list[str]:
    return [f"{m} imports {i}" for m, deps in sorted(IMPORTS.items()) for i in sorted(deps)
            if not allowed(_layer(m), _layer(i), i)]


def test_verifiers_import_only_engines_types_and_each_other():
    assert not _violations(lambda src, dst, name: src != "verifiers"
                           or dst in ("verifiers", "engines") or name == "arenas.types")


def test_engines_import_only_engines_and_types():
    assert not _violations(lambda src, dst, name: src != "engines" or dst == "engines" or name == "arenas.types")


def test_the_core_imports_no_domain_agents_or_leaderboards():
    assert not _violations(lambda src, dst, name: src != "core" or dst in ("core", "engines", "verifiers"))


def test_domains_never_import_each_other():
    assert not _violations(lambda src, dst, name: not (src.startswith("domain:") and dst.startswith("domain:"))
                           or src == dst)


def test_agents_use_no_domain_internals():
    assert not _violations(lambda src, dst, name: src != "agents" or not dst.startswith("domain:"))


def test_no_import_cycles():
    """Tarjan-free check: a module reaching itself through imports (package __init__ edges
    to its own submodules are part of the graph like any other)."""
    cycles = []
    for start in IMPORTS:
        seen, stack = set(), [(start, (start,))]
        while stack:
            node, path = stack.pop()
            for nxt in IMPORTS.get(node, ()):
                if nxt == start and len(path) > 1:
                    cycles.append(" -> ".join((*path, start)))
                elif nxt not in seen and nxt != start:
                    seen.add(nxt)
                    stack.append((nxt, (*path, nxt)))
    assert not cycles, sorted(cycles, key=len)[:5]


@pytest.mark.parametrize("module", ["arenas.types", "arenas.engines.sql", "arenas.verifiers.base"])
def test_the_rule_checker_sees_imports(module):
    assert module in MODULES
    assert IMPORTS["arenas.verifiers.sql"] >= {"arenas.engines.sql"}
