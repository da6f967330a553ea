"""The Jinja2 environment for the partials rendered through the "jinja2" engine.

Autoescaping is on (Django's backend turns it on by default; it is stated here so that
nobody turns it off by accident), and an undefined name is an error rather than an
empty string, in production as in tests: a misspelt field fails loudly instead of
silently leaving a cell empty.
"""

from jinja2 import Environment, StrictUndefined

from registry.templatetags import registry_tags


def environment(**options) -> Environment:
    options["autoescape"] = True
    options["undefined"] = StrictUndefined
    env = Environment(**options)
    # What the partials use of registry_tags: its filters as filters, its tags (which
    # return SafeString, markup Jinja2 does not escape again) as functions.
    for name in ("estimate", "framework_label", "metric_value"):
        env.filters[name] = getattr(registry_tags, name)
    for name in ("stage_badge", "timestamp"):
        env.globals[name] = getattr(registry_tags, name)
    return env
