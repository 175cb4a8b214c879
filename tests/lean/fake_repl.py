"""A stand-in for the Lean REPL process, speaking its stdin/stdout framing byte for byte.

Modes (argv[1]):
  replay <file.in> <file.expected.out>  answers each request with the recorded response block,
                                        after checking the request is the recorded one
  script <responses.json>               answers requests in order with the given JSON objects
                                        (requests are appended to <responses.json>.log)
  silent                                reads requests and never answers (deadline tests)
  crash                                 exits after reading the first request
  hog                                   allocates memory until the address-space limit stops it
  accept                                a lenient Lean: every command elaborates; a `sorry` gets its
                                        warning and proof state, `#print axioms X` the standard three
"""

import json
import re
import sys
import time


def blocks(text):
    return [b for b in re.split(r"\n\s*\n", text) if b.strip()]


def requests():
    buffer = []
    for line in sys.stdin:
        if line.strip():
            buffer.append(line)
        elif buffer:
            yield json.loads("".join(buffer), strict=False)
            buffer = []
    if buffer:
        yield json.loads("".join(buffer), strict=False)


def answer(text):
    sys.stdout.write(text.rstrip("\n") + "\n\n")
    sys.stdout.flush()


def accept(request, env):
    if "tactic" in request:
        return {"proofStatus": "Completed", "proofState": env, "goals": []}
    messages, sorries = [], []
    for line, text in enumerate(request.get("cmd", "").splitlines(), start=1):
        pos = {"line": line, "column": 0}
        if "sorry" in text:
            messages.append({"severity": "warning", "pos": pos, "endPos": pos, "data": "declaration uses `sorry`"})
            sorries.append({"proofState": len(sorries), "pos": pos, "endPos": pos, "goal": "⊢ True"})
        m = re.match(r"#print axioms (\S+)", text)
        if m:
            messages.append({"severity": "info", "pos": pos, "endPos": pos,
                             "data": f"'{m.group(1)}' depends on axioms: [propext, Classical.choice, Quot.sound]"})
    return {"sorries": sorries, "messages": messages, "env": env}


def main():
    mode = sys.argv[1]
    if mode == "replay":
        expected_requests = [json.loads(b, strict=False) for b in blocks(open(sys.argv[2], encoding="utf-8").read())]
        responses = blocks(open(sys.argv[3], encoding="utf-8").read())
        for i, request in enumerate(requests()):
            if request != expected_requests[i]:
                answer(json.dumps({"message": f"fake: unexpected request {request!r}"}))
                continue
            answer(responses[i])
    elif mode == "script":
        responses = json.load(open(sys.argv[2], encoding="utf-8"))
        log = open(sys.argv[2] + ".log", "a", encoding="utf-8")
        for i, request in enumerate(requests()):
            log.write(json.dumps(request) + "\n")
            log.flush()
            answer(json.dumps(responses[i] if i < len(responses) else {"message": "fake: no more responses"},
                              indent=1, ensure_ascii=False))
    elif mode == "accept":
        for env, request in enumerate(requests()):
            answer(json.dumps(accept(request, env), indent=1, ensure_ascii=False))
    elif mode == "silent":
        for _ in requests():
            time.sleep(3600)
    elif mode == "crash":
        for _ in requests():
            sys.exit(3)
    elif mode == "hog":
        for _ in requests():
            hoard = []
            while True:
                hoard.append(bytearray(50 * 1024 * 1024))


if __name__ == "__main__":
    main()
