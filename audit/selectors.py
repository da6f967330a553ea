"""Reads of the audit log for the audit pages, the exports and a model's history.

Listing pages by keyset on the sequence number (`before` / `after`), never OFFSET, and
never counting the whole table, so a page costs the same on a log of millions of events.
"""

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from .actions import model_directory
from .models import STALE_RUN_DETAIL, AuditEvent, VerificationRun, VerificationState

PAGE_SIZE = 50
CLOCK_SKEW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class EventFilter:
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    model: str = ""
    actor: str = ""
    action: str = ""
    transitions_only: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The filter as JSON-ready values (dates as ISO strings), without blank ones."""
        values = asdict(self)
        for key in ("date_from", "date_to"):
            values[key] = values[key].isoformat() if values[key] else None
        return {k: v for k, v in values.items() if v not in (None, "", False)}


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), dt.UTC)


def events_filtered(event_filter: EventFilter) -> QuerySet[AuditEvent]:
    """The events matching the filter. Each filter is served by an index on
    (column, -sequence), so the newest matches come first without a sort."""
    qs = AuditEvent.objects.all()
    f = event_filter
    # A date range also bounds the sequence numbers, found with one lookup each on the
    # created_at index, so a page walks the sequence index inside the range instead of
    # sorting all of it. Timestamps are taken under the chain lock, so they rise with the
    # sequence, give or take CLOCK_SKEW between app servers' clocks; the bounds allow
    # for that, and the exact created_at conditions stay.
    if f.date_from:
        start = _start_of(f.date_from)
        qs = qs.filter(created_at__gte=start)
        before = (
            AuditEvent.objects.filter(created_at__lt=start - CLOCK_SKEW)
            .order_by("-created_at")
            .values_list("sequence", flat=True)
            .first()
        )
        if before is not None:
            qs = qs.filter(sequence__gt=before)
    if f.date_to:
        end = _start_of(f.date_to + dt.timedelta(days=1))
        qs = qs.filter(created_at__lt=end)
        after = (
            AuditEvent.objects.filter(created_at__gte=end + CLOCK_SKEW)
            .order_by("created_at")
            .values_list("sequence", flat=True)
            .first()
        )
        if after is not None:
            qs = qs.filter(sequence__lt=after)
    if f.model:
        model_id = model_directory().id_named(f.model)
        # A model's whole history even if it was renamed; a deleted one by its old name.
        qs = qs.filter(model_id=model_id) if model_id else qs.filter(model_name=f.model)
    if f.actor:
        qs = qs.filter(actor_name=f.actor)
    if f.action:
        qs = qs.filter(action=f.action)
    if f.transitions_only:
        qs = qs.filter(~Q(to_stage=""))
    return qs


@dataclass(frozen=True)
class EventPage:
    events: list[AuditEvent]
    # Keyset cursors for the links: ?after=<newer> and ?before=<older>; None: no link.
    newer: int | None
    older: int | None


def events_page(
    qs: QuerySet[AuditEvent],
    *,
    before: int | None = None,
    after: int | None = None,
    size: int = PAGE_SIZE,
) -> EventPage:
    """One page of `qs`, newest first: the `size` events before sequence `before`, the
    `size` events after sequence `after`, or the newest `size` events."""
    if after is not None:
        rows = list(qs.filter(sequence__gt=after).order_by("sequence")[: size + 1])
        more_newer = len(rows) > size
        events = rows[:size][::-1]
        newer = events[0].sequence if events and more_newer else None
        older_exists = qs.filter(sequence__lte=after).exists()
        older = (events[-1].sequence if events else after + 1) if older_exists else None
        return EventPage(events, newer, older)
    rows_qs = qs.filter(sequence__lt=before) if before is not None else qs
    rows = list(rows_qs.order_by("-sequence")[: size + 1])
    events = rows[:size]
    older = events[-1].sequence if len(rows) > size else None
    newer = None
    if before is not None and qs.filter(sequence__gte=before).exists():
        newer = events[0].sequence if events else before - 1
    return EventPage(events, newer, older)


def _link(event: AuditEvent, name: str | None) -> None:
    directory = model_directory()
    event.link_model_name = name
    event.model_url = directory.model_url(name) if name else ""
    event.version_url = (
        directory.version_url(name, event.version_number) if name and event.version_number else ""
    )


def attach_model_links(events: list[AuditEvent]) -> None:
    """Give each event the present name of its model (`link_model_name`) and the links
    to its model's and version's pages (`model_url`, `version_url`), in one query; a
    deleted model's events get none and show the name they recorded, unlinked."""
    ids = {e.model_id for e in events if e.model_id}
    names = model_directory().names(ids) if ids else {}
    for event in events:
        _link(event, names.get(event.model_id))


