"""The search verifier on tiny hand-made indexes: the rank-incentive shaping and the metrics at
their rank boundaries, the hacking guards and the reply format. The "ladder" index holds 120
passages that tie on the query ``alpha``, so passage ``k`` is at rank ``k + 1`` (ties break by
passage order) and any rank can be asked for."""

import math

import pytest

from arenas.engines.search import load_index, write_index
from arenas.verifiers import search as sv

LADDER = 120
FACTS = {  # "Paris" occurs 4, 3, 2 and 1 times: BM25 ranks tower, capital, seine, louvre
    "curie": "Marie Curie discovered polonium and radium.",
    "tower": "Paris, Paris, Paris, Paris: the Eiffel Tower.",
    "capital": "Paris, Paris, Paris: the capital city.",
    "seine": "Paris, Paris: the Seine river here.",
    "louvre": "Paris: the Louvre shows the Mona Lisa.",
}


@pytest.fixture(scope="module")
def ladder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ladder")
    write_index(folder, [f"p{k:03d}" for k in range(LADDER)], [f"alpha item{k:03d}" for k in range(LADDER)])
    return str(folder)


@pytest.fixture(scope="module")
def facts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("facts")
    write_index(folder, list(FACTS), list(FACTS.values()))
    return str(folder)


def _at_rank(index, rank, rewrite="alpha", **context):
    return {"rewrite": rewrite}, {"gold": f"p{rank - 1:03d}"}, {"index": index, **context}


# ---- shaping and metrics ----------------------------------------------------------------------
@pytest.mark.parametrize("rank, expected", [
    (None, 0.0), (1, 1.0), (2, 17 / 18), (10, 0.5), (11, 89 / 180), (50, 50 / 180), (100, 0.0), (101, 0.0),
])
def test_rank_reward_is_half_the_papers_piecewise_shaping(rank, expected):
    # ConvSearch-R1: 19/9 - r/9 on ranks 1-10, 10/9 - r/90 on 11-100, 0 beyond; halved
    assert sv.rank_reward(rank) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("rank, incentive, mrr, r10, r100, ndcg", [
    (1, 1.0, 1.0, 1.0, 1.0, 1.0),
    (2, 17 / 18, 0.5, 1.0, 1.0, 1 / math.log2(3)),
    (3, 16 / 18, 1 / 3, 1.0, 1.0, 0.5),
    (4, 15 / 18, 0.25, 1.0, 1.0, 0.0),
    (10, 0.5, 0.1, 1.0, 1.0, 0.0),
    (11, 89 / 180, 0.0, 0.0, 1.0, 0.0),
    (100, 0.0, 0.0, 0.0, 1.0, 0.0),
    (101, 0.0, 0.0, 0.0, 0.0, 0.0),
])
def test_metrics_at_their_rank_boundaries(ladder, rank, incentive, mrr, r10, r100, ndcg):
    args = _at_rank(ladder, rank)
    for fn, expected in ((sv.rank_incentive, incentive), (sv.mrr_at_10, mrr), (sv.recall_at_10, r10),
                         (sv.recall_at_100, r100), (sv.ndcg_at_3, ndcg)):
        v = fn(*args)
        assert v.score == pytest.approx(expected, abs=1e-12), fn.__name__
        assert v.passed is (expected > 0) and v.details == {"rank": rank}


def test_a_gold_passage_the_query_does_not_reach_scores_zero(ladder):
    v = sv.rank_incentive(*_at_rank(ladder, 5, rewrite="banana"))
    assert v.score == 0.0 and not v.passed and v.details == {"rank": None}
    for fn in (sv.mrr_at_10, sv.recall_at_10, sv.recall_at_100, sv.ndcg_at_3):
        assert fn(*_at_rank(ladder, 5, rewrite="banana")).score == 0.0


