"""The corpus, the index and the generated conversations: pinned source, passages, splits, filter."""

import hashlib
import json

from arenas.engines.search import load_index
from arenas.search import articles, corpus
from arenas.search.conversations import SPLITS, split_of


def test_source_is_pinned_and_complete():
    data = corpus.summaries_bytes()
    assert hashlib.sha256(data).hexdigest() == corpus.SUMMARIES_SHA256
    assert len(json.loads(data)) == corpus.ARTICLES


def test_sentences_split_after_full_stops_not_initials_or_abbreviations():
    text = ("2001 is a film by Arthur C. Clarke and Stanley Kubrick. It was made in the U.K. in 1968! "
            "Was it good? Dr. Smith thought so.")
    assert articles.split_sentences(text) == [
        "2001 is a film by Arthur C. Clarke and Stanley Kubrick.", "It was made in the U.K. in 1968!",
        "Was it good?", "Dr. Smith thought so."]


def test_passages_hold_one_to_three_sentences():
    sentences = [f"Sentence number {i} has exactly seven words." for i in range(7)]
    groups = articles.group_passages(sentences)
    assert [len(articles.split_sentences(g)) for g in groups] == [3, 3, 1] or \
        all(1 <= len(articles.split_sentences(g)) <= 3 for g in groups)
    assert " ".join(groups) == " ".join(sentences)


def test_corpus_has_many_passages_with_stable_unique_ids():
    passages = corpus.passages()
    assert len(passages) >= 10_000
    assert all(pid.startswith("w") and "." in pid for pid in passages)
    by_article = {}
    for pid in passages:
        by_article.setdefault(pid.split(".")[0], []).append(pid)
    assert sum(len(v) > 1 for v in by_article.values()) > 5000  # entities have several passages
    index = load_index(corpus.index_folder())
    assert index.ids == list(passages)


def test_splits_are_large_enough_and_share_no_entity():
    entities = {s: {e for c in corpus.conversations(s) for e in c["entities"]} for s in SPLITS}
    questions = {s: sum(t["scored"] for c in corpus.conversations(s) for t in c["turns"]) for s in SPLITS}
    assert questions["train"] >= 2000 and questions["test"] >= 300
    assert not entities["train"] & entities["test"] and not entities["train"] & entities["dev"]
    assert not entities["dev"] & entities["test"]
    for s in SPLITS:  # a conversation's split is its opening entity's
        assert all(split_of(c["entities"][0]) == s for c in corpus.conversations(s))


def test_kept_turns_pass_the_filter_with_the_arena_retriever():
    index = load_index(corpus.index_folder())
    turns = [t for c in corpus.conversations("test")[:120] for t in c["turns"] if t["scored"]]
    for t in turns:
        raw = index.rank(t["utterance"], t["gold"])
        assert raw is None or raw > 10, t
        assert index.rank(t["rewrite"], t["gold"]) <= 3, t
    stats = corpus.stats("test")
    assert stats["candidates"] == stats["kept"] + stats["dropped"]
    assert stats["dropped_raw_in_top10"] > 0


def test_conversations_shift_topic_and_use_context():
    convs = corpus.conversations("train")
    kinds = {t["kind"] for c in convs for t in c["turns"]}
    assert {"opener", "pronoun", "noun_phrase", "ellipsis", "implicit_shift", "shift"} <= kinds
    assert sum(len(c["entities"]) > 1 for c in convs) > 300
    for c in convs[:200]:  # a shift goes to an entity written in an earlier answer
        for i, t in enumerate(c["turns"]):
            if t["kind"] in ("shift", "implicit_shift"):
                assert t["entity"] in " ".join(x["answer"] for x in c["turns"][:i])


def test_real_build_is_deterministic_and_matches_the_pinned_digests(tmp_path, monkeypatch):
    """A fresh build (10-40 s) writes byte-identical files, the passages and conversations pinned."""
    cached = corpus.data_folder()
    monkeypatch.setenv("ARENAS_HOME", str(tmp_path))
    monkeypatch.setattr(corpus, "_FOLDER", {})
    fresh = corpus.data_folder(progress=False)
    assert fresh != cached
    a = json.loads((cached / "MANIFEST.json").read_text())["files"]
    b = json.loads((fresh / "MANIFEST.json").read_text())["files"]
    assert a == b
    assert {name: b[name] for name in corpus.EXPECTED_SHA256} == corpus.EXPECTED_SHA256
