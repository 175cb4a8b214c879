"""The retriever and the reward: exact ranks, the rank-incentive shaping, metrics, reply parsing."""

import math

import numpy as np
import pytest

from arenas.engines.search import load_index, tokenize
from arenas.search import corpus
from arenas.verifiers import search as v


@pytest.fixture(scope="module")
def index():
    return load_index(corpus.index_folder())


def test_rank_agrees_with_a_full_sort_of_bm25s_scores(index):
    for query in ("Stanley Kubrick science fiction film", "volcano eruption lava", "Roman emperor"):
        scores = index.bm25.get_scores(tokenize(query))
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        for pos in (0, 1, 5, 50):
            expected = pos + 1 if scores[order[pos]] > 0 else None
            assert index.rank(query, index.ids[order[pos]]) == expected
        assert [pid for pid, _ in index.top(query, 10)] == [index.ids[i] for i in order[:10] if scores[i] > 0]


def test_bm25_parameters_are_the_papers(index):
    assert (index.bm25.k1, index.bm25.b) == (0.9, 0.4)


def test_ties_break_by_passage_order_and_zero_scores_are_never_retrieved(index):
    q = "the of and"  # stopwords only: nothing matches
    assert index.rank(q, index.ids[0]) is None and index.top(q, 5) == []
    scores = index.scores("Paris")
    tied = np.flatnonzero(scores == scores.max())
    assert index.rank("Paris", index.ids[tied[0]]) == 1
    if len(tied) > 1:
        assert index.rank("Paris", index.ids[tied[1]]) == 2


def test_rank_incentive_shaping():
    assert v.rank_reward(1) == pytest.approx(1.0)
    assert v.rank_reward(10) == pytest.approx(0.5)
    assert v.rank_reward(11) == pytest.approx((10 / 9 - 11 / 90) / 2)
    assert v.rank_reward(100) == pytest.approx(0.0)
    assert v.rank_reward(101) == 0.0 and v.rank_reward(None) == 0.0
    rewards = [v.rank_reward(r) for r in range(1, 101)]
    assert all(a > b for a, b in zip(rewards, rewards[1:], strict=False))  # strictly decreasing


def _turn():
    conv = next(c for c in corpus.conversations("test") if sum(t["scored"] for t in c["turns"]) >= 2)
    i = [k for k, t in enumerate(conv["turns"]) if t["scored"]][1]
    turn = conv["turns"][i]
    context = {"index": str(corpus.index_folder()), "seen": tuple(t["answer"] for t in conv["turns"][:i]),
               "titles": tuple(conv["entities"])}
    return turn, {"gold": turn["gold"], "answer_span": turn["answer_span"]}, context


def test_components_of_the_gold_rewrite_and_the_raw_utterance():
    turn, ref, ctx = _turn()
    rubric = v.make_rubric()
    gold = rubric.score({"rewrite": turn["rewrite"], "error": None}, ref, ctx)
    r = turn["rewrite_rank"]
    assert gold.components["mrr_at_10"] == pytest.approx(1 / r)
    assert gold.components["ndcg_at_3"] == pytest.approx(1 / math.log2(r + 1))
    assert gold.components["recall_at_10"] == gold.components["recall_at_100"] == 1.0
    assert gold.total == pytest.approx(v.rank_reward(r)) and gold.passed
    raw = rubric.score({"rewrite": turn["utterance"], "error": None}, ref, ctx)
    assert raw.components["recall_at_10"] == 0.0 and raw.total < gold.total


def test_format_violation_pays_the_penalty():
    _, ref, ctx = _turn()
    bd = v.make_rubric(format_penalty=1.0).score({"rewrite": None, "error": "no rewrite"}, ref, ctx)
    assert bd.total == -1.0 and bd.components["format"] == 0.0 and not bd.passed


@pytest.mark.parametrize(("reply", "ok"), [
    ("<think>x</think><rewrite>Ada Lovelace engine</rewrite>", True),
    ("<rewrite>Ada Lovelace engine</rewrite>", True),
    ("Ada Lovelace engine", False),
    ("<rewrite>a</rewrite><rewrite>b</rewrite>", False),
    ("<rewrite>   </rewrite>", False),
    ("<rewrite>" + "word " * 300_000 + "</rewrite>", False),
    ("<rewrite>\udcff bad</rewrite>", False),
])
def test_parse_reply(reply, ok):
    rewrite, error = v.parse_reply(reply)
    assert (rewrite is not None) == ok and (error is None) == ok


def test_require_think():
    assert v.parse_reply("<rewrite>q</rewrite>", require_think=True)[1] == "the reply has no <think>...</think> block"


def test_longest_copied_run_ignores_titles():
    seen = ["Ada Lovelace was an English mathematician and writer chiefly known for her work on the engine."]
    assert v.longest_copied_run("What is Ada Lovelace known for?", seen, ["Ada Lovelace"]) <= 2
    copied = "an English mathematician and writer chiefly known for her work"
    assert v.longest_copied_run(copied, seen, ["Ada Lovelace"]) == 10
