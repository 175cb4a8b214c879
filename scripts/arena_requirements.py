"""Prints what the arenas' manifests ask the installer for (standard library only: it runs
before the package is installed).

    python3 scripts/arena_requirements.py apt        # Debian packages, one per line
    python3 scripts/arena_requirements.py install    # install scripts (paths), one per line
"""

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(what: str) -> None:
    for manifest in sorted((ROOT / "arenas").glob("*/arena.toml")):
        data = tomllib.loads(manifest.read_text())
        if what == "apt":
            for package in data.get("apt", []):
                print(package)
        elif what == "install" and data.get("install"):
            print(manifest.parent / data["install"])
        elif what not in ("apt", "install"):
            sys.exit(f"usage: {sys.argv[0]} apt|install")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
