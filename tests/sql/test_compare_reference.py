"""Result comparison for execution equivalence, on hand-made rows: value normalisation, the
numeric tolerance, column permutations, and ties left open by the gold's ORDER BY (any order
inside a run of equal keys, any choice among tied rows at the LIMIT). No database involved."""

import pytest

from arenas.verifiers.sql_compare import (
    TIE_WINDOW,
    Probe,
    Ties,
    norm,
    norm_rows,
    results_equal,
    split_probe,
    tie_probe,
)


# ---- normalisation ----------------------------------------------------------------------------
@pytest.mark.parametrize("value, expected", [
    (3.0, 3), (-2.0, -2), (0.1 + 0.2, 0.3), (2 / 3, 0.666666667), (1234567891.5, 1234567890.0),
    (True, 1), (False, 0), ("3.0", "3.0"), (None, None), (7, 7),
    (2.0 ** 53 - 1, 2 ** 53 - 1), (2.0 ** 53, 9.00719925e15), (-(2.0 ** 53), -9.00719925e15),
])
def test_norm(value, expected):
    out = norm(value)
    assert out == expected and type(out) is type(expected)


def test_norm_keeps_non_finite_floats():
    assert norm(float("inf")) == float("inf") and norm(float("-inf")) == float("-inf")
    nan = float("nan")
    assert norm(nan) is nan


def test_norm_rows_changes_only_rows_with_floats_or_bools():
    plain = ("a", 1, None)
    rows = norm_rows([plain, ["b", 2.0, True], ("c", 0.5, "x")])
    assert rows == [("a", 1, None), ("b", 2, 1), ("c", 0.5, "x")]
    assert rows[0] is plain and type(rows[1][1]) is int and type(rows[1][2]) is int
    assert norm_rows([["a", 1], ("b", 2)]) == [("a", 1), ("b", 2)]
    assert norm_rows([]) == []


# ---- the tie probe ----------------------------------------------------------------------------
def test_tie_probe_raises_the_limit_by_the_window_and_names_the_keys():
    probe = tie_probe("SELECT name, total AS t FROM x ORDER BY t DESC, 1 LIMIT 4")
    assert probe.n_keys == 2 and probe.limit == 4
    assert probe.sql == (f"SELECT name, total AS t, total AS __tie_key_0, name AS __tie_key_1 FROM x "
                         f"ORDER BY t DESC, 1 LIMIT {4 + TIE_WINDOW}")


def test_tie_probe_without_limit_and_with_expressions():
    probe = tie_probe("select a, b from x order by a + b")
    assert probe.n_keys == 1 and probe.limit is None
    assert probe.sql == "SELECT a, b, a + b AS __tie_key_0 FROM x ORDER BY a + b"
    # a qualified column is never taken for an alias of the same name
    probe = tie_probe("SELECT y.a AS b, y.b AS a FROM y ORDER BY y.a")
    assert probe.sql.endswith("y.a AS __tie_key_0 FROM y ORDER BY y.a")
    # a positional key naming an unaliased column
    assert tie_probe("SELECT a, b FROM x ORDER BY 2").sql == "SELECT a, b, b AS __tie_key_0 FROM x ORDER BY 2"
    # a string literal is a constant, not a position
    assert tie_probe("SELECT a FROM x ORDER BY '1'").sql == "SELECT a, '1' AS __tie_key_0 FROM x ORDER BY '1'"


def test_tie_probe_reads_and_writes_sqlite():
    assert tie_probe("SELECT [a b] FROM x ORDER BY [a b]").sql == (
        'SELECT "a b", "a b" AS __tie_key_0 FROM x ORDER BY "a b"')
    assert tie_probe("SELECT IIF(a, 1, 2) FROM x ORDER BY 1").sql == (
        "SELECT IIF(a, 1, 2), IIF(a, 1, 2) AS __tie_key_0 FROM x ORDER BY 1")


def test_tie_probe_positional_keys_take_the_selected_expression():
    assert tie_probe("SELECT name, total AS t FROM x ORDER BY 2").sql == (
        "SELECT name, total AS t, total AS __tie_key_0 FROM x ORDER BY 2")
    assert tie_probe("SELECT x.a, x.b FROM x ORDER BY 2").sql == (
        "SELECT x.a, x.b, x.b AS __tie_key_0 FROM x ORDER BY 2")


@pytest.mark.parametrize("sql", [
    "SELECT a FROM x",
    "SELECT a FROM x WHERE note = 'order by'",  # the words appear but there is no ORDER BY clause
    "SELECT DISTINCT a FROM x ORDER BY a",
    "SELECT a FROM x ORDER BY a LIMIT 3 OFFSET 1",
    "SELECT a FROM x UNION SELECT b FROM y ORDER BY 1",
    "SELECT a FROM x UNION SELECT a FROM y ORDER BY a",
    "SELECT a, b FROM x ORDER BY 3",
    "SELECT a, b FROM x ORDER BY 0",
    "SELECT a FROM x ORDER BY a LIMIT (SELECT 2)",
    "SELECT a FROM x ORDER BY a LIMIT ?",
    "SELECT FROM WHERE ORDER BY",
])
def test_tie_probe_gives_up_where_it_cannot_be_done_safely(sql):
    assert tie_probe(sql) is None


