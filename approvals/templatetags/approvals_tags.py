"""Approvals shown on registry pages: registry templates load this library, so the
registry app never imports approvals (approvals -> registry stays the only direction)."""

from django import template

from ..selectors import version_requests

register = template.Library()


@register.inclusion_tag("approvals/_stage_history.html")
def stage_history(version, *, can_request: bool = False) -> dict:
    """A version's stage history (its requests, newest first, with their reviews) and,
    for its team, the way to request the next move. Two queries."""
    return {
        "version": version,
        "model": version.model,
        "requests": version_requests(version),
        "can_request": can_request,
    }