# ---- guards -----------------------------------------------------------------------------------
def test_length_cap_counts_words_inclusively(ladder):
    ok = sv.rank_incentive(*_at_rank(ladder, 1, rewrite="alpha " + "x " * 39))  # 40 words
    assert ok.score == 1.0
    long = _at_rank(ladder, 1, rewrite="alpha " + "x " * 40)
    v = sv.rank_incentive(*long)
    assert v.score == 0.0 and not v.passed
    assert v.details == {"reason": "length cap exceeded", "words": 41, "copied_run": 0}
    assert sv.within_length(*long).details == {"words": 41} and sv.within_length(*long).passed is False
    capped = _at_rank(ladder, 1, rewrite="alpha x x", max_rewrite_words=2)
    assert sv.within_length(*capped).score == 0.0 and sv.rank_incentive(*capped).score == 0.0
    v = sv.within_length(*_at_rank(ladder, 1, rewrite="alpha x", max_rewrite_words=2))
    assert v.score == 1.0 and v.passed is True and v.details == {"words": 2}


def test_copy_guard_counts_runs_of_the_configured_length(ladder):
    seen = ("the answer was alpha one two three four five",)
    five = _at_rank(ladder, 1, rewrite="alpha one two three four", seen=seen)
    assert sv.rank_incentive(*five).score == 1.0
    v = sv.no_copy(*five)
    assert v.score == 1.0 and v.passed and v.details == {"copied_run": 5}
    six = _at_rank(ladder, 1, rewrite="alpha one two three four five", seen=seen)
    v = sv.rank_incentive(*six)
    assert v.score == 0.0 and v.details == {"reason": "copied passage text", "words": 6, "copied_run": 6}
    assert sv.no_copy(*six).score == 0.0 and sv.no_copy(*six).passed is False
    strict = _at_rank(ladder, 1, rewrite="alpha one two three four", seen=seen, copy_ngram=5)
    assert sv.no_copy(*strict).score == 0.0
    assert sv.no_copy(*_at_rank(ladder, 1, rewrite="alpha one two three four five")).details == {"copied_run": 0}


def test_copy_guard_blanks_the_titles_of_the_context(ladder):
    seen = ("marie curie found radium in paris",)
    copied = _at_rank(ladder, 1, rewrite="alpha marie curie found radium in paris", seen=seen)
    assert sv.no_copy(*copied).details == {"copied_run": 6}
    named = _at_rank(ladder, 1, rewrite="alpha marie curie found radium in paris", seen=seen, titles=("Marie Curie",))
    v = sv.no_copy(*named)
    assert v.score == 1.0 and v.details == {"copied_run": 4}


def test_longest_copied_run_by_hand():
    seen = ["Marie Curie found radium in Paris in 1898", "radium glows in the dark"]
    assert sv.longest_copied_run("found radium in paris today", seen, []) == 4
    assert sv.longest_copied_run("radium glows in the dark", seen, []) == 5
    assert sv.longest_copied_run("glows radium in", seen, []) == 2
    assert sv.longest_copied_run("nothing shared", seen, []) == 0
    assert sv.longest_copied_run("radium in", [], []) == 0


def test_titles_are_blanked_and_break_runs():
    seen = ["Marie Curie found radium"]
    # naming the entity is not copying: its title is blanked out of both texts
    assert sv.longest_copied_run("marie curie found radium", seen, ["Marie Curie"]) == 2
    assert sv.longest_copied_run("marie curie found radium", seen, []) == 4
    # a blanked title separates the words around it
    assert sv.longest_copied_run("a b Title c d", ["a b Title c d"], ["title"]) == 2
    # the longest title is blanked first, and only whole words
    seen = ["New York City has the Yorkshire terrier show"]
    assert sv.longest_copied_run("new york city has the yorkshire", seen, ["York", "New York City"]) == 3
    assert sv.longest_copied_run("new york has the", ["new york has the"], ["York"]) == 2


