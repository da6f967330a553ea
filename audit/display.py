"""One sentence per event for the pages that list events (the audit log, a model's
history): what happened, to whom, and by whom.

The names come from the event's own recorded `changes` (as they were when it
happened), never from today's users or teams, so a renamed or deleted user still reads
as the event recorded them.
"""

from django.utils.html import format_html
from django.utils.safestring import SafeString

from .actions import Action
from .models import ActorKind, AuditEvent

# Object permissions that services grant and revoke, by codename.
PERMISSION_NAMES = {
    "change_registeredmodel": "Edit permission",
    "approve_registeredmodel": "Approve permission",
}
# Actions whose `changes` name the user they were done to, and how to say it.
_TO_USER = {
    Action.PERMISSION_GRANTED: "{perm} granted to {user}",
    Action.PERMISSION_REVOKED: "{perm} revoked from {user}",
    Action.TEAM_MEMBER_ADDED: "{user} added to team {team}",
    Action.TEAM_MEMBER_REMOVED: "{user} removed from team {team}",
    Action.TEAM_MAINTAINER_ADDED: "{user} made a maintainer of team {team}",
    Action.TEAM_MAINTAINER_REMOVED: "{user} no longer a maintainer of team {team}",
}

_TOKEN = {Action.TOKEN_CREATED: "created", Action.TOKEN_REVOKED: "revoked"}


def _by(event: AuditEvent) -> SafeString:
    if event.actor_kind == ActorKind.SYSTEM:
        return format_html(" by the system")
    via = " with an API token" if event.actor_kind == ActorKind.TOKEN else ""
    return format_html(' by <strong class="event-actor">{}</strong>{}', event.actor_name, via)


def _name(value) -> SafeString:
    return format_html('<strong class="event-subject">{}</strong>', value)


def event_summary(event: AuditEvent) -> SafeString:
    """E.g. "Edit permission granted to bob by alice" (HTML, names escaped)."""
    changes = event.changes if isinstance(event.changes, dict) else {}
    label = event.get_action_display()
    user = changes.get("user")
    if event.action in _TO_USER and user:
        codename = str(changes.get("permission", "")).rpartition(".")[2]
        perm = PERMISSION_NAMES.get(codename) or (
            format_html("Permission “{}”", codename) if codename else "Permission"
        )
        what = format_html(
            _TO_USER[event.action],
            perm=perm,
            user=_name(user),
            team=_name(changes.get("team", "")),
        )
    elif event.action in _TOKEN and changes.get("name"):
        owner = changes.get("owner")
        what = format_html(
            "API token “{}”{} {}",
            changes["name"],
            format_html(" of {}", _name(owner)) if owner and owner != event.actor_name else "",
            _TOKEN[event.action],
        )
    elif user:
        # An action declared later whose changes name a user still says whom it was about.
        what = format_html("{}: {}", label, _name(user))
    else:
        what = format_html("{}", label)
    return format_html("{}{}", what, _by(event))
