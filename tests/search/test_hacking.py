"""Reward hacking the arena must defeat: long rewrites, copied passage text, leaked gold ids."""

import json

import pytest

import arenas
from arenas.search import corpus
from arenas.search.arena import context_for
from arenas.verifiers.search import longest_copied_run


@pytest.fixture(scope="module")
def arena():
    with arenas.make("search", split="test") as a:
        yield a


def _first_question(arena, task):
    arena.reset(task=task)
    return task.reference["questions"][0], context_for(task, 0, arena.cfg)


def _score(arena, task, rewrite, question=0):
    ref = task.reference["questions"][question]
    return arena.rubric.score({"rewrite": rewrite, "error": None}, ref, context_for(task, question, arena.cfg))


def test_pasting_the_history_or_a_bag_of_words_scores_zero(arena):
    pasted = 0
    for task in list(arena.tasks("test"))[:80]:
        ref = task.reference["questions"][0]
        gold_words = corpus.passages()[ref["gold"]].text.split()
        bag = " ".join([ref["rewrite"]] + gold_words * (1 + 60 // len(gold_words)))  # the best bag of words
        bd = _score(arena, task, bag)
        assert bd.total == 0.0 and bd.components["within_length"] == 0.0 and not bd.passed
        pos = next(i for i, t in enumerate(task.prompt["turns"]) if t["scored"])
        history = " ".join(f"{t['utterance']} {t['answer']}" for t in task.prompt["turns"][:pos])
        history += " " + task.prompt["turns"][pos]["utterance"]
        if len(history.split()) > arena.cfg.max_rewrite_words:
            assert _score(arena, task, history).total == 0.0
            pasted += 1
        assert _score(arena, task, ref["rewrite"]).total > 0  # the gold rewrite itself is within the cap
    assert pasted >= 20


def test_copying_an_earlier_answer_scores_zero(arena):
    checked = 0
    for task in arena.tasks("test"):
        turns = task.prompt["turns"]
        positions = [i for i, t in enumerate(turns) if t["scored"]]
        for q, pos in enumerate(positions):
            if pos == 0:
                continue
            earlier = turns[pos - 1]["answer"]
            copied = " ".join(earlier.split()[:30])
            bd = _score(arena, task, copied, q)
            run = longest_copied_run(copied, [earlier], task.reference["entities"])
            assert bd.components["no_copy"] == float(run < arena.cfg.copy_ngram)
            if run >= arena.cfg.copy_ngram:
                assert bd.total == 0.0 and bd.details["rank_incentive"]["reason"] == "copied passage text"
                checked += 1
            assert _score(arena, task, task.reference["questions"][q]["rewrite"], q).components["no_copy"] == 1.0
        if checked >= 60:
            break
    assert checked >= 60


def test_gold_passage_ids_never_reach_the_agent(arena):
    for task in list(arena.tasks("test"))[:100]:
        golds = [q["gold"] for q in task.reference["questions"]]
        assert not any(g in json.dumps(task.prompt) for g in golds)
        obs = arena.reset(task=task)
        seen = [m["content"] for m in obs.messages]
        policy = arena.policy("oracle")
        result = None
        while result is None or not result.done:
            result = arena.step(policy(obs))
            obs = result.observation
            seen += [m["content"] for m in obs.messages] + [json.dumps(result.info.get("rank"))]
        assert not any(g in text for g in golds for text in seen)


def test_the_oracle_survives_every_guard(arena):
    for task in arena.tasks("test"):
        for q, ref in enumerate(task.reference["questions"]):
            bd = _score(arena, task, ref["rewrite"], q)
            assert bd.passed and bd.components["no_copy"] == bd.components["within_length"] == 1.0
