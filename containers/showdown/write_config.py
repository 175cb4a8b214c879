"""Writes Showdown's config.js for the image from ``CONFIG_JS`` in arenas/pokemon/server.py, so the
container runs the arena's exact config; only the bind address changes (0.0.0.0, since the port is
published from the container). Read with ``ast``: the image has no arenas package to import."""

import ast
import sys

LOCAL, PUBLISHED = "exports.bindaddress = '127.0.0.1';", "exports.bindaddress = '0.0.0.0';"

source, target = sys.argv[1], sys.argv[2]
config = next(node.value.value for node in ast.parse(open(source).read()).body
              if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "CONFIG_JS")
if LOCAL not in config:
    sys.exit(f"{source}: CONFIG_JS no longer contains {LOCAL!r}; update {__file__}")
with open(target, "w") as f:
    f.write(config.replace(LOCAL, PUBLISHED))
