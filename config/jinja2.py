"""The Jinja2 environment for the partials rendered through the "jinja2" engine.

Autoescaping is on (Django's backend turns it on by default; it is stated here so that
nobody turns it off by accident), and an undefined name is an error rather than an
empty string, in production as in tests: a misspelt field fails loudly instead of
silently leaving a cell empty.
"""

from jinja2 import Environment, StrictUndefined

from registry.templatetags.registry_tags import estimate


def environment(**options) -> Environment:
    options["autoescape"] = True
    options["undefined"] = StrictUndefined
    env = Environment(**options)
    env.filters["estimate"] = estimate
    return env