# ---- the reply --------------------------------------------------------------------------------
def test_parse_reply():
    assert sv.parse_reply("<think>x</think><rewrite>  Curie radium  </rewrite>") == ("Curie radium", None)
    assert sv.parse_reply("<rewrite>a\nb</rewrite>") == ("a\nb", None)
    assert sv.parse_reply("<rewrite>a</rewrite>", require_think=True) == (
        None, "the reply has no <think>...</think> block")
    assert sv.parse_reply("<think>\nwhy\n</think><rewrite>a</rewrite>", require_think=True) == ("a", None)
    assert sv.parse_reply("no block") == (
        None, "the reply must hold exactly one <rewrite>...</rewrite> block (found 0)")
    assert sv.parse_reply("<rewrite>a</rewrite><rewrite>b</rewrite>")[1].endswith("(found 2)")
    assert sv.parse_reply(None) == (None, "the reply is not text")
    assert sv.parse_reply("<rewrite>a\ud800</rewrite>") == (None, "the reply is not valid UTF-8")


def test_check_rewrite():
    assert sv.check_rewrite(" q ") == ("q", None)
    assert sv.check_rewrite(["q"]) == (None, "the rewrite must be a string")
    assert sv.check_rewrite("q\udfff") == (None, "the rewrite is not valid UTF-8")
    assert sv.check_rewrite(" ?! ") == (None, "the rewrite is empty")
    assert sv.check_rewrite("a" * sv.MAX_REWRITE_CHARS) == ("a" * sv.MAX_REWRITE_CHARS, None)
    too_long = "a " * (sv.MAX_REWRITE_CHARS // 2) + "b"
    assert sv.check_rewrite(too_long) == (None, f"the rewrite has {sv.MAX_REWRITE_CHARS + 1} characters; "
                                                f"at most {sv.MAX_REWRITE_CHARS} are read")


def test_format_components(ladder):
    good = _at_rank(ladder, 1)
    assert sv.format_ok(*good).score == 1.0 and sv.format_ok(*good).passed and sv.format_ok(*good).details == {}
    assert sv.format_violation(*good).score == 0.0 and not sv.format_violation(*good).passed
    bad = ({"rewrite": None, "error": "two blocks"}, {"gold": "p000"}, {"index": ladder})
    v = sv.format_ok(*bad)
    assert v.score == 0.0 and not v.passed and v.details == {"reason": "two blocks"}
    assert sv.format_violation(*bad).score == 1.0 and sv.format_violation(*bad).passed
    v = sv.rank_incentive(*bad)
    assert v.score == 0.0 and v.details == {"reason": "two blocks"}
    assert sv.format_ok({}, {"gold": "p000"}, {"index": ladder}).details == {"reason": "no rewrite"}
    errored = ({"rewrite": "alpha", "error": "late"}, {"gold": "p000"}, {"index": ladder})
    assert sv.format_ok(*errored).details == {"reason": "late"}
    assert sv.within_length(*bad).score == 0.0 and sv.within_length(*bad).details == {"words": None}
    assert sv.no_copy(*bad).score == 0.0 and sv.no_copy(*bad).details == {"copied_run": None}


# ---- agent mode -------------------------------------------------------------------------------
def test_answer_in_top3(facts):
    ref = {"gold": "louvre", "answer_span": "MONA LISA"}
    v = sv.answer_in_top3({"rewrite": "Louvre museum Mona Lisa"}, ref, {"index": facts})
    assert v.score == 1.0 and v.passed
    assert [pid for pid, _ in load_index(facts).top("Paris", 5)] == ["tower", "capital", "seine", "louvre"]
    v = sv.answer_in_top3({"rewrite": "Paris"}, ref, {"index": facts})  # the Mona Lisa passage is 4th
    assert v.score == 0.0 and not v.passed
    assert sv.answer_in_top3({"rewrite": "Paris"}, {"gold": "seine", "answer_span": "seine RIVER"},
                             {"index": facts}).score == 1.0
    v = sv.answer_in_top3({"rewrite": "Paris"}, {"gold": "louvre"}, {"index": facts})
    assert v.score == 0.0 and v.passed is False and v.details == {"reason": "no answer span for this turn"}
    v = sv.answer_in_top3({"rewrite": None, "error": "x"}, ref, {"index": facts})
    assert v.score == 0.0 and v.details == {"reason": "no usable query"}
    long = {"rewrite": "Louvre Mona Lisa " + "x " * 40}
    assert sv.answer_in_top3(long, ref, {"index": facts}).details == {"reason": "no usable query"}


def test_citation_and_answer_text():
    ref = {"gold": "curie", "answer_span": "Polonium"}
    v = sv.cited_gold({"cited": "curie"}, ref, {})
    assert v.score == 1.0 and v.passed is True
    v = sv.cited_gold({"cited": "tower"}, ref, {})
    assert v.score == 0.0 and v.passed is False
    assert sv.cited_gold({}, ref, {}).score == 0.0
    v = sv.answer_span_in_text({"text": "She found polonium."}, ref, {})
    assert v.score == 1.0 and v.passed
    assert sv.answer_span_in_text({"text": None}, ref, {}).score == 0.0
    v = sv.answer_span_in_text({"text": "polonium"}, {"gold": "curie", "answer_span": ""}, {})
    assert v.score == 0.0 and v.passed is False and v.details == {"reason": "no answer span for this turn"}
    assert sv.answer_span_in_text({"text": None}, {"gold": "curie", "answer_span": "XX"}, {}).score == 0.0


def test_rubrics(ladder):
    rubric = sv.make_rubric(format_penalty=0.5)
    weights = {c.name: c.weight for c in rubric.components}
    assert weights == {"rank_incentive": 1.0, "format_violation": -0.5, "mrr_at_10": 0.0, "recall_at_10": 0.0,
                       "recall_at_100": 0.0, "ndcg_at_3": 0.0, "format": 0.0, "within_length": 0.0, "no_copy": 0.0}
    assert rubric.success == "rank_incentive"
    out = rubric.score({"rewrite": None, "error": "x"}, {"gold": "p000"}, {"index": ladder})
    assert out.total == -0.5 and not out.passed
    out = rubric.score(*_at_rank(ladder, 3))
    assert out.total == pytest.approx(16 / 18) and out.passed
    assert out.components == pytest.approx({"rank_incentive": 16 / 18, "format_violation": 0.0, "mrr_at_10": 1 / 3,
                                            "recall_at_10": 1.0, "recall_at_100": 1.0, "ndcg_at_3": 0.5,
                                            "format": 1.0, "within_length": 1.0, "no_copy": 1.0})
    assert sv.make_rubric().score({"rewrite": None}, {"gold": "p000"}, {"index": ladder}).total == 0.0
    agent = sv.agent_rubric()
    assert agent.success == "cited_gold"
    out = agent.score({"rewrite": "alpha", "cited": "p002", "text": "item002"},
                      {"gold": "p002", "answer_span": "ITEM002"}, {"index": ladder})
    assert out.total == 1.0 and out.passed
    assert out.components == pytest.approx({"cited_gold": 1.0, "answer_span_in_text": 1.0, "answer_in_top3": 1.0,
                                            "rank_incentive": 16 / 18, "mrr_at_10": 1 / 3, "recall_at_10": 1.0,
                                            "recall_at_100": 1.0, "ndcg_at_3": 0.5, "within_length": 1.0,
                                            "no_copy": 1.0})
    assert {c.name: c.weight for c in agent.components} == {
        "cited_gold": 1.0, "answer_span_in_text": 0.0, "answer_in_top3": 0.0, "rank_incentive": 0.0, "mrr_at_10": 0.0,
        "recall_at_10": 0.0, "recall_at_100": 0.0, "ndcg_at_3": 0.0, "within_length": 0.0, "no_copy": 0.0}
