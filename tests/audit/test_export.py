"""Exports: parsed back with the csv and json modules and compared with the filtered
events; formula-safe CSV; each export recorded in the log before a row is sent."""

import csv
import io
import json
import re

import pytest
from django.db import transaction
from django.urls import reverse

from audit.audit_actions import Action as AuditAction
from audit.export import EVENT_HEADER, events_csv, events_jsonl
from audit.models import AuditEvent
from audit.selectors import EventFilter, events_filtered
from audit.services import event_record
from audit.verification import chain_check
from registry.audit_actions import Action
from tests.audit.sample_actions import SampleAction

pytestmark = pytest.mark.django_db

GATES = [
    {"gate": "min_auc", "passed": True, "detail": "auc 0.91 >= 0.85"},
    {"gate": "card_complete", "passed": False, "detail": "2 sections empty"},
]


@pytest.fixture
def auditor_client(client, auditor):
    client.force_login(auditor)
    return client


@pytest.fixture
def transitions(version, member, admin_user):
    """Stage transitions as the events of an app that declares them (sample_actions)."""
    with transaction.atomic():
        return [
            event_record(
                actor=admin_user,
                action=SampleAction.TRANSITION_APPLIED,
                version=version,
                request_id=7,
                from_stage="none",
                to_stage="staging",
                reason="Offline evaluation passed",
                changes={
                    "requested_by": member.username,
                    "approved_by": ["carol", "dave"],
                    "gate_results": GATES,
                },
            ),
            event_record(
                actor=admin_user,
                action=SampleAction.TRANSITION_APPLIED,
                version=version,
                request_id=8,
                from_stage="staging",
                to_stage="production",
                reason='=HYPERLINK("http://evil.example","click")',
                changes={"requested_by": "@mallory", "approved_by": ["+carol"]},
            ),
        ]


def _export(client, kind, **filters):
    response = client.post(reverse("audit:export", args=[kind]), filters)
    assert response.status_code == 200, response.content[:500]
    return response, b"".join(response.streaming_content)


def _csv_rows(body: bytes) -> list[dict[str, str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 byte-order mark for spreadsheets"
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def test_the_csv_export_holds_every_filtered_event_and_its_hash(auditor_client, version):
    filters = {"action": Action.VERSION_REGISTERED}
    expected = list(
        events_filtered(EventFilter(action=Action.VERSION_REGISTERED)).order_by("sequence")
    )
    response, body = _export(auditor_client, "events-csv", **filters)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-events-')
    rows = _csv_rows(body)
    assert list(rows[0]) == list(EVENT_HEADER)
    assert [int(r["sequence"]) for r in rows] == [e.sequence for e in expected]
    row, event = rows[0], expected[0]
    assert row["hash"] == event.hash and row["prev_hash"] == event.prev_hash
    assert row["model"] == version.model.name and row["version"] == str(version.number)
    assert row["timestamp"] == event.created_at.isoformat(timespec="microseconds")
    assert json.loads(row["changes"]) == event.changes


def test_the_unfiltered_export_covers_the_log_up_to_its_own_event(auditor_client, version):
    expected = list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True))
    _, body = _export(auditor_client, "events-jsonl")
    lines = body.decode().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["sequence"] for r in records] == expected
    export_event = AuditEvent.objects.get(action=AuditAction.AUDIT_EXPORTED)
    assert export_event.sequence == expected[-1] + 1  # recorded, but not part of itself
    stored = {e.sequence: e for e in AuditEvent.objects.all()}
    for record in records:
        event = stored[record["sequence"]]
        assert record["hash"] == event.hash
        assert record["changes"] == event.changes
        assert record["actor"] == event.actor_name


def test_each_export_is_recorded_with_who_and_which_filter(auditor_client, auditor, version):
    _export(auditor_client, "events-csv", model=version.model.name, transitions_only="on")
    event = AuditEvent.objects.get(action=AuditAction.AUDIT_EXPORTED)
    assert event.actor_name == auditor.username
    assert event.changes == {
        "kind": "events-csv",
        "filters": {"model": version.model.name, "transitions_only": True},
    }
    assert chain_check().ok


