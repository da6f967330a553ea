"""The audit page: filters, keyset pages, links to the objects, the last verification."""

import datetime as dt
import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent, VerificationRun
from audit.services import event_record
from audit.verification import chain_check, chain_verify
from registry.audit_actions import Action
from registry.models import RegisteredModel
from registry.services import model_update
from tests.audit.first_format import first_format_events
from tests.audit.sample_actions import SampleAction

pytestmark = pytest.mark.django_db

URL = reverse("audit:events")


@pytest.fixture
def auditor_client(client, auditor):
    client.force_login(auditor)
    return client


def _sequences(response) -> list[int]:
    return [e.sequence for e in response.context["page"].events]


def _transition(version, actor, to_stage="staging", reason="Passed offline evaluation"):
    with transaction.atomic():
        return event_record(
            actor=actor,
            action=SampleAction.TRANSITION_APPLIED,
            version=version,
            from_stage="none",
            to_stage=to_stage,
            reason=reason,
        )


def test_the_page_lists_the_newest_events_first_with_links(auditor_client, version, member):
    response = auditor_client.get(URL)
    assert response.status_code == 200
    sequences = _sequences(response)
    assert sequences == sorted(sequences, reverse=True)
    assert sequences[0] == AuditEvent.objects.order_by("-sequence").first().sequence
    html = response.content.decode()
    name = version.model.name
    assert reverse("registry:model_detail", args=[name]) in html
    assert reverse("registry:version_detail", args=[name, version.number]) in html
    assert "Version registered" in html


def test_links_follow_a_renamed_model(auditor_client, model, member):
    model_update(actor=member, model=model, name="fraud-scorer-v2")
    html = auditor_client.get(URL).content.decode()
    assert reverse("registry:model_detail", args=["fraud-scorer-v2"]) in html
    assert reverse("registry:model_detail", args=["fraud-scorer"]) not in html
    # The model's whole history is found by its new name.
    response = auditor_client.get(URL, {"model": "fraud-scorer-v2"})
    assert {e.action for e in response.context["page"].events} == {
        Action.MODEL_CREATED,
        Action.MODEL_UPDATED,
    }


def test_a_removed_model_keeps_its_recorded_name_without_a_link(auditor_client, admin_user):
    gone = RegisteredModel(pk=987654, name="retired-scorer")  # no longer in the catalog
    with transaction.atomic():
        event_record(actor=admin_user, action=Action.MODEL_UPDATED, model=gone)
    response = auditor_client.get(URL, {"model": "retired-scorer"})
    assert len(response.context["page"].events) == 1
    html = response.content.decode()
    assert 'retired-scorer <span class="muted">(deleted)</span>' in html
    assert reverse("registry:model_detail", args=["retired-scorer"]) not in html


def test_filter_by_action(auditor_client, version, member):
    response = auditor_client.get(URL, {"action": Action.VERSION_REGISTERED})
    events = response.context["page"].events
    assert [e.action for e in events] == [Action.VERSION_REGISTERED]


def test_filter_by_model_name_ignores_case_and_other_models(
    auditor_client, make_model, make_version
):
    first, second = make_model(name="churn"), make_model(name="ranker")
    make_version(first)
    make_version(second)
    response = auditor_client.get(URL, {"model": "CHURN"})
    events = response.context["page"].events
    assert len(events) == 2
    assert {e.model_name for e in events} == {"churn"}


def test_filter_by_actor(auditor_client, version, admin_user):
    response = auditor_client.get(URL, {"actor": admin_user.username})
    events = response.context["page"].events
    assert events and {e.actor_name for e in events} == {admin_user.username}


def test_filter_by_date_range_includes_the_end_day(auditor_client, admin_user):
    with transaction.atomic():
        event = event_record(actor=admin_user, action=Action.TEAM_CREATED)
    today = event.created_at.date()
    cases = {
        (today, today): True,
        (today - dt.timedelta(days=3), today): True,
        (today - dt.timedelta(days=3), today - dt.timedelta(days=1)): False,
        (today + dt.timedelta(days=1), today + dt.timedelta(days=2)): False,
    }
    for (start, end), included in cases.items():
        response = auditor_client.get(URL, {"date_from": start, "date_to": end})
        assert (event.sequence in _sequences(response)) is included, (start, end)
    response = auditor_client.get(URL, {"date_to": today - dt.timedelta(days=1)})
    assert "No events match" in response.content.decode()


def test_a_date_range_allows_for_app_servers_with_skewed_clocks(auditor_client, admin_user):
    """Event 3 was written after event 2 by a server whose clock ran 4 minutes behind.
    (On PostgreSQL the database's clock stamps events since audit migration 0010, but a
    log keeps the events app servers stamped before, and SQLite still has them do it.)"""
    times = [
        dt.datetime(2024, 1, 1, 23, 50, tzinfo=dt.UTC),
        dt.datetime(2024, 1, 2, 0, 3, tzinfo=dt.UTC),
        dt.datetime(2024, 1, 1, 23, 59, tzinfo=dt.UTC),
        dt.datetime(2024, 1, 2, 0, 2, tzinfo=dt.UTC),
        dt.datetime(2024, 1, 2, 0, 10, tzinfo=dt.UTC),
    ]
    first_format_events(admin_user, Action.TEAM_CREATED, times)
    assert chain_check().ok

    def shown(**dates):
        return sorted(_sequences(auditor_client.get(URL, dates)))

    assert shown(date_to="2024-01-01") == [1, 3]
    assert shown(date_from="2024-01-02") == [2, 4, 5]
    assert shown(date_from="2024-01-02", date_to="2024-01-02") == [2, 4, 5]
    assert shown(date_from="2024-01-01", date_to="2024-01-01") == [1, 3]
    assert shown(date_from="2024-01-03") == []


