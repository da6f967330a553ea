"""One sentence per event for the pages that list events (the audit log, a model's
history): what happened, to whom, and by whom.

The app that declares an action phrases its events (EventShape.describe, in its
audit_actions module); this module adds who did it, and says the action's label when
the app gave no sentence. Names come from the event's own recorded `changes` (as they
were when it happened), never from today's users or teams, so a renamed or deleted user
still reads as the event recorded them.
"""

from django.utils.html import format_html
from django.utils.safestring import SafeString

from .actions import action_label, declared
from .models import ActorKind, AuditEvent


def subject(value) -> SafeString:
    """A name an event is about (a user, a team), marked up the same on every page."""
    return format_html('<strong class="event-subject">{}</strong>', value)


def _by(event: AuditEvent) -> SafeString:
    if event.actor_kind == ActorKind.SYSTEM:
        return format_html(" by the system")
    via = " with an API token" if event.actor_kind == ActorKind.TOKEN else ""
    return format_html(' by <strong class="event-actor">{}</strong>{}', event.actor_name, via)


def _described(event: AuditEvent, changes: dict) -> SafeString | None:
    try:
        describe = declared(event.action).shape.describe
    except LookupError:
        return None  # an action no app declares any more
    return describe(event, changes) if describe is not None else None


def event_summary(event: AuditEvent) -> SafeString:
    """E.g. "Edit permission granted to bob by alice" (HTML, names escaped)."""
    changes = event.changes if isinstance(event.changes, dict) else {}
    what = _described(event, changes)
    if what is None:
        label, user = action_label(event.action), changes.get("user")
        # Without a sentence, an event whose changes name a user still says whom.
        what = format_html("{}: {}", label, subject(user)) if user else format_html("{}", label)
    return format_html("{}{}", what, _by(event))