def test_the_page_offers_the_event_exports_and_links_the_one_transitions_export(
    auditor_client, transitions
):
    """The event-based "Transitions CSV/JSON Lines" sat next to the link to the
    transitions export (one row per transition, approvals.export) and confused audit
    staff: the page offers the events exports and that link only."""
    html = auditor_client.get(reverse("audit:events")).content.decode()
    exports = re.findall(r'formaction="([^"]+)"[^>]*>([^<]+)</button>', html)
    assert exports == [
        (reverse("audit:export", args=["events-csv"]), "CSV"),
        (reverse("audit:export", args=["events-jsonl"]), "JSON Lines"),
    ]
    link = re.search(r'<a href="([^"]+)" id="transitions-export-link">([^<]+)</a>', html)
    assert link[1] == reverse("approvals:transitions_export")
    assert link[2] == "Transitions export: one row per transition, with approvers and gates"


@pytest.mark.parametrize("kind", ["transitions-csv", "transitions-jsonl"])
def test_the_event_based_transitions_export_is_gone(auditor_client, transitions, kind):
    assert auditor_client.post(reverse("audit:export", args=[kind])).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.AUDIT_EXPORTED).exists()


def test_the_events_export_still_takes_stage_transitions_only(auditor_client, transitions):
    _, body = _export(auditor_client, "events-csv", transitions_only="on")
    rows = _csv_rows(body)
    assert [int(r["sequence"]) for r in rows] == [t.sequence for t in transitions]
    assert json.loads(rows[0]["changes"])["approved_by"] == ["carol", "dave"]
    assert rows[1]["reason"] == '\'=HYPERLINK("http://evil.example","click")'


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+41 22 000", "'+41 22 000"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("plain text", "plain text"),
        ("a=b", "a=b"),
    ],
)
def test_csv_cells_never_start_a_formula(admin_user, value, cell):
    with transaction.atomic():
        event_record(actor=admin_user, action=SampleAction.NOTED, reason=value)
    body = b"".join(events_csv(AuditEvent.objects.all()))
    (row,) = _csv_rows(body)
    assert row["reason"] == cell


def test_batches_do_not_lose_or_repeat_rows(admin_user):
    with transaction.atomic():
        for n in range(23):
            event_record(actor=admin_user, action=SampleAction.NOTED, reason=f"line\n{n}")
    body = b"".join(events_csv(AuditEvent.objects.all(), batch_size=5))
    rows = _csv_rows(body)
    assert [int(r["sequence"]) for r in rows] == list(range(1, 24))
    assert rows[3]["reason"] == "line\n3"  # multi-line text stays one cell


def test_an_invalid_filter_exports_nothing(auditor_client):
    response = auditor_client.post(
        reverse("audit:export", args=["events-csv"]),
        {"date_from": "2024-03-02", "date_to": "2024-03-01"},
    )
    assert response.status_code == 400
    assert not AuditEvent.objects.filter(action=AuditAction.AUDIT_EXPORTED).exists()


@pytest.mark.postgres
def test_postgresql_formats_the_same_cells_as_python(version, admin_user):
    """The database-formatted export (PostgreSQL) and the Python one (SQLite) agree."""
    from django.test import RequestFactory

    from audit.context import RequestContextMiddleware

    def record():
        for reason in ["=1+1", "@x", "-y", "+z", "\tt", "\rr", "plain", "Grüße 🚀", ""]:
            with transaction.atomic():
                event_record(
                    actor=admin_user,
                    action=SampleAction.MEASURED,
                    version=version,
                    reason=reason,
                    changes={"nested": [1, 2.5, None], "text": {"ü": "=formula"}},
                )

    request = RequestFactory().get("/", REMOTE_ADDR="::ffff:10.0.0.1", HTTP_USER_AGENT="=UA")
    RequestContextMiddleware(lambda request: record())(request)
    qs = AuditEvent.objects.all()

    def csv_of(use_database):
        rows = _csv_rows(b"".join(events_csv(qs, batch_size=4, use_database=use_database)))
        for row in rows:
            row["changes"] = json.loads(row["changes"])
        return rows

    def jsonl_of(use_database):
        body = b"".join(events_jsonl(qs, batch_size=4, use_database=use_database))
        return [json.loads(line) for line in body.decode().splitlines()]

    assert csv_of(True) == csv_of(False)
    assert jsonl_of(True) == jsonl_of(False)
    assert len(csv_of(True)) == AuditEvent.objects.count()
