"""The API changes the migration tasks are made of: one module per library.

A :class:`Change` (see :mod:`.base`) is one breaking change of one library, cited from its
changelog, with one program written against both versions (``«old¦new»`` alternatives) and
filled from several domains.
"""

from __future__ import annotations

from arenas.migration.catalog.base import DOMAINS, Change, fill, side

__all__ = ["DOMAINS", "Change", "all_changes", "fill", "side"]


def all_changes() -> list[Change]:
    from arenas.migration.catalog import (
        jinja2_changes,
        marshmallow_changes,
        networkx_changes,
        numpy_changes,
        pandas_changes,
        pydantic_changes,
        sqlalchemy_changes,
    )

    out: list[Change] = []
    for mod in (numpy_changes, pandas_changes, sqlalchemy_changes, pydantic_changes, networkx_changes,
                jinja2_changes, marshmallow_changes):
        out.extend(mod.CHANGES)
    ids = [c.id for c in out]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate change ids in the catalog")
    return out
