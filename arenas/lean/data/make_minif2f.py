"""Rebuilds ``minif2f.json`` from git mirrors of the two upstream repositories (not used at run time).

Formal statements: yangky11/miniF2F-lean4 (Lean 4 port, MIT). Natural-language statements:
facebookresearch/miniF2F ``informal/`` (MIT). Usage::

    python arenas/lean/data/make_minif2f.py <miniF2F-lean4 git dir> <facebookresearch miniF2F git dir>
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEADER = "import Mathlib\n\nset_option maxHeartbeats 0\n\nopen BigOperators Real Nat Topology Rat\n"


def _git(repo: str, *args: str) -> str:
    return subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True, text=True).stdout


def build(lean4_repo: str, informal_repo: str) -> dict:
    problems = []
    informal_names = {split: {p.lower().removesuffix(".json"): p
                              for p in _git(informal_repo, "ls-tree", "--name-only", f"HEAD:informal/{split}/").split()}
                      for split in ("valid", "test")}  # file names differ in case for a few problems
    for split, folder in (("valid", "Valid"), ("test", "Test")):
        for path in sorted(_git(lean4_repo, "ls-tree", "--name-only", f"HEAD:MiniF2F/{folder}/").split()):
            name = path.removesuffix(".lean")
            text = _git(lean4_repo, "show", f"HEAD:MiniF2F/{folder}/{path}")
            formal = text[text.index("theorem "):].strip()
            informal = json.loads(_git(informal_repo, "show", f"HEAD:informal/{split}/{informal_names[split][name.lower()]}"))
            problems.append({"name": name, "split": split, "informal": informal["informal_statement"].strip(),
                             "formal": formal})
    return {
        "header": HEADER,
        "source": {
            "formal": {"repo": "https://github.com/yangky11/miniF2F-lean4", "commit": _git(lean4_repo, "rev-parse", "HEAD").strip(),
                       "licence": "MIT (Copyright (c) Meta Platforms, Inc. and affiliates)"},
            "informal": {"repo": "https://github.com/facebookresearch/miniF2F",
                         "commit": _git(informal_repo, "rev-parse", "HEAD").strip(),
                         "licence": "MIT (Copyright (c) Meta Platforms, Inc. and affiliates)"},
        },
        "problems": problems,
    }


if __name__ == "__main__":
    data = build(sys.argv[1], sys.argv[2])
    out = Path(__file__).with_name("minif2f.json")
    out.write_text(json.dumps(data, ensure_ascii=False, indent=0) + "\n")
    print(f"{len(data['problems'])} problems -> {out}")
