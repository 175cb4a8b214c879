"""The child side of the migration sandbox: runs inside a library version's venv, never in the
arena's process, and imports only the standard library (it must work under any venv).

It reads one JSON request on stdin, then (in this order) blocks sockets, imports the library
under test, imports the submission (``solution.py`` in the working directory) and does one of:

- ``calls``: evaluates each call expression and prints the *normalised* results; the parent
  compares them with expected values it never sends (hidden tests are not in the sandbox);
- ``snippet``: runs a scratch program (``snippet.py``);
- ``doc``: prints the signature and docstring of a dotted symbol.

Results go to stdout on one line that starts with the request's nonce, so text the submission
prints cannot pass for a result. Every call catches ``BaseException``: a ``sys.exit`` inside the
submission fails that call, it does not end the run with a clean status.
"""

import datetime
import decimal
import importlib
import inspect
import json
import math
import os
import runpy
import socket
import sys
import traceback

MAX_TRACE = 1500


def _no_network(*args, **kwargs):
    raise OSError("network access is disabled in the migration sandbox")


def block_sockets():
    """Fallback network block (the sandbox also uses a network namespace where it can)."""
    for method in ("connect", "connect_ex", "bind", "sendto", "sendmsg"):
        setattr(socket.socket, method, _no_network)
    socket.create_connection = _no_network
    socket.getaddrinfo = _no_network


def norm(x, depth=0):
    """A JSON value that two library versions agree on when the results mean the same thing."""
    if depth > 20:
        return "<too deep>"
    d = depth + 1
    if x is None or isinstance(x, (bool, int, str)):
        return x if not isinstance(x, str) else str(x)
    if isinstance(x, float):
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return round(x, 6) + 0.0
    if isinstance(x, (datetime.date, datetime.datetime, datetime.time)):
        return x.isoformat()
    if isinstance(x, decimal.Decimal):
        return norm(float(x), d)
    if isinstance(x, dict):
        return {str(k): norm(v, d) for k, v in sorted(x.items(), key=lambda kv: str(kv[0]))}
    if isinstance(x, (list, tuple)):
        return [norm(v, d) for v in x]
    if isinstance(x, (set, frozenset)):
        return sorted((norm(v, d) for v in x), key=repr)
    kind = type(x).__name__
    module = type(x).__module__ or ""
    if module.startswith("pandas"):
        if kind == "DataFrame":
            return {"columns": norm(list(x.columns), d), "index": norm(list(x.index), d),
                    "data": norm(x.values.tolist(), d)}
        if kind == "Series":
            return {"name": norm(x.name, d), "index": norm(list(x.index), d), "values": norm(x.tolist(), d)}
        if hasattr(x, "tolist"):
            return norm(x.tolist(), d)
        if kind == "Timestamp":
            return x.isoformat()
    if module.startswith("numpy"):
        if hasattr(x, "tolist"):
            return norm(x.tolist(), d)
    if module.startswith("networkx"):
        return {"nodes": sorted(map(repr, x.nodes())), "edges": sorted(repr(sorted(map(repr, e))) for e in x.edges())}
    if hasattr(x, "model_dump"):
        return norm(x.model_dump(), d)
    if hasattr(x, "dict") and hasattr(x, "__fields__"):
        return norm(x.dict(), d)
    if hasattr(x, "_mapping"):
        return norm(tuple(x), d)
    if kind in ("Row", "LegacyRow", "RowProxy"):
        return norm(tuple(x), d)
    return f"<{kind}>"


def patched_names(library, solution_name="solution"):
    """Attributes of the library (module level and its classes) that now hold objects defined
    in the submission: a removed API re-added by monkeypatching, however it was written."""
    found = []
    for name in dir(library):
        try:
            value = getattr(library, name)
        except BaseException:  # noqa: BLE001 - lazy attributes may fail to load
            continue
        if getattr(value, "__module__", None) == solution_name and not isinstance(value, type(library)):
            found.append(name)
        if isinstance(value, type):
            for attr, member in list(vars(value).items()):
                target = getattr(member, "__func__", member)
                if getattr(target, "__module__", None) == solution_name:
                    found.append(f"{name}.{attr}")
    return sorted(set(found))


def _trace(exc):
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return text[-MAX_TRACE:]


def run_calls(request, namespace):
    results = []
    for call in request["calls"]:
        try:
            value = eval(call, dict(namespace))
            results.append({"ok": True, "value": norm(value)})
        except BaseException as exc:  # noqa: BLE001 - SystemExit from the submission fails the call
            results.append({"ok": False, "error": _trace(exc)})
    return {"results": results}


def run_doc(symbol):
    parts = symbol.strip().split(".")
    obj, found = None, 0
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
            found = i
            break
        except BaseException:  # noqa: BLE001
            continue
    if obj is None:
        return {"doc": f"no module named {parts[0]!r}"}
    for attr in parts[found:]:
        if not hasattr(obj, attr):
            return {"doc": "{} has no attribute {!r}".format(".".join(parts[:found]), attr)}
        obj = getattr(obj, attr)
        found += 1
    try:
        signature = str(inspect.signature(obj))
    except (TypeError, ValueError):
        signature = ""
    doc = inspect.getdoc(obj) or "(no docstring)"
    return {"doc": f"{symbol}{signature}\n\n{doc}"}


def main():
    request = json.loads(sys.stdin.read())
    sys.stdin.close()
    nonce = request.pop("nonce")
    block_sockets()
    sys.path.append(os.getcwd())  # -I leaves the script's directory off sys.path
    library = importlib.import_module(request["module"])
    out = {"version": getattr(library, "__version__", ""), "library_file": getattr(library, "__file__", "")}
    namespace = {}
    if request["mode"] == "calls":
        try:
            solution = importlib.import_module("solution")
            namespace = {k: v for k, v in vars(solution).items() if not k.startswith("__")}
        except BaseException as exc:  # noqa: BLE001
            out["import_error"] = _trace(exc)
    for alias, module in request.get("aliases", {}).items():
        namespace[alias] = importlib.import_module(module)
    if request["mode"] == "calls":
        if "import_error" in out:
            out["results"] = [{"ok": False, "error": out["import_error"]} for _ in request["calls"]]
        else:
            out.update(run_calls(request, namespace))
        out["patched"] = patched_names(library)
    elif request["mode"] == "batch":
        out["jobs"] = {}
        for job in request["jobs"]:
            try:
                ns = {k: v for k, v in vars(importlib.import_module(job["name"])).items() if not k.startswith("__")}
                for alias, module in job.get("aliases", {}).items():
                    ns[alias] = importlib.import_module(module)
                out["jobs"][job["name"]] = run_calls(job, ns)["results"]
            except BaseException as exc:  # noqa: BLE001
                out["jobs"][job["name"]] = [{"ok": False, "error": _trace(exc)} for _ in job["calls"]]
    elif request["mode"] == "snippet":
        try:
            runpy.run_path("snippet.py", run_name="__main__")
        except BaseException as exc:  # noqa: BLE001
            sys.stderr.write(_trace(exc))
    elif request["mode"] == "doc":
        out.update(run_doc(request["symbol"]))
    out["loaded"] = sorted({getattr(m, "__file__", None) or "" for m in list(sys.modules.values())} - {""})
    sys.stdout.flush()
    sys.stdout.write("\n" + nonce + json.dumps(out) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
