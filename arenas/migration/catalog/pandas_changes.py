"""pandas 1.5 -> 2.2: removals of the 2.0 release (deprecations enforced) and changed defaults."""

from arenas.migration.catalog.base import Change, record_lists, record_lists_and_one

V2 = "https://pandas.pydata.org/docs/whatsnew/v2.0.0.html#removal-of-prior-version-deprecations-changes"
PD = (("pd", "pandas"),)

CHANGES = [
    Change(
        "pandas.DataFrame.append", "pandas", "DataFrame.append was removed; use pd.concat", V2,
        ("method:append",),
        '''import pandas as pd


def add_${entity}(${things}, new_${entity}):
    """Append one ${entity} to a table of ${things} and return per-${key} totals of ${value}."""
    df = pd.DataFrame(${things})
    «df = df.append(new_${entity}, ignore_index=True)¦df = pd.concat([df, pd.DataFrame([new_${entity}])], ignore_index=True)»
    totals = df.groupby("${key}")["${value}"].sum().sort_index()
    return {"rows": len(df), "totals": totals.to_dict()}
''', "add_${entity}", "Adds a new ${entity} to the ${things} table and totals ${value} per ${key}.",
        record_lists_and_one(), PD),
    Change(
        "pandas.Series.iteritems", "pandas", "Series/DataFrame.iteritems was removed; use .items()", V2,
        ("attr:iteritems",),
        '''import pandas as pd


def ${key}_report(${things}):
    """One text line per ${key} with its mean ${value}, in ${key} order."""
    df = pd.DataFrame(${things})
    means = df.groupby("${key}")["${value}"].mean().round(2)
    lines = []
    for name, mean in means.«iteritems¦items»():
        lines.append(f"{name}: {mean:.2f}")
    return lines
''', "${key}_report", "Reports the mean ${value} of each ${key}.", record_lists(), PD),
    Change(
        "pandas.Series.append", "pandas", "Series.append was removed; use pd.concat", V2, ("method:append",),
        '''import pandas as pd


def extend_${value}_series(values, extra):
    """Extend a ${value} series with extra values and summarise it."""
    s = pd.Series(values, name="${value}")
    «s = s.append(pd.Series(extra), ignore_index=True)¦s = pd.concat([s, pd.Series(extra)], ignore_index=True)»
    return {"n": int(s.size), "max": float(s.max()), "median": float(s.median())}
''', "extend_${value}_series", "Extends a series of ${value} values and summarises it.",
        lambda rng, d: [f"{[rng.randint(1, 50) for _ in range(rng.randint(2, 6))]}, "
                        f"{[rng.randint(1, 50) for _ in range(rng.randint(1, 4))]}" for _ in range(6)], PD),
    Change(
        "pandas.Index.is_monotonic", "pandas", "Index/Series.is_monotonic was removed; use is_monotonic_increasing",
        V2, ("attr:is_monotonic",),
        '''import pandas as pd


def ${value}_trend(values):
    """Classify a sequence of ${value} values as rising, falling or mixed."""
    s = pd.Series(values)
    if s.«is_monotonic¦is_monotonic_increasing»:
        return "rising"
    if s.is_monotonic_decreasing:
        return "falling"
    return "mixed"
''', "${value}_trend", "Says whether ${value} values rise, fall or neither.",
        lambda rng, d: [repr(sorted(rng.sample(range(60), 4))) if i % 2 else repr([rng.randint(0, 9)
                        for _ in range(5)]) for i in range(6)], PD),
    Change(
        "pandas.read_csv.squeeze", "pandas", "read_csv(squeeze=True) was removed; call .squeeze('columns')", V2,
        ("kw:read_csv:squeeze",),
        '''import io

import pandas as pd


def parse_${value}_column(text):
    """Parse a one-column CSV export of ${value} values into a series and summarise it."""
    «s = pd.read_csv(io.StringIO(text), squeeze=True)¦s = pd.read_csv(io.StringIO(text)).squeeze("columns")»
    return {"name": s.name, "total": int(s.sum()), "count": int(s.count())}
''', "parse_${value}_column", "Parses a one-column CSV of ${value} values.",
        lambda rng, d: [repr(d["value"] + "\n" + "\n".join(
            str(rng.randint(1, 99)) for _ in range(rng.randint(2, 7))) + "\n") for _ in range(6)], PD),
    Change(
        "pandas.DataFrame.mad", "pandas", "DataFrame/Series.mad was removed; compute (x - x.mean()).abs().mean()",
        V2, ("method:mad",),
        '''import pandas as pd


def ${value}_dispersion(${things}):
    """Mean absolute deviation of ${value} per ${key}."""
    df = pd.DataFrame(${things})
    out = {}
    for name, group in df.groupby("${key}"):
        «out[name] = round(float(group["${value}"].mad()), 4)¦col = group["${value}"]
        out[name] = round(float((col - col.mean()).abs().mean()), 4)»
    return out
''', "${value}_dispersion", "Mean absolute deviation of ${value} for each ${key}.", record_lists(), PD),
    Change(
        "pandas.groupby.numeric_only", "pandas",
        "GroupBy.mean no longer drops non-numeric columns silently (numeric_only defaults to False)",
        "https://pandas.pydata.org/docs/whatsnew/v2.0.0.html#dataframegroupby-agg-with-lists",
        (),
        '''import pandas as pd


def ${key}_means(${things}):
    """Mean of every numeric column per ${key}; text columns are ignored."""
    df = pd.DataFrame(${things})
    df["note"] = "${entity}"
    df["double"] = df["${value}"] * 2
    means = df.groupby("${key}").mean(«¦numeric_only=True»)
    return means.round(3).to_dict()
''', "${key}_means", "Averages the numeric columns of ${things} per ${key}.", record_lists(), PD),
    Change(
        "pandas.str.replace.regex", "pandas",
        "Series.str.replace now treats the pattern literally by default (regex=False)",
        "https://pandas.pydata.org/docs/whatsnew/v2.0.0.html#other-api-changes",
        (),
        '''import pandas as pd


def clean_${key}_codes(codes):
    """Strip every non-letter from raw ${key} codes and upper-case them."""
    s = pd.Series(codes)
    cleaned = s.str.replace(r"[^a-zA-Z]", ""«¦, regex=True»).str.upper()
    return cleaned.tolist()
''', "clean_${key}_codes", "Normalises raw ${key} codes to letters only.",
        lambda rng, d: [repr([f"{rng.randint(1, 9)}-{lab}.{rng.randint(10, 99)}"
                              for lab in rng.sample(d["labels"], 3)]) for _ in range(6)], PD),
    Change(
        "pandas.dt.weekofyear", "pandas", "Series.dt.weekofyear was removed; use dt.isocalendar().week", V2,
        ("attr:weekofyear",),
        '''import pandas as pd


def ${things}_per_week(dates):
    """Count ${things} per ISO week number from their ISO dates."""
    s = pd.to_datetime(pd.Series(dates))
    weeks = «s.dt.weekofyear¦s.dt.isocalendar().week.astype("int64")»
    counts = weeks.value_counts().sort_index()
    return {int(k): int(v) for k, v in counts.items()}
''', "${things}_per_week", "Counts ${things} per ISO week.",
        lambda rng, d: [repr([f"2023-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" for _ in range(5)])
                        for _ in range(6)], PD),
    Change(
        "pandas.set_axis.inplace", "pandas", "set_axis(inplace=...) was removed; assign the result", V2,
        ("kw:set_axis:inplace",),
        '''import pandas as pd


def rename_${entity}_columns(${things}, suffix):
    """Add a suffix to every column name of the ${things} table."""
    df = pd.DataFrame(${things})
    «df.set_axis([c + suffix for c in df.columns], axis=1, inplace=True)¦df = df.set_axis([c + suffix for c in df.columns], axis=1)»
    return sorted(df.columns)
''', "rename_${entity}_columns", "Suffixes the columns of the ${things} table.",
        lambda rng, d: [f"{record_lists(1)(rng, d)[0]}, {rng.choice(['_x', '_raw', '_2023'])!r}" for _ in range(6)],
        PD),
    Change(
        "pandas.drop.positional_axis", "pandas",
        "DataFrame.drop takes axis as a keyword only; use drop(columns=...)",
        "https://pandas.pydata.org/docs/whatsnew/v2.0.0.html#removal-of-prior-version-deprecations-changes",
        ("args:drop:2",),
        '''import pandas as pd


def ${things}_without_${value}(${things}):
    """The ${things} table without its ${value} column, as records sorted by ${key}."""
    df = pd.DataFrame(${things})
    «df = df.drop("${value}", 1)¦df = df.drop(columns="${value}")»
    return df.sort_values("${key}").to_dict("records")
''', "${things}_without_${value}", "Drops the ${value} column from the ${things} table.",
        record_lists(), PD),
    Change(
        "pandas.sum.level", "pandas", "Series.sum(level=...) was removed; use groupby(level=...).sum()", V2,
        ("kw:sum:level",),
        '''import pandas as pd


def ${value}_by_${key}(${things}):
    """Total ${value} per ${key} from a (${key}, ${entity} number) indexed series."""
    df = pd.DataFrame(${things})
    df["n"] = range(len(df))
    s = df.set_index(["${key}", "n"])["${value}"]
    totals = «s.sum(level=0)¦s.groupby(level=0).sum()»
    return totals.sort_index().to_dict()
''', "${value}_by_${key}", "Totals ${value} per ${key} from a two-level index.", record_lists(), PD),
    Change(
        "pandas.Int64Index", "pandas", "pd.Int64Index was removed; use pd.Index(..., dtype='int64')", V2,
        ("api:pandas.Int64Index",),
        '''import pandas as pd


def ${entity}_ids(ids):
    """A sorted, de-duplicated integer index of ${entity} ids and its range."""
    if not ids:
        return {"ids": [], "span": 0}
    idx = «pd.Int64Index(ids)¦pd.Index(ids, dtype="int64")».unique().sort_values()
    return {"ids": idx.tolist(), "span": int(idx.max() - idx.min())}
''', "${entity}_ids", "Builds a sorted unique index of ${entity} ids.",
        lambda rng, d: [repr([rng.randint(1, 30) for _ in range(rng.randint(3, 8))]) for _ in range(6)], PD),
]
