"""pydantic 1.10 -> 2.10: the V2 rewrite (removed keywords, stricter validation, new error format)."""

from arenas.migration.catalog.base import Change, record_lists

GUIDE = "https://docs.pydantic.dev/2.10/migration/"

CHANGES = [
    Change(
        "pydantic.root_validator", "pydantic", "@root_validator was removed; use @model_validator(mode='after')",
        GUIDE + "#changes-to-validators", ("api:pydantic.root_validator",),
        '''from pydantic import BaseModel, «root_validator¦model_validator»


class ${Entity}(BaseModel):
    ${key}: str
    ${value}: int
    bonus: int = 0

    «@root_validator
    def add_bonus(cls, values):
        values["${value}"] = values["${value}"] + values["bonus"]
        return values¦@model_validator(mode="after")
    def add_bonus(self):
        self.${value} = self.${value} + self.bonus
        return self»


def total_${value}(${things}):
    """Validate ${things} (adding each bonus to its ${value}) and total the ${value}."""
    parsed = [${Entity}(**row, bonus=len(row["${key}"])) for row in ${things}]
    return sum(p.${value} for p in parsed)
''', "total_${value}", "Validates ${things} with a bonus rule and totals ${value}.", record_lists()),
    Change(
        "pydantic.Field.regex", "pydantic", "Field(regex=...) was removed; use Field(pattern=...)",
        GUIDE + "#changes-to-pydanticfield", ("kw:Field:regex",),
        '''from pydantic import BaseModel, Field, ValidationError


class ${Entity}(BaseModel):
    ${key}: str = Field(..., «regex¦pattern»=r"^[a-z]+$")
    ${value}: int


def valid_${things}(${things}):
    """Count the ${things} whose ${key} is a lower-case word, and list the rejected ones."""
    ok, rejected = 0, []
    for row in ${things}:
        try:
            ${Entity}(**row)
            ok += 1
        except ValidationError:
            rejected.append(row["${key}"])
    return {"ok": ok, "rejected": rejected}
''', "valid_${things}", "Validates ${key} names of ${things} against a pattern.",
        lambda rng, d: [repr([{d["key"]: rng.choice(d["labels"] + ["X1", "Bad Name", "ok"]), d["value"]: i}
                              for i in range(rng.randint(3, 6))]) for _ in range(6)]),
    Change(
        "pydantic.optional_default", "pydantic",
        "Optional[X] fields without a default are now required; give them '= None'",
        GUIDE + "#required-optional-and-nullable-fields", (),
        '''from typing import Optional

from pydantic import BaseModel


class ${Entity}(BaseModel):
    ${key}: str
    ${value}: int
    note: Optional[str]«¦ = None»


def ${things}_with_notes(${things}):
    """Parse ${things} (the note is optional) and count how many carry a note."""
    parsed = [${Entity}(**row) for row in ${things}]
    return {"n": len(parsed), "noted": sum(p.note is not None for p in parsed)}
''', "${things}_with_notes", "Parses ${things} whose note field is optional.", record_lists()),
    Change(
        "pydantic.json_dumps_kwargs", "pydantic", ".json(**dumps_kwargs) was removed; use json.dumps(model_dump())",
        GUIDE + "#changes-to-pydanticbasemodel", ("kw:json:sort_keys",),
        '''«¦import json

»from pydantic import BaseModel


class ${Entity}(BaseModel):
    ${value}: int
    ${key}: str


def export_${things}(${things}):
    """Serialise ${things} as JSON lines with sorted keys."""
    models = [${Entity}(**row) for row in ${things}]
    return [«m.json(sort_keys=True)¦json.dumps(m.model_dump(), sort_keys=True)» for m in models]
''', "export_${things}", "Exports ${things} as JSON lines with sorted keys.", record_lists()),
    Change(
        "pydantic.conlist_min_items", "pydantic", "conlist(min_items=...) was renamed min_length",
        GUIDE + "#changes-to-pydanticfield", ("kw:conlist:min_items",),
        '''from typing import List

from pydantic import BaseModel, ValidationError, conlist


class ${Entity}Batch(BaseModel):
    ${value}s: conlist(int, «min_items¦min_length»=2)


def batch_${value}_mean(values):
    """Mean ${value} of a batch, or None when the batch has fewer than two values."""
    try:
        batch = ${Entity}Batch(${value}s=values)
    except ValidationError:
        return None
    return round(sum(batch.${value}s) / len(batch.${value}s), 4)
''', "batch_${value}_mean", "Averages a batch of ${value} values of at least two.",
        lambda rng, d: [repr([rng.randint(1, 50) for _ in range(rng.randint(0 if i % 3 == 0 else 2, 5))])
                        for i in range(6)]),
    Change(
        "pydantic.custom_root", "pydantic", "__root__ custom root types were removed; use RootModel",
        GUIDE + "#changes-to-pydanticbasemodel", ("attr:__root__", "name:__root__"),
        '''from typing import List

from pydantic import BaseModel«¦, RootModel»


class ${Entity}(BaseModel):
    ${key}: str
    ${value}: int


«class ${Entity}List(BaseModel):
    __root__: List[${Entity}]¦class ${Entity}List(RootModel[List[${Entity}]]):
    pass»


def best_${entity}(${things}):
    """The ${key} with the highest ${value} from a validated list of ${things}."""
    items = ${Entity}List«.parse_obj(${things}).__root__¦.model_validate(${things}).root»
    best = max(items, key=lambda x: (x.${value}, x.${key}))
    return best.${key}
''', "best_${entity}", "Validates a list of ${things} and returns the best ${key}.", record_lists()),
    Change(
        "pydantic.strict_str", "pydantic", "Numbers are no longer coerced to str fields; convert explicitly",
        GUIDE + "#changes-to-validation-of-specific-types", (),
        '''from pydantic import BaseModel


class ${Entity}(BaseModel):
    ${key}: str
    ${value}: int


def ${key}_labels(${things}):
    """Validate ${things} whose ${key} may be numeric ids, and list their ${key} labels."""
    parsed = [${Entity}(${key}=«row["${key}"]¦str(row["${key}"])», ${value}=row["${value}"]) for row in ${things}]
    return [p.${key} + ":" + str(p.${value}) for p in parsed]
''', "${key}_labels", "Builds ${key} labels of ${things} with numeric ids.",
        lambda rng, d: [repr([{d["key"]: rng.randint(100, 999), d["value"]: rng.randint(1, 9)}
                              for _ in range(rng.randint(2, 5))]) for _ in range(6)]),
    Change(
        "pydantic.error_types", "pydantic", "Error dicts changed: 'value_error.missing' is now 'missing'",
        GUIDE + "#changes-to-validation-errors", (),
        '''from pydantic import BaseModel, ValidationError


class ${Entity}(BaseModel):
    ${key}: str
    ${value}: int


def missing_${entity}_fields(${things}):
    """For each raw ${entity}, the names of required fields that are missing."""
    out = []
    for row in ${things}:
        try:
            ${Entity}(**row)
            out.append([])
        except ValidationError as exc:
            out.append(sorted(str(e["loc"][0]) for e in exc.errors() if e["type"] == «"value_error.missing"¦"missing"»))
    return out
''', "missing_${entity}_fields", "Lists missing required fields of raw ${things}.",
        lambda rng, d: [repr([{k: v for k, v in r.items() if rng.random() < 0.6} for r in
                              [{d["key"]: "x", d["value"]: 1} for _ in range(4)]]) for _ in range(6)]),
    # pydantic 2 keeps the deprecated .dict() working: the validation step drops these tasks.
    Change(
        "pydantic.dict_method", "pydantic", ".dict() is deprecated in favour of model_dump()", GUIDE,
        ("method:dict",),
        '''from pydantic import BaseModel


class ${Entity}(BaseModel):
    ${key}: str
    ${value}: int


def ${things}_as_rows(${things}):
    """Validate ${things} and return them as plain dictionaries."""
    models = [${Entity}(**row) for row in ${things}]
    return [m.«dict¦model_dump»() for m in models]
''', "${things}_as_rows", "Validates ${things} and returns plain rows.", record_lists()),
]
