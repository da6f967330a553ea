"""Small presentation helpers for the registry pages: Markdown, badges, labels, links."""

from datetime import datetime

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.template import engines
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from ..choices import DataClassification, Framework
from ..markdown import render_markdown
from ..search import rounded
from ..stages import STAGE_LABELS

register = template.Library()


@register.simple_tag
def jinja(name: str, **context) -> SafeString:
    """`{% jinja "registry/_catalog_rows.jinja" rows=rows %}`: a partial that a page
    repeats per row, rendered with Jinja2 (config/jinja2.py), which compiles it to
    Python: 25 catalog rows and ~70 facet values cost ~1 ms there against ~5 ms in
    Django's template language. Jinja2 escaped every value it printed (autoescape is
    always on), so the result is safe to place in the page as it is."""
    return mark_safe(engines["jinja2"].get_template(name).render(context))


# Units of "3 hours ago", largest first (a month is 30 days, a year 365: the exact
# instant is the element's title).
_AGO_UNITS = (
    (365 * 86400, "year", "years"),
    (30 * 86400, "month", "months"),
    (7 * 86400, "week", "weeks"),
    (86400, "day", "days"),
    (3600, "hour", "hours"),
    (60, "minute", "minutes"),
    (1, "second", "seconds"),
)


def _count(n: int, one: str, many: str) -> str:
    return f"{n}\xa0{one if n == 1 else many}"


def ago(value: datetime, now: datetime) -> str:
    """ "3 hours ago", "2 days, 4 hours ago": what humanize's naturaltime says for a past
    instant (its largest unit and the next one when not zero), written out directly:
    naturaltime costs more than the rest of a table row, and lists show 25 of these."""
    seconds = int((now - value).total_seconds())
    if seconds < 0:
        return naturaltime(value)  # in the future: rare, and naturaltime words it
    if seconds == 0:
        return "now"
    if seconds < 86400:  # naturaltime's own words below a day
        if seconds < 60:
            return "a second ago" if seconds == 1 else f"{seconds}\xa0seconds ago"
        if seconds < 3600:
            n = seconds // 60
            return "a minute ago" if n == 1 else f"{n}\xa0minutes ago"
        n = seconds // 3600
        return "an hour ago" if n == 1 else f"{n}\xa0hours ago"
    for i, (size, one, many) in enumerate(_AGO_UNITS):
        n = seconds // size
        if n:
            text = _count(n, one, many)
            next_size, next_one, next_many = _AGO_UNITS[i + 1]
            rest = (seconds - n * size) // next_size
            if rest and next_size >= 60:
                text += ", " + _count(rest, next_one, next_many)
            return text + " ago"
    return "now"  # unreachable: seconds >= 86400 has a unit


FRAMEWORK_LABELS = dict(Framework.choices)
CLASSIFICATION_LABELS = dict(DataClassification.choices)


@register.simple_tag
def timestamp(value: datetime | None, style: str = "minutes") -> SafeString | str:
    """A <time> element with the machine-readable instant and, as text, "2026-11-27
    14:05" ("minutes"), with seconds ("seconds"), the day alone with the full time as
    its title ("date"), or "3 hours ago" with the full time as its title ("relative").

    One call instead of two or three `date` filters: the catalog shows 25 of these, and
    each `date` filter costs as much as the rest of the row's cell.
    """
    if value is None:
        return ""
    local = timezone.localtime(value)
    minutes = f"{local:%Y-%m-%d %H:%M}"
    # Every piece is formatted from a datetime (digits, "-", ":", "+", the zone's
    # abbreviation): nothing to escape, so no format_html, which costs more here than
    # the formatting itself.
    if style == "minutes":
        return mark_safe(f'<time datetime="{local.isoformat()}">{minutes}</time>')
    if style == "seconds":
        return mark_safe(f'<time datetime="{local.isoformat()}">{local:%Y-%m-%d %H:%M:%S}</time>')
    text = ago(value, timezone.now()) if style == "relative" else f"{local:%Y-%m-%d}"
    return mark_safe(
        f'<time datetime="{local.isoformat()}" title="{minutes} {escape(local.tzname())}">'
        f"{text}</time>"
    )


@register.filter
def estimate(value: int) -> str:
    """An estimated count, rounded to two significant digits: "15,000"."""
    return f"{rounded(value):,}"


@register.filter(name="markdown")
def markdown_filter(text: str) -> SafeString:
    return render_markdown(text)


def _stage_badge(stage: str) -> SafeString:
    return format_html(
        '<span class="badge stage-{}">{}</span>', stage or "none", STAGE_LABELS.get(stage, stage)
    )


# Built once: lists show two badges a row.
_STAGE_BADGES = {stage: _stage_badge(stage) for stage in STAGE_LABELS}


@register.simple_tag
def stage_badge(stage: str) -> SafeString:
    badge = _STAGE_BADGES.get(stage)
    return badge if badge is not None else _stage_badge(stage)


@register.filter
def stage_label(stage: str) -> str:
    return STAGE_LABELS.get(stage, stage)


@register.filter
def framework_label(value: str) -> str:
    return FRAMEWORK_LABELS.get(value, value)


@register.filter
def classification_label(value: str) -> str:
    return CLASSIFICATION_LABELS.get(value, value)


@register.filter
def metric_value(value) -> str:
    """Six significant digits: enough to tell versions apart, short enough to scan."""
    if value is None or value == "":
        return "—"
    return format(float(value), ".6g")


@register.filter
def signed_metric(value) -> str:
    if value is None:
        return "—"
    return format(float(value), "+.6g")


@register.filter
def commit_url(version) -> str:
    """A browser link to the version's commit for GitHub/GitLab-style hosts, else ''."""
    repo, sha = version.code_repository, version.code_commit
    if not (repo and sha) or not repo.startswith(("https://", "http://")):
        return ""
    return f"{repo.rstrip('/').removesuffix('.git')}/commit/{sha}"


@register.filter
def param_value(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@register.filter
def can_manage_teams(user) -> bool:
    """Whether the nav shows the Teams pages: platform admins and team maintainers."""
    from ..permissions import can_manage_any_team

    return can_manage_any_team(user)


@register.filter
def can_manage_targets(user) -> bool:
    """Whether the nav shows the deployment targets: platform admins and team members."""
    from ..deployments.selectors import can_manage_any_target

    return can_manage_any_target(user)


@register.inclusion_tag("registry/_deploy_warning.html", takes_context=True)
def deploy_warning(context, production) -> dict:
    """The model page's warning when its Production version's notification to a
    production target is failing, failed or exhausted (one bounded query)."""
    from ..deployments.selectors import production_delivery_problems
    from ..services.deployments import deployment_target_may_manage

    problems = production_delivery_problems(production)
    user = context.get("user")
    for delivery in problems:
        delivery.can_manage = user is not None and deployment_target_may_manage(
            user, delivery.target
        )
    return {"production": production, "deploy_problems": problems}
