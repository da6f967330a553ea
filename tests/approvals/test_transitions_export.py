"""The transitions export: one row per applied, rejected, withdrawn or rolled-back
transition, read back with the csv and json modules; its filters, who may export,
formula-safe CSV, and the audit event recorded before any row."""

import csv
import io
import json
from datetime import UTC

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone

from approvals.export import EXPORT_COLUMNS, TransitionFilter, transitions_export
from approvals.models import RequestState, TransitionRequest
from audit.models import AuditEvent
from audit.services import EXPORT_PERMISSION

from .conftest import FORMULA_REASON, REASON, ROLLBACK_REASON

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor(django_user_model, password):
    group, _ = Group.objects.get_or_create(name="Auditors")
    app_label, codename = EXPORT_PERMISSION.split(".")
    group.permissions.add(
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
    )
    user = django_user_model.objects.create_user("erin", "erin@example.com", password)
    user.groups.add(group)
    return user


def _post(client, fmt="csv", **filters):
    return client.post(reverse("approvals:transitions_export_download", args=[fmt]), filters)


def _body(response) -> bytes:
    assert response.status_code == 200, response.content[:500]
    return b"".join(response.streaming_content)


def _csv_rows(body: bytes) -> list[dict[str, str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 byte-order mark for spreadsheets"
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def _json_rows(body: bytes) -> list[dict]:
    return [json.loads(line) for line in body.decode().splitlines()]


@pytest.fixture
def auditor_client(client, auditor):
    client.force_login(auditor)
    return client


def test_one_row_per_closed_or_rolled_back_transition_with_its_approvers_and_gates(
    auditor_client, history, approver, second_approver, model, team
):
    rows = _json_rows(_body(_post(auditor_client, "jsonl")))
    assert all(list(row) == list(EXPORT_COLUMNS) for row in rows)
    by_id = {row["request_id"]: row for row in rows}
    expected = [r.pk for r in history["applied"]] + [
        history[k].pk for k in ("rejected", "withdrawn", "rollback")
    ]
    assert sorted(by_id) == sorted(expected), "every closed transition, not the open one"
    assert history["open"].pk not in by_id

    to_production = next(r for r in history["applied"] if r.to_stage == "production")
    to_production.refresh_from_db()
    row = by_id[to_production.pk]
    event = AuditEvent.objects.get(
        action="approvals.transition.applied", request_id=row["request_id"]
    )
    assert row["outcome"] == "applied"
    assert row["event_hash"] == event.hash == to_production.event_hash
    assert (row["team"], row["model"]) == (team.name, model.name)
    assert row["version"] == to_production.version.number
    assert (row["from_stage"], row["to_stage"]) == ("staging", "production")
    assert row["requester"] == "alice" and row["reason"] == REASON
    assert [a["user"] for a in row["approvals"]] == [u["user"] for u in event.changes["approvers"]]
    assert row["approved_by"] == "; ".join(a["user"] for a in row["approvals"])
    assert {a["user"] for a in row["approvals"]} <= {approver.username, second_approver.username}
    assert row["approvals"][0]["at"].endswith("+00:00") and "comment" in row["approvals"][0]
    assert row["gate_results"] == event.changes["gates"] and row["gates_passed"] is True
    assert row["policy_id"] == to_production.policy_id
    assert row["at"] == to_production.closed_at.astimezone(UTC).isoformat(timespec="microseconds")

    rejected = by_id[history["rejected"].pk]
    assert rejected["outcome"] == "rejected" and rejected["approvals"] == []
    assert (rejected["closed_by"], rejected["close_comment"]) == (
        "carol",
        "@SUM(A1) the drift report is missing",
    )
    assert (
        rejected["event_hash"]
        == AuditEvent.objects.get(
            action="approvals.review.rejected", request_id=history["rejected"].pk
        ).hash
    )
    withdrawn = by_id[history["withdrawn"].pk]
    assert withdrawn["outcome"] == "withdrawn" and withdrawn["close_comment"] == "Filed too early"

    rollback = by_id[history["rollback"].pk]
    assert rollback["outcome"] == "rolled_back" and rollback["reason"] == ROLLBACK_REASON
    assert rollback["requester"] == "bree" and rollback["follow_up_state"] == "open"
    assert (
        rollback["event_hash"]
        == AuditEvent.objects.get(action="approvals.transition.rolled_back").hash
    )


def test_a_reviewed_rollback_keeps_its_row_and_gains_the_reviews_event(
    auditor_client, history, approver, second_approver
):
    from approvals.services import review_approve

    for reviewer in (approver, second_approver):
        review = TransitionRequest.objects.get(pk=history["rollback"].pk)
        if review.is_pending:
            review_approve(actor=reviewer, request=review, comment="Confirmed after the incident")
    review.refresh_from_db()
    assert review.state == RequestState.APPLIED
    rows = _json_rows(_body(_post(auditor_client, "jsonl", outcome="rolled_back")))
    assert [r["request_id"] for r in rows] == [review.pk]
    row = rows[0]
    assert row["follow_up_state"] == "applied"
    assert row["follow_up_event_hash"] == review.event_hash != row["event_hash"]
    assert row["approvals"][0]["comment"] == "Confirmed after the incident"


def test_csv_has_the_same_rows_and_formula_safe_cells(auditor_client, history):
    csv_rows = _csv_rows(_body(_post(auditor_client, "csv")))
    json_rows = _json_rows(_body(_post(auditor_client, "jsonl")))
    assert [int(r["request_id"]) for r in csv_rows] == [r["request_id"] for r in json_rows]
    by_id = {int(r["request_id"]): r for r in csv_rows}
    withdrawn = by_id[history["withdrawn"].pk]
    assert withdrawn["reason"] == "'" + FORMULA_REASON
    rejected = by_id[history["rejected"].pk]
    assert rejected["close_comment"] == "'@SUM(A1) the drift report is missing"
    applied = by_id[history["applied"][-1].pk]
    assert json.loads(applied["approvals"]) == next(
        r["approvals"] for r in json_rows if r["request_id"] == history["applied"][-1].pk
    )
    assert json.loads(applied["gate_results"])[0]["check"]


@pytest.mark.parametrize(
    "filters, expect",
    [
        ({"outcome": "rejected"}, ["rejected"]),
        ({"outcome": "withdrawn"}, ["withdrawn"]),
        ({"outcome": "rolled_back"}, ["rollback"]),
        ({"to_stage": "production", "outcome": "applied"}, ["applied-production"]),
        ({"model": "FRAUD-SCORER", "outcome": "withdrawn"}, ["withdrawn"]),
        ({"model": "no-such-model"}, []),
    ],
)
def test_filters_select_rows(auditor_client, history, filters, expect):
    wanted = set()
    for key in expect:
        if key == "applied-production":
            wanted |= {r.pk for r in history["applied"] if r.to_stage == "production"}
        else:
            wanted.add(history[key].pk)
    rows = _json_rows(_body(_post(auditor_client, "jsonl", **filters)))
    assert {r["request_id"] for r in rows} == wanted


def test_team_and_date_filters(auditor_client, history, team, other_team):
    everything = _json_rows(_body(_post(auditor_client, "jsonl")))
    assert _json_rows(_body(_post(auditor_client, "jsonl", team=team.pk))) == everything
    assert _body(_post(auditor_client, "jsonl", team=other_team.pk)) == b""
    today = timezone.now().astimezone(UTC).date()
    assert (
        _json_rows(_body(_post(auditor_client, "jsonl", date_from=today, date_to=today)))
        == everything
    )
    day_before = today.replace(year=today.year - 1)
    assert _body(_post(auditor_client, "jsonl", date_to=day_before)) == b""


def test_bad_dates_show_the_page_again_with_a_400(auditor_client, history):
    response = _post(auditor_client, "csv", date_from="2026-13-45")
    assert response.status_code == 400
    assert b"Enter a valid date" in response.content
    assert b"Correct the filters below" in response.content
    response = _post(auditor_client, "csv", date_from="2026-05-02", date_to="2026-05-01")
    assert response.status_code == 400
    assert b"The end date is before the start date." in response.content
    assert not AuditEvent.objects.filter(action="audit.export.created").exists()


def test_the_export_is_recorded_before_the_first_row(auditor_client, history, auditor):
    response = _post(auditor_client, "csv", outcome="applied")
    event = AuditEvent.objects.get(action="audit.export.created")
    assert event.actor_name == auditor.username
    assert event.changes == {
        "kind": "approvals-transitions-csv",
        "filters": {"outcome": "applied"},
    }
    assert f"event-{event.sequence}.csv" in response["Content-Disposition"]
    assert len(_csv_rows(_body(response))) == len(history["applied"])


@pytest.mark.parametrize(
    "who, status",
    [
        ("anonymous", 302),
        ("outsider", 403),
        ("member", 403),
        ("approver", 403),
        ("auditor", 200),
        ("admin", 200),
    ],
)
def test_only_auditors_and_admins_open_or_download_the_export(
    client, member, outsider, approver, auditor, admin_user, history, who, status
):
    users = {
        "member": member,
        "outsider": outsider,
        "approver": approver,
        "auditor": auditor,
        "admin": admin_user,
    }
    if who != "anonymous":
        client.force_login(users[who])
    page = client.get(reverse("approvals:transitions_export"))
    download = _post(client, "csv")
    assert (page.status_code, download.status_code) == (status, status)
    if status == 302:
        assert page["Location"].startswith(reverse("login"))
    if status == 200:
        assert b'id="export-transitions-csv"' in page.content
        assert len(_csv_rows(_body(download))) == 8
    exported = AuditEvent.objects.filter(action="audit.export.created").exists()
    assert exported == (status == 200), "a refused export records nothing"


def test_the_matrix_covers_every_export_url():
    from approvals import export_views
    from approvals import urls as approvals_urls

    names = {
        p.name for p in approvals_urls.urlpatterns if p.callback.__module__ == export_views.__name__
    }
    assert names == {"transitions_export", "transitions_export_download"}


def test_the_download_takes_posts_only_and_known_formats(auditor_client):
    url = reverse("approvals:transitions_export_download", args=["csv"])
    assert auditor_client.get(url).status_code == 405
    xml = reverse("approvals:transitions_export_download", args=["xml"])
    assert auditor_client.post(xml).status_code == 404


def test_the_audit_page_links_to_the_transitions_export(auditor_client):
    response = auditor_client.get(reverse("audit:events"))
    assert reverse("approvals:transitions_export").encode() in response.content


def test_the_python_path_gives_the_same_rows_as_the_database(history, is_postgres):
    """SQLite formats the rows in Python; on PostgreSQL both paths exist, and agree."""
    everything = TransitionFilter()
    python = _json_rows(b"".join(transitions_export(everything, "jsonl", use_database=False)))
    assert len(python) == 8
    if is_postgres:
        database = _json_rows(b"".join(transitions_export(everything, "jsonl")))
        assert database == python
        python_csv = b"".join(transitions_export(everything, "csv", use_database=False))
        database_csv = b"".join(transitions_export(everything, "csv"))
        assert _csv_rows(python_csv)[0].keys() == _csv_rows(database_csv)[0].keys()
        strip = ("approvals", "gate_results")
        for a, b in zip(_csv_rows(python_csv), _csv_rows(database_csv), strict=True):
            assert {k: v for k, v in a.items() if k not in strip} == {
                k: v for k, v in b.items() if k not in strip
            }
            assert all(json.loads(a[k]) == json.loads(b[k]) for k in strip)