def test_tie_probe_accepts_the_last_position():
    probe = tie_probe("SELECT a, b FROM x ORDER BY 2 DESC, 1")
    assert probe is not None and probe.n_keys == 2


# ---- splitting the probe's rows -------------------------------------------------------------
def test_split_probe_finds_runs_of_equal_keys():
    rows = [("a", 3), ("b", 2), ("c", 2), ("d", 1), ("e", 1), ("f", 0)]
    gold, ties = split_probe(rows, Probe("", 1, None))
    assert gold == [("a",), ("b",), ("c",), ("d",), ("e",), ("f",)]
    assert ties == Ties(((0, 1), (1, 3), (3, 5), (5, 6)), ())


def test_split_probe_collects_rows_tied_with_the_last_kept_one():
    rows = [("a", 3), ("b", 2), ("c", 2), ("d", 2), ("e", 1), ("f", 2)]
    gold, ties = split_probe(rows, Probe("", 1, 2))
    assert gold == [("a",), ("b",)]
    assert ties == Ties(((0, 1), (1, 2)), (("c",), ("d",), ("f",)))


def test_the_cut_pool_matches_the_last_kept_key_only():
    rows = [("a", 3), ("b", 2), ("c", 1), ("d", 1), ("e", 2)]
    gold, ties = split_probe(rows, Probe("", 1, 3))
    assert gold == [("a",), ("b",), ("c",)] and ties == Ties(((0, 1), (1, 2), (2, 3)), (("d",),))


def test_split_probe_without_ties_or_rows():
    assert split_probe([("a", 2.0), ("b", 1)], Probe("", 1, None)) == ([("a",), ("b",)], None)
    assert split_probe([("a", 2), ("b", 1), ("c", 0)], Probe("", 1, 2)) == ([("a",), ("b",)], None)
    assert split_probe([], Probe("", 1, 3)) == ([], None)
    assert split_probe([("a", 1)], Probe("", 1, 0)) == ([], None)


def test_split_probe_normalises_values_and_keys():
    gold, ties = split_probe([(1.0, 0.1 + 0.2, 2.0), (True, 0.3, 2)], Probe("", 2, None))
    assert gold == [(1,), (1,)] and ties == Ties(((0, 2),), ())


# ---- comparing results --------------------------------------------------------------------------
def test_empty_and_differently_shaped_results():
    assert results_equal([], [], True)
    assert not results_equal([(1,)], [], False) and not results_equal([], [(1,)], False)
    assert not results_equal([(1, 2)], [(1,)], False)
    assert not results_equal([(1,)], [(1, 1)], False)


def test_numeric_tolerance_is_relative_one_in_a_million():
    assert results_equal([(1_000_000.5,)], [(1_000_001.4,)], True)
    assert not results_equal([(1_000_000.5,)], [(1_000_002.0,)], True)
    assert results_equal([(1e-10,)], [(0.0,)], False)  # absolute 1e-9 near zero
    assert not results_equal([(1e-8,)], [(0.0,)], False)
    assert results_equal([(0.5, "a"), (1.0000004, "b")], [(1, "b"), (0.5, "a")], False)
    assert not results_equal([(0.5, "a"), (1.0000004, "b")], [(1, "a"), (0.5, "b")], False)


def test_tolerance_only_when_the_gold_has_floats():
    assert not results_equal([(1,), (2,)], [(1,), (3,)], False)
    assert not results_equal([("1",), ("2",)], [("1",), ("2.0",)], False)


def test_unordered_float_rows_are_matched_after_sorting_mixed_values():
    gold = [(None, 1.5), ("x", 0.25), (2, 0.125)]
    pred = [(2, 0.1250000001), (None, 1.5000000001), ("x", 0.2500000001)]
    assert results_equal(gold, pred, False)
    assert not results_equal(gold, pred, True)
    assert not results_equal(gold, [(2, 0.125), (None, 1.5), ("y", 0.25)], False)


def test_nulls_sort_apart_from_the_text_none():
    gold = [(None, 1.5), ("None", 1.5)]
    assert results_equal(gold, [("None", 1.5), (None, 1.5000001)], False)
    assert not results_equal(gold, [("None", 1.5000001), ("None", 1.5)], False)


def test_unordered_float_rows_pair_up_in_a_canonical_order():
    # nulls first, then numbers by value, then text: pairs the rows whatever their input order
    assert results_equal([(None, 1.5), (0, 1.5)], [(0, 1.5), (None, 1.5000001)], False)
    assert results_equal([(9.9999999,), (5,)], [(10,), (5,)], False)
    assert results_equal([("a", 1.5), ("b", 1.5)], [("b", 1.5), ("a", 1.5000001)], False)


def test_ordered_comparison_is_exact_or_within_tolerance_row_by_row():
    assert results_equal([(1, 0.3), (2, 0.5)], [(1, 0.30000000001), (2, 0.5)], True)
    assert not results_equal([(1, 0.3), (2, 0.5)], [(2, 0.5), (1, 0.3)], True)


