"""Jinja2 3.0 -> 3.1: removal of the names deprecated in 3.0 (Markup/escape, *filter decorators, ext)."""

from arenas.migration.catalog.base import Change, label_lists, record_lists

V31 = "https://jinja.palletsprojects.com/en/3.1.x/changes/#version-3-1-0"

CHANGES = [
    Change(
        "jinja2.Markup", "jinja2", "jinja2.Markup was removed; import it from markupsafe", V31,
        ("api:jinja2.Markup",),
        '''from jinja2 import Environment
«from jinja2 import Markup¦from markupsafe import Markup»


def render_${key}_list(names):
    """Render ${key} names as an HTML list; names are escaped, the wrapper is trusted markup."""
    env = Environment(autoescape=True)
    template = env.from_string("<ul>{% for n in names %}<li>{{ n }}</li>{% endfor %}</ul>{{ footer }}")
    footer = Markup("<p>%d ${key}s</p>") % len(names)
    return template.render(names=names, footer=footer)
''', "render_${key}_list", "Renders ${key} names as an HTML list.",
        lambda rng, d: [repr(rng.sample(d["labels"], 2) + [f"<b>{rng.choice(d['labels'])}</b>"]) for _ in range(6)]),
    Change(
        "jinja2.escape", "jinja2", "jinja2.escape was removed; import escape from markupsafe", V31,
        ("api:jinja2.escape",),
        '''«from jinja2 import escape¦from markupsafe import escape»


def ${key}_table_rows(${things}):
    """HTML table rows for ${things}, escaping the ${key} text."""
    rows = []
    for row in ${things}:
        rows.append("<tr><td>%s</td><td>%d</td></tr>" % (escape(row["${key}"] + "&co"), row["${value}"]))
    return "".join(rows)
''', "${key}_table_rows", "Builds escaped HTML table rows of ${things}.", record_lists()),
    Change(
        "jinja2.contextfilter", "jinja2", "@contextfilter was removed; use @pass_context", V31,
        ("api:jinja2.contextfilter",),
        '''from jinja2 import Environment, «contextfilter¦pass_context»


@«contextfilter¦pass_context»
def with_unit(context, value):
    return "%s %s" % (value, context["unit"])


def ${value}_lines(${things}, unit):
    """One line per ${entity}: '<${key}>: <${value}> <unit>'."""
    env = Environment()
    env.filters["with_unit"] = with_unit
    t = env.from_string("{% for r in rows %}{{ r.${key} }}: {{ r.${value} | with_unit }}\\n{% endfor %}")
    return t.render(rows=${things}, unit=unit).splitlines()
''', "${value}_lines", "Renders one line per ${entity} with a unit.",
        lambda rng, d: [f"{record_lists(1)(rng, d)[0]}, {rng.choice(['kg', 'pts', 'EUR', 'C'])!r}" for _ in range(6)]),
    Change(
        "jinja2.environmentfilter", "jinja2", "@environmentfilter was removed; use @pass_environment", V31,
        ("api:jinja2.environmentfilter",),
        '''from jinja2 import Environment, «environmentfilter¦pass_environment»


@«environmentfilter¦pass_environment»
def shout(environment, value):
    return environment.globals["prefix"] + str(value).upper()


def shout_${key}s(names):
    """Render each ${key} name upper-cased behind a prefix, using an environment filter."""
    env = Environment()
    env.globals["prefix"] = "${entity}:"
    env.filters["shout"] = shout
    return env.from_string("{{ names | map('shout') | join(',') }}").render(names=names)
''', "shout_${key}s", "Upper-cases ${key} names with a prefix.", label_lists()),
    Change(
        "jinja2.contextfunction", "jinja2", "@contextfunction was removed; use @pass_context", V31,
        ("api:jinja2.contextfunction",),
        '''from jinja2 import Environment, «contextfunction¦pass_context»


@«contextfunction¦pass_context»
def total(context, field):
    return sum(r[field] for r in context["rows"])


def ${value}_summary(${things}):
    """A one-line summary of the ${things} with the total ${value}."""
    env = Environment()
    env.globals["total"] = total
    t = env.from_string("{{ rows | length }} ${things}, {{ total('${value}') }} ${value}")
    return t.render(rows=${things})
''', "${value}_summary", "Summarises ${things} with a total of ${value}.", record_lists()),
    Change(
        "jinja2.ext.with_", "jinja2", "The with_ and autoescape extensions were removed (built in since 2.9)", V31,
        ("str:jinja2.ext.with_", "api:jinja2.ext.with_"),
        '''from jinja2 import Environment


def ${key}_badges(names):
    """One badge per ${key}, rendered with a scoped 'with' block."""
    env = Environment(«extensions=["jinja2.ext.with_"]¦»)
    t = env.from_string("{% for n in names %}{% with b = '[' ~ n ~ ']' %}{{ b }}{% endwith %}{% endfor %}")
    return t.render(names=names)
''', "${key}_badges", "Renders ${key} badges.", label_lists()),
]