def test_stage_transitions_only(auditor_client, version, member):
    transition = _transition(version, member)
    response = auditor_client.get(URL, {"transitions_only": "on"})
    assert _sequences(response) == [transition.sequence]
    html = response.content.decode()
    assert "stage-staging" in html and "Passed offline evaluation" in html


def test_a_bad_date_range_is_explained(auditor_client):
    response = auditor_client.get(URL, {"date_from": "2024-03-02", "date_to": "2024-03-01"})
    assert response.status_code == 400
    assert "The end date is before the start date." in response.content.decode()


def test_keyset_pages_walk_the_whole_log_without_offset_or_count(auditor_client, admin_user):
    with transaction.atomic():
        for n in range(120):
            event_record(actor=admin_user, action=SampleAction.NOTED, changes={"n": n})
    total = AuditEvent.objects.count()
    seen, url, params = [], URL, {}
    with CaptureQueriesContext(connection) as queries:
        while True:
            response = auditor_client.get(url, params)
            seen += _sequences(response)
            older = response.context["page"].older
            if older is None:
                break
            params = {"before": older}
    assert seen == list(range(total, 0, -1))
    sql = " ".join(q["sql"].upper() for q in queries.captured_queries)
    assert "OFFSET" not in sql
    assert "COUNT(" not in sql

    # ...and back towards the newest page with ?after=
    response = auditor_client.get(URL, {"before": 51})
    assert _sequences(response) == list(range(50, 0, -1))
    newer = response.context["page"].newer
    response = auditor_client.get(URL, {"after": newer})
    assert _sequences(response) == list(range(100, 50, -1))
    assert 'id="older-page"' in response.content.decode()


def test_the_page_costs_the_same_queries_for_any_number_of_events(
    auditor_client, admin_user, django_assert_max_num_queries
):
    with transaction.atomic():
        for _ in range(5):
            event_record(actor=admin_user, action=Action.TEAM_CREATED)
    with CaptureQueriesContext(connection) as few:
        auditor_client.get(URL)
    with transaction.atomic():
        for _ in range(200):
            event_record(actor=admin_user, action=Action.TEAM_CREATED)
    with django_assert_max_num_queries(len(few.captured_queries)):
        auditor_client.get(URL)


def test_the_last_verification_is_shown(auditor_client, version):
    response = auditor_client.get(URL)
    assert "has not been verified yet" in response.content.decode()
    result, run = chain_verify()
    html = auditor_client.get(URL).content.decode()
    assert "Chain intact" in html
    assert f"{result.events_checked} events checked" in html


def test_a_broken_chain_is_shown_with_its_sequence(auditor_client, admin_user):
    VerificationRun.objects.create(
        finished_at=timezone.now(),
        events_checked=41,
        ok=False,
        broken_sequence=42,
        detail="Chain broken at sequence 42: event 42 was changed after it was written",
    )
    html = auditor_client.get(URL).content.decode()
    assert "Chain broken" in html
    assert '<strong id="broken-sequence">42</strong>' in html
    assert "event 42 was changed after it was written" in html


def _event_text(html: str, event) -> str:
    start = html.index(f'id="event-{event.sequence}"')
    return " ".join(re.sub(r"<[^>]+>", " ", html[start : html.index("</tr>", start)]).split())


def test_events_about_a_person_name_them_and_who_acted(
    auditor_client, model, member, outsider, admin_user, django_user_model
):
    from registry.services import (
        model_permission_grant,
        model_update,
        team_member_add,
        team_member_remove,
        token_create,
    )
    from registry.services import token_revoke as revoke

    model_permission_grant(actor=member, model=model, user=outsider)
    # alice owns the model, so she leaves the team once it has another owner.
    carol = django_user_model.objects.create_user("carol")
    team_member_add(actor=admin_user, team=model.team, user=carol)
    model_update(actor=admin_user, model=model, owner=carol)
    team_member_remove(actor=admin_user, team=model.team, user=member)
    token, _ = token_create(actor=outsider, name="ranker pipeline")
    revoke(actor=admin_user, token=token)

    html = auditor_client.get(URL).content.decode()
    grant, removed, revoked = (
        AuditEvent.objects.filter(action=a).latest("sequence")
        for a in (Action.PERMISSION_GRANTED, Action.TEAM_MEMBER_REMOVED, Action.TOKEN_REVOKED)
    )
    assert "Edit permission granted to bob by alice" in _event_text(html, grant)
    assert "alice removed from team Fraud Detection by admin" in _event_text(html, removed)
    assert "API token “ranker pipeline” of bob revoked by admin" in _event_text(html, revoked)
