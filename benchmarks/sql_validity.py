"""Validity of the SQL verdict: how many plausible wrong queries it rejects, how many correct
rewrites it accepts, and what that costs.

For every gold query of the chosen splits, the wrong variants of
:mod:`arenas.verifiers.sql_variants` are generated; a variant counts when it runs and differs
from the gold on some generated database (the original, the shared neighbours or the targeted
copies). Per template and per family it prints the share of those the verdict rejects
*before* distillation (original + shared neighbours, the suite before this change) and *after*
(the real verdict, :func:`test_suite_equivalent`, with the distilled targeted copies), the
false-reject rate on correct rewrites of each gold (columns reversed, the query wrapped in a CTE
or a subquery) and on hand-written alternatives over Chinook (join order, subquery for join,
``IN`` for ``EXISTS``, aliases), the distilled suite size and the median verdict time.

    python benchmarks/sql_validity.py                # dev + test, every database
    python benchmarks/sql_validity.py --split test --db chinook
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict

from arenas.sql.data import database_path
from arenas.sql.tasks import load_tasks
from arenas.verifiers.sql import gold_suite, test_suite_equivalent
from arenas.verifiers.sql_distill import FAMILIES, cached_distill
from arenas.verifiers.sql_variants import variants

CHINOOK_ALTERNATIVES = [
    ('SELECT t."Name" FROM "Track" AS t JOIN "Genre" AS g ON t."GenreId" = g."GenreId" WHERE g."Name" = \'Jazz\'',
     'SELECT x."Name" FROM "Genre" AS y JOIN "Track" AS x ON y."GenreId" = x."GenreId" WHERE y."Name" = \'Jazz\''),
    ('SELECT t."Name" FROM "Track" AS t JOIN "Genre" AS g ON t."GenreId" = g."GenreId" WHERE g."Name" = \'Jazz\'',
     'SELECT "Name" FROM "Track" WHERE "GenreId" IN (SELECT "GenreId" FROM "Genre" WHERE "Name" = \'Jazz\')'),
    ('SELECT a."Title" FROM "Album" AS a WHERE EXISTS (SELECT 1 FROM "Track" AS t WHERE t."AlbumId" = a."AlbumId" '
     'AND t."Milliseconds" > 600000)',
     'SELECT "Title" FROM "Album" WHERE "AlbumId" IN (SELECT "AlbumId" FROM "Track" WHERE "Milliseconds" > 600000)'),
    ('SELECT c."Country", COUNT(*) FROM "Customer" AS c GROUP BY c."Country" HAVING COUNT(*) >= 3',
     'WITH k AS (SELECT "Country" AS country, COUNT("CustomerId") AS n FROM "Customer" GROUP BY 1) '
     'SELECT n, country FROM k WHERE n > 2'),
    ('SELECT i."InvoiceId", i."Total" FROM "Invoice" AS i WHERE i."Total" = (SELECT MAX("Total") FROM "Invoice")',
     'SELECT "InvoiceId", "Total" FROM "Invoice" WHERE NOT EXISTS '
     '(SELECT 1 FROM "Invoice" AS o WHERE o."Total" > "Invoice"."Total")'),
    ('SELECT ar."Name", COUNT(*) AS n FROM "Artist" AS ar JOIN "Album" AS al ON al."ArtistId" = ar."ArtistId" '
     'GROUP BY ar."ArtistId" ORDER BY n DESC, ar."Name" LIMIT 5',
     'SELECT a."Name", (SELECT COUNT(*) FROM "Album" AS b WHERE b."ArtistId" = a."ArtistId") AS c FROM "Artist" AS a '
     'ORDER BY c DESC, a."Name" LIMIT 5'),
    ('SELECT COUNT(*) FROM "Track" WHERE "Composer" IS NULL', 'SELECT COUNT(*) - COUNT("Composer") FROM "Track"'),
    ('SELECT e."LastName", m."LastName" FROM "Employee" AS e LEFT JOIN "Employee" AS m ON e."ReportsTo" = m."EmployeeId"',
     'SELECT e."LastName", (SELECT m."LastName" FROM "Employee" AS m WHERE m."EmployeeId" = e."ReportsTo") '
     'FROM "Employee" AS e'),
]


def rewrites(gold: str) -> list[str]:
    """Correct rewrites of a gold query: its columns reversed, the query in a CTE, in a subquery."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(gold, read="sqlite")
    out = [f"WITH answer AS ({gold}) SELECT * FROM answer", f"SELECT * FROM ({gold}) AS answer"]
    if isinstance(tree, exp.Select) and len(tree.expressions) > 1 and not tree.args.get("order"):
        flipped = tree.copy()
        flipped.set("expressions", list(reversed(flipped.expressions)))
        out.append(flipped.sql(dialect="sqlite"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", action="append", help="split(s) to check (default: dev and test)")
    parser.add_argument("--db", help="only this database")
    args = parser.parse_args()
    splits = args.split or ["dev", "test"]

    per_template: dict[str, list[float]] = defaultdict(lambda: [0.0] * 8)
    per_family: dict[str, list[int]] = {f: [0, 0, 0, 0] for f in FAMILIES}
    times: list[float] = []
    seen: set[str] = set()
    start = time.perf_counter()
    for split in splits:
        for task in load_tasks(split):
            db = task.prompt["db"]
            if args.db and db != args.db:
                continue
            path = database_path(db).resolve()
            for i, gold in enumerate(task.reference["gold"]):
                if gold in seen:
                    continue
                seen.add(gold)
                ctx = {"db": db, "db_path": str(path), "question": i}
                order = task.reference["order_matters"][i]
                suite = gold_suite(path, gold, order=order)
                distilled = cached_distill(path, gold, lambda: None)
                stats, differing = distilled.stats, set(distilled.differing)
                row = per_template[task.meta["template"]]
                t0 = time.perf_counter()
                test_suite_equivalent(gold, task.reference, ctx)
                times.append(time.perf_counter() - t0)
                row[0] += 1
                row[7] += len(suite)
                for family, s in stats.items():
                    row[1] += s[0]
                    row[2] += s[2]
                    row[3] += s[3]
                    per_family[family][0] += s[0]
                    per_family[family][1] += s[2]
                    per_family[family][2] += s[3]
                for v in variants(gold):  # "after": the real verdict on each variant that differs somewhere
                    if v.sql in differing and test_suite_equivalent(v.sql, task.reference, ctx).score == 0.0:
                        row[4] += 1
                        per_family[v.family][3] += 1
                for alt in rewrites(gold):
                    row[5] += 1
                    row[6] += test_suite_equivalent(alt, task.reference, ctx).score == 0.0

    print(f"{len(seen)} distinct gold queries ({', '.join(splits)}{', ' + args.db if args.db else ''}), "
          f"{time.perf_counter() - start:.0f} s (distillation cached on disk after the first run)")
    print("\n| template | golds | variants | differ somewhere | caught before | caught after | "
          "false rejects (rewrites) | mean suite size |\n|---|---:|---:|---:|---:|---:|---:|---:|")
    total = [0.0] * 8
    for name in sorted(per_template):
        r = per_template[name]
        total = [a + b for a, b in zip(total, r, strict=True)]
        print(_row(name, r))
    print(_row("**all**", total))
    print("\n| family | variants | differ somewhere | caught before | caught after |\n|---|---:|---:|---:|---:|")
    for family, (n, differ, before, after) in per_family.items():
        print(f"| {family} | {n} | {differ} | {_pct(before, differ)} | {_pct(after, differ)} |")

    chinook = database_path("chinook").resolve()
    false = 0
    for gold, alt in CHINOOK_ALTERNATIVES:
        ref = {"gold": [gold], "order_matters": ["ORDER BY" in gold]}
        false += test_suite_equivalent(alt, ref, {"db_path": str(chinook)}).score == 0.0
    print(f"\nhand-written correct alternatives on chinook: {false}/{len(CHINOOK_ALTERNATIVES)} rejected")
    print(f"gold self-verdict (suite cached): median {1000 * statistics.median(times):.2f} ms, "
          f"p90 {1000 * statistics.quantiles(times, n=10)[-1]:.2f} ms")


def _pct(a: float, b: float) -> str:
    return f"{100 * a / b:.1f}%" if b else "-"


def _row(name: str, r: list[float]) -> str:
    return (f"| {name} | {int(r[0])} | {int(r[1])} | {int(r[2])} | {_pct(r[3], r[2])} | {_pct(r[4], r[2])} | "
            f"{int(r[6])}/{int(r[5])} | {r[7] / max(r[0], 1):.1f} |")


if __name__ == "__main__":
    main()
