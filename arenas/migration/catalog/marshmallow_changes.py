"""marshmallow 2.21 -> 3.23: load/dump return data, errors raise, unknown fields and hook signatures."""

from arenas.migration.catalog.base import Change, record_lists

UPG = "https://marshmallow.readthedocs.io/en/stable/upgrading.html#upgrading-to-3-0"
SCHEMA = '''from marshmallow import Schema, ValidationError, fields, post_load, validate


class ${Entity}Schema(Schema):
    ${key} = fields.Str(required=True)
    ${value} = fields.Int(required=True, validate=validate.Range(min=0, max=60))
'''

CHANGES = [
    Change(
        "marshmallow.load_result", "marshmallow",
        "Schema.load returns the data (no UnmarshalResult) and raises ValidationError", UPG + "#schemas-are-always-strict",
        (), SCHEMA + '''

def valid_${value}_total(${things}):
    """Total ${value} of the ${things} that pass validation, and how many failed."""
    schema = ${Entity}Schema()
    total, failed = 0, 0
    for row in ${things}:
        «data, errors = schema.load(row)
        if errors:
            failed += 1
            continue¦try:
            data = schema.load(row)
        except ValidationError:
            failed += 1
            continue»
        total += data["${value}"]
    return {"total": total, "failed": failed}
''', "valid_${value}_total", "Totals ${value} of valid ${things}.", record_lists()),
    Change(
        "marshmallow.dump_result", "marshmallow", "Schema.dump returns the data; MarshalResult.data is gone",
        UPG + "#dump-and-load-return-data", ("attr:data",),
        SCHEMA + '''

def serialise_${things}(${things}):
    """Serialise ${things} through the schema, sorted by ${key}."""
    schema = ${Entity}Schema(many=True)
    out = schema.dump(sorted(${things}, key=lambda r: (r["${key}"], r["${value}"])))«.data¦»
    return out
''', "serialise_${things}", "Serialises ${things} sorted by ${key}.", record_lists()),
    Change(
        "marshmallow.strict", "marshmallow", "Schema(strict=True) was removed; schemas are always strict",
        UPG + "#schemas-are-always-strict", ("kw:${Entity}Schema:strict",),
        SCHEMA + '''

def first_invalid_${entity}(${things}):
    """Index of the first ${entity} that fails validation, or -1."""
    schema = ${Entity}Schema(«strict=True¦»)
    for i, row in enumerate(${things}):
        try:
            schema.load(row)
        except ValidationError:
            return i
    return -1
''', "first_invalid_${entity}", "Finds the first invalid ${entity}.", record_lists()),
    Change(
        "marshmallow.unknown_fields", "marshmallow", "Unknown fields now raise by default; set unknown=EXCLUDE",
        UPG + "#validation-of-unknown-fields", (),
        '''from marshmallow import «¦EXCLUDE, »Schema, fields


class ${Entity}Schema(Schema):
    ${key} = fields.Str(required=True)
    ${value} = fields.Int(required=True)


def import_${things}(raw):
    """Load exported ${things} (which carry extra bookkeeping fields) and total ${value} per ${key}."""
    schema = ${Entity}Schema(«¦unknown=EXCLUDE»)
    totals = {}
    for row in raw:
        data = schema.load(dict(row, exported_at="2024-01-01"))«[0]¦»
        totals[data["${key}"]] = totals.get(data["${key}"], 0) + data["${value}"]
    return totals
''', "import_${things}", "Loads exported ${things} and totals ${value} per ${key}.", record_lists()),
    Change(
        "marshmallow.post_load_kwargs", "marshmallow", "Decorated hooks now receive keyword arguments (many, partial)",
        UPG + "#decorated-methods-and-handle-error-receive-many-and-partial", (),
        SCHEMA + '''

    @post_load
    def scale(self, data«¦, **kwargs»):
        data["${value}_pct"] = round(100 * data["${value}"] / 60, 2)
        return data


def ${value}_percentages(${things}):
    """${value} of each valid ${entity} as a percentage of the maximum."""
    schema = ${Entity}Schema()
    out = []
    for row in ${things}:
        «data, errors = schema.load(row)
        if not errors:
            out.append(data["${value}_pct"])¦try:
            out.append(schema.load(row)["${value}_pct"])
        except ValidationError:
            pass»
    return out
''', "${value}_percentages", "Converts ${value} of valid ${things} to percentages.", record_lists()),
]