def test_columns_may_come_in_any_order():
    assert results_equal([(1, "a", 2.5)], [(2.5, 1, "a")], True)
    assert results_equal([(1, "a"), (2, "b")], [("b", 2), ("a", 1)], False)
    assert not results_equal([(1, "a"), (2, "b")], [("a", 2), ("b", 1)], True)
    assert not results_equal([(1, "a"), (2, "b")], [("b", 2), ("a", 1)], True)  # columns swapped, rows too
    # duplicate columns: the permutation must match the rows, not just the column bags
    assert results_equal([(1, 1, 2), (3, 4, 3)], [(2, 1, 1), (3, 3, 4)], True)


def test_gold_already_normalised_is_not_normalised_again():
    assert results_equal([(1,)], [(True,)], True, gold_normalised=True)
    assert not results_equal([(True,)], [(1.5,)], True, gold_normalised=True)
    assert results_equal([(0.1 + 0.2,)], [(0.3,)], True)
    # column bags compare normalised values
    assert results_equal([(0.1 + 0.2, "a")], [("a", 0.3)], True)
    assert not results_equal([(0.1 + 0.2, "a")], [("a", 0.3)], True, gold_normalised=True)


# ---- ties -----------------------------------------------------------------------------------------
def test_any_order_inside_a_run_of_equal_keys():
    gold = [("a",), ("b",), ("c",), ("d",)]
    ties = Ties(((0, 1), (1, 3), (3, 4)))
    assert results_equal(gold, [("a",), ("c",), ("b",), ("d",)], True, ties)
    assert not results_equal(gold, [("b",), ("a",), ("c",), ("d",)], True, ties)
    assert not results_equal(gold, [("a",), ("c",), ("b",), ("e",)], True, ties)
    assert not results_equal(gold, [("a",), ("c",), ("b",), ("d",)], True)  # no ties: strict order


def test_any_tied_row_may_fill_the_last_run():
    gold = [("a",), ("b",), ("c",)]
    ties = Ties(((0, 1), (1, 3)), (("d",), ("e",)))
    for pred in ([("a",), ("e",), ("b",)], [("a",), ("d",), ("e",)], [("a",), ("c",), ("b",)]):
        assert results_equal(gold, pred, True, ties), pred
        assert results_equal(gold, pred[::-1], False, ties), pred
    assert not results_equal(gold, [("e",), ("a",), ("b",)], True, ties)  # the head run is fixed in order
    assert not results_equal(gold, [("a",), ("d",), ("d",)], True, ties)  # each tied row once
    assert not results_equal(gold, [("b",), ("c",), ("d",)], False, ties)  # "a" must stay
    assert not results_equal(gold, [("a",), ("b",), ("z",)], False, ties)


def test_only_the_last_run_is_open_at_the_cut():
    gold = [("a",), ("b",), ("c",), ("d",)]
    ties = Ties(((0, 1), (1, 2), (2, 4)), (("e",),))
    assert results_equal(gold, [("a",), ("b",), ("e",), ("c",)], True, ties)
    assert results_equal(gold, [("e",), ("d",), ("a",), ("b",)], False, ties)
    assert not results_equal(gold, [("a",), ("c",), ("d",), ("e",)], True, ties)  # "b" has its own key
    assert not results_equal(gold, [("a",), ("e",), ("c",), ("d",)], False, ties)


def test_tied_rows_with_columns_in_another_order():
    gold = [(1, "a"), (2, "b")]
    ties = Ties(((0, 1), (1, 2)), ((2, "c"),))
    assert results_equal(gold, [("a", 1), ("c", 2)], True, ties)
    assert not results_equal(gold, [("a", 1), ("d", 2)], True, ties)


def test_tied_rows_in_four_columns_in_any_order():
    gold = [(1, "a", "x", 10), (2, "b", "y", 20)]
    ties = Ties(((0, 1), (1, 2)), ((3, "c", "z", 20),))
    assert results_equal(gold, [(10, "x", "a", 1), (20, "z", "c", 3)], True, ties)


def test_tied_rows_in_five_columns_in_the_gold_order():
    gold = [(1, "a", "x", 10, "p"), (2, "b", "y", 20, "q")]
    ties = Ties(((0, 1), (1, 2)), ((3, "c", "z", 20, "r"),))
    assert results_equal(gold, [(1, "a", "x", 10, "p"), (3, "c", "z", 20, "r")], True, ties)


def test_ties_with_unordered_comparison_and_no_pool_is_a_bag_comparison():
    ties = Ties(((0, 2),))
    assert results_equal([("a",), ("b",)], [("b",), ("a",)], False, ties)
    assert not results_equal([("a",), ("a",)], [("a",), ("b",)], False, ties)


def test_permutations_are_bounded():
    # 9 identical columns have 9! column orders; only the first 256 candidates are tried
    gold = [tuple([1] * 9)]
    assert results_equal(gold, [tuple([1] * 9)], True)
    assert not results_equal(gold, [tuple([1] * 8 + [2])], True)
