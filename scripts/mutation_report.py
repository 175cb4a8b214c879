"""Summarises the last ``mutmut run`` per module into ``benchmarks/mutation_survivors.txt``:
killed / survived / not covered counts, and every survivor's name (``mutmut show <name>``
prints its diff), so a new survivor shows up in review."""

import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "mutation_survivors.txt"


def main() -> None:
    proc = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], cwd=ROOT,
                          capture_output=True, text=True)
    counts: dict[str, Counter] = defaultdict(Counter)
    survivors: dict[str, list[str]] = defaultdict(list)
    for line in proc.stdout.splitlines():
        m = re.match(r"\s*([\w.]+)__mutmut_\d+: (.+)$", line)
        if not m:
            continue
        name, status = line.strip().split(": ", 1)
        module = m.group(1).rsplit(".", 1)[0]
        counts[module][status] += 1
        if status == "survived":
            survivors[module].append(name)
    if not counts:
        sys.exit(f"no mutmut results found (run `mutmut run` first):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    lines = ["module  killed  survived  no-tests  other"]
    for module in sorted(counts):
        c = counts[module]
        other = sum(v for k, v in c.items() if k not in ("killed", "survived", "no tests"))
        lines.append(f"{module}  {c['killed']}  {c['survived']}  {c['no tests']}  {other}")
    lines.append("")
    for module in sorted(survivors):
        lines += [f"# {module}", *survivors[module], ""]
    OUT.write_text("\n".join(lines))
    print("\n".join(lines[: len(counts) + 1]))
    print(f"survivors listed in {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
