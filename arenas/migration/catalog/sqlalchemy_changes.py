"""SQLAlchemy 1.4 -> 2.0: the 2.0-style API (no implicit execution, text(), select(*cols), Row)."""

from arenas.migration.catalog.base import Change, record_lists

MIG = "https://docs.sqlalchemy.org/en/20/changelog/migration_20.html"
SETUP = '''from sqlalchemy import (Column, Integer, MetaData, String, Table, case, create_engine, func, insert,
                        inspect, select, text)

metadata = MetaData()
${things}_table = Table("${things}", metadata, Column("id", Integer, primary_key=True),
                   Column("${key}", String(30)), Column("${value}", Integer))


def _load(${things}):
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(${things}_table), ${things})
    return engine
'''

CHANGES = [
    Change(
        "sqlalchemy.engine.execute", "sqlalchemy", "Engine.execute was removed; use a Connection", MIG,
        ("recv:engine.execute",),
        SETUP + '''

def top_${key}(${things}):
    """The ${key} with the largest total ${value}, read with one aggregate query."""
    engine = _load(${things})
    stmt = (select(${things}_table.c.${key}, func.sum(${things}_table.c.${value}).label("total"))
            .group_by(${things}_table.c.${key}).order_by(text("total DESC"), ${things}_table.c.${key}).limit(1))
    «row = engine.execute(stmt).first()¦with engine.connect() as conn:
        row = conn.execute(stmt).first()»
    return [row[0], int(row[1])]
''', "top_${key}", "Finds the ${key} with the largest total ${value} in a SQLite table.", record_lists()),
    Change(
        "sqlalchemy.text_required", "sqlalchemy", "Connection.execute no longer accepts plain SQL strings; use text()",
        MIG + "#execute-method-more-strict-execution-options-are-more-prominent", ("strarg:execute",),
        SETUP + '''

def count_${things}(${things}, minimum):
    """How many ${things} have a ${value} of at least ``minimum``."""
    engine = _load(${things})
    with engine.connect() as conn:
        «n = conn.execute("SELECT COUNT(*) FROM ${things} WHERE ${value} >= %d" % minimum).scalar()¦n = conn.execute(text("SELECT COUNT(*) FROM ${things} WHERE ${value} >= :m"), {"m": minimum}).scalar()»
    return int(n)
''', "count_${things}", "Counts ${things} whose ${value} reaches a minimum.",
        lambda rng, d: [f"{record_lists(1)(rng, d)[0]}, {rng.randint(20, 80)}" for _ in range(6)]),
    Change(
        "sqlalchemy.select_list", "sqlalchemy", "select([cols]) (a list) was removed; pass columns positionally",
        MIG + "#select-no-longer-accepts-varied-constructor-arguments-columns-are-passed-positionally",
        ("listarg:select",),
        SETUP + '''

def ${key}_names(${things}):
    """Distinct ${key} names, sorted."""
    engine = _load(${things})
    stmt = select(«[${things}_table.c.${key}]¦${things}_table.c.${key}»).distinct().order_by(${things}_table.c.${key})
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(stmt)]
''', "${key}_names", "Lists the distinct ${key} names.", record_lists()),
    Change(
        "sqlalchemy.row_mapping", "sqlalchemy", "Row is tuple-like; dict(row) and row['col'] need row._mapping",
        MIG + "#result-rows-act-like-named-tuples", (),
        SETUP + '''

def ${things}_as_dicts(${things}, limit):
    """The ${things} with the highest ${value}, as dictionaries."""
    engine = _load(${things})
    stmt = (select(${things}_table.c.${key}, ${things}_table.c.${value})
            .order_by(${things}_table.c.${value}.desc(), ${things}_table.c.id).limit(limit))
    with engine.connect() as conn:
        return [«dict(row)¦dict(row._mapping)» for row in conn.execute(stmt)]
''', "${things}_as_dicts", "Returns the top ${things} by ${value} as dictionaries.",
        lambda rng, d: [f"{record_lists(1)(rng, d)[0]}, {rng.randint(1, 3)}" for _ in range(6)]),
    Change(
        "sqlalchemy.case_list", "sqlalchemy", "case([(cond, value), ...]) list form was removed; pass whens positionally",
        MIG + "#case-constructor-accepts-positional-arguments", ("listarg:case",),
        SETUP + '''

def ${value}_bands(${things}, cut):
    """Count ${things} per band: 'high' when ${value} >= cut, else 'low'."""
    engine = _load(${things})
    band = case(«[(${things}_table.c.${value} >= cut, "high")]¦(${things}_table.c.${value} >= cut, "high")», else_="low").label("band")
    stmt = select(band, func.count()).group_by(band).order_by(band)
    with engine.connect() as conn:
        return {r[0]: int(r[1]) for r in conn.execute(stmt)}
''', "${value}_bands", "Counts ${things} in high and low ${value} bands.",
        lambda rng, d: [f"{record_lists(1)(rng, d)[0]}, {rng.randint(30, 70)}" for _ in range(6)]),
    Change(
        "sqlalchemy.table_names", "sqlalchemy", "Engine.table_names was removed; use inspect(engine).get_table_names()",
        MIG, ("method:table_names",),
        SETUP + '''

def describe_${things}_db(${things}):
    """Tables of the ${things} database and the row count of each."""
    engine = _load(${things})
    out = {}
    with engine.connect() as conn:
        for name in «engine.table_names()¦inspect(engine).get_table_names()»:
            out[name] = int(conn.execute(select(func.count()).select_from(metadata.tables[name])).scalar())
    return out
''', "describe_${things}_db", "Lists the tables of the ${things} database with row counts.", record_lists()),
    Change(
        "sqlalchemy.autocommit", "sqlalchemy",
        "Connections no longer autocommit DML; commit explicitly (or use engine.begin())",
        MIG + "#library-level-but-not-driver-level-autocommit-removed-from-both-core-and-orm", (),
        '''from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, func, insert, select

metadata = MetaData()
${things}_table = Table("${things}", metadata, Column("id", Integer, primary_key=True),
                   Column("${key}", String(30)), Column("${value}", Integer))


def store_${things}(${things}):
    """Store ${things} in a SQLite file, then count them from a fresh connection."""
    engine = create_engine("sqlite:///${things}.db")
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with engine.connect() as conn:
        conn.execute(insert(${things}_table), ${things})«¦
        conn.commit()»
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(${things}_table)).scalar()
    engine.dispose()
    return int(n)
''', "store_${things}", "Saves ${things} to a SQLite file and counts them back.", record_lists()),
    Change(
        "sqlalchemy.metadata_bind", "sqlalchemy", "MetaData(bind=...) was removed; pass bind to reflect()",
        MIG + "#implicit-and-connectionless-execution-bound-metadata-removed", ("kw:MetaData:bind",),
        SETUP + '''

def reflected_${things}_columns(${things}):
    """Reflect the ${things} database and list each table's columns."""
    engine = _load(${things})
    «reflected = MetaData(bind=engine)
    reflected.reflect()¦reflected = MetaData()
    reflected.reflect(bind=engine)»
    return {name: [c.name for c in table.columns] for name, table in reflected.tables.items()}
''', "reflected_${things}_columns", "Reflects the ${things} database schema.", record_lists()),
    # Listed as removed by several migration guides, but 2.0 still accepts it (with a deprecation
    # warning): the validation step drops these tasks, which is what it is for.
    Change(
        "sqlalchemy.as_scalar", "sqlalchemy", "Select.as_scalar is deprecated; use scalar_subquery()", MIG,
        ("method:as_scalar",),
        SETUP + '''

def above_average_${things}(${things}):
    """Ids of ${things} whose ${value} is above the average ${value}."""
    engine = _load(${things})
    avg = select(func.avg(${things}_table.c.${value})).«as_scalar¦scalar_subquery»()
    stmt = select(${things}_table.c.id).where(${things}_table.c.${value} > avg).order_by(${things}_table.c.id)
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(stmt)]
''', "above_average_${things}", "Finds ${things} with above-average ${value}.", record_lists()),
]