MODEL_HISTORY_LIMIT = 20
# events_for_model's rows as a part of a statement that reads the model, for its page
# ({model}: the model's id there): the events as JSON, newest first.
_MODEL_EVENTS_SQL = """ARRAY(
    SELECT to_jsonb(e) - 'ip_address' - 'user_agent' - 'prev_hash'
    FROM audit_auditevent e WHERE e.model_id = {model}
    ORDER BY e.sequence DESC LIMIT %s)"""


def model_events_part(model_column: str) -> tuple[str, list]:
    """events_for_model's query (PostgreSQL) as the SQL of an array of jsonb values and
    its parameters, for a statement whose model id is the SQL `model_column`; its rows
    go to events_for_model as `rows`."""
    return _MODEL_EVENTS_SQL.format(model=model_column), [MODEL_HISTORY_LIMIT]


def _event_from_json(row: dict[str, Any]) -> AuditEvent:
    values = {}
    for field in AuditEvent._meta.concrete_fields:
        if field.column in row:
            value = row[field.column]
            if field.name == "created_at":
                value = dt.datetime.fromisoformat(value)
            values[field.attname] = value
    event = AuditEvent(**values)
    event._state.adding = False
    return event


def events_for_model(
    model: Any, limit: int = MODEL_HISTORY_LIMIT, rows: list[dict] | None = None
) -> list[AuditEvent]:
    """The newest `limit` events about a model (anything with the `pk` and `name` that
    events record), for its page (templates/audit/_model_history.html), linked as
    attach_model_links does, by the model's current name. Given `rows`, what
    model_events_part read with the model, no query."""
    if rows is not None and limit == MODEL_HISTORY_LIMIT:
        events = [_event_from_json(row) for row in rows]
    else:
        events = list(
            AuditEvent.objects.filter(model_id=model.pk)
            .order_by("-sequence")
            .defer("ip_address", "user_agent", "prev_hash")[:limit]
        )
    for event in events:
        _link(event, model.name)
    return events


def verification_last() -> VerificationRun | None:
    """The newest finished verification (its result is the chain status shown)."""
    return (
        VerificationRun.objects.filter(state=VerificationState.FINISHED)
        .order_by("-finished_at", "-pk")
        .first()
    )


@dataclass(frozen=True)
class VerificationStatus:
    last: VerificationRun | None  # the newest finished run: the chain's known state
    running: VerificationRun | None
    abandoned: VerificationRun | None  # the newest run, when it never finished

    def as_json(self) -> dict[str, Any]:
        def run_json(run: VerificationRun | None) -> dict[str, Any] | None:
            if run is None:
                return None
            return {
                "state": run.state,
                "started_at": run.started_at.isoformat() if run.started_at else None,
                "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                "requested_by": run.requested_by_name,
                "ok": run.ok,
                "events_checked": run.events_checked,
                "broken_sequence": run.broken_sequence,
                "detail": run.detail,
            }

        return {
            "running": self.running is not None,
            "current": run_json(self.running),
            "last": run_json(self.last),
            "abandoned": run_json(self.abandoned),
        }


def verification_status() -> VerificationStatus:
    """The last finished verification, the running one, and the newest one when it never
    finished. A run past AUDIT_VERIFY_TIMEOUT_SECONDS counts as abandoned here already
    (the next start marks it so), so the page never waits for a dead worker."""
    newest = VerificationRun.objects.order_by("-pk").first()
    running = (
        newest
        if newest is not None and newest.state == VerificationState.RUNNING
        else VerificationRun.objects.filter(state=VerificationState.RUNNING).first()
    )
    limit = timezone.now() - dt.timedelta(seconds=settings.AUDIT_VERIFY_TIMEOUT_SECONDS)
    if running is not None and running.started_at is not None and running.started_at < limit:
        running.state = VerificationState.ABANDONED
        running.detail = STALE_RUN_DETAIL
        running = None
    last = newest if newest is not None and newest.state == VerificationState.FINISHED else None
    if newest is not None and last is None:
        last = verification_last()
    abandoned = (
        newest if newest is not None and newest.state == VerificationState.ABANDONED else None
    )
    return VerificationStatus(last=last, running=running, abandoned=abandoned)
