"""The audit log records, shows and filters what the apps declare (audit.actions), and
refuses an event that no app declared or that strays from its declared shape."""

import re

import pytest
from django.db import models, transaction
from django.urls import reverse

from audit.actions import EventShape, register, unregister
from audit.models import AuditEvent, ChainHead
from audit.services import AuditError, event_record
from audit.verification import chain_check
from registry.audit_actions import Action
from tests.audit.sample_actions import SampleAction

pytestmark = pytest.mark.django_db

URL = reverse("audit:events")


@pytest.fixture
def auditor_client(client, auditor):
    client.force_login(auditor)
    return client


def _nothing_written(before: int) -> bool:
    head = ChainHead.objects.first()
    return AuditEvent.objects.count() == before and (head is None or head.sequence == before)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"action": "sample.never.declared"}, "No app declares the audit action"),
        ({"action": SampleAction.NOTED, "changes": {"colour": "red"}}, "changes key 'colour'"),
        ({"action": SampleAction.NOTED, "to_stage": "production"}, "field to_stage"),
        ({"action": Action.TEAM_CREATED, "reason": "because"}, "field reason"),
        ({"action": Action.TOKEN_CREATED, "request_id": 3}, "field request_id"),
    ],
)
def test_an_event_outside_the_declarations_is_refused_and_nothing_is_written(
    admin_user, kwargs, message
):
    before = AuditEvent.objects.count()
    with pytest.raises(AuditError, match=message), transaction.atomic():
        event_record(actor=admin_user, **kwargs)
    assert _nothing_written(before)


def test_declared_keys_and_fields_may_be_left_out(admin_user):
    with transaction.atomic():
        event = event_record(
            actor=admin_user, action=SampleAction.TRANSITION_APPLIED, to_stage="staging"
        )
    assert (event.to_stage, event.from_stage, event.changes) == ("staging", "", {})
    assert chain_check().ok


def test_a_declaration_needs_a_shape_for_every_action():
    class Careless(models.TextChoices):
        DONE = "careless.thing.done", "Done"
        UNDONE = "careless.thing.undone", "Undone"

    with pytest.raises(ValueError, match="shapes missing for \\['careless.thing.undone'\\]"):
        register(Careless, {Careless.DONE: EventShape()})


def test_a_name_is_declared_once(admin_user):
    class Impostor(models.TextChoices):
        CREATED = "registry.team.created", "Team founded"

    with pytest.raises(ValueError, match="already declared differently"):
        register(Impostor, {Impostor.CREATED: EventShape(changes=("name", "description"))})
    # The registry's own declaration is untouched.
    with transaction.atomic():
        event = event_record(actor=admin_user, action=Action.TEAM_CREATED)
    assert event.action_label == "Team created"


def test_the_audit_page_offers_and_names_every_declared_action(auditor_client, admin_user):
    with transaction.atomic():
        event = event_record(actor=admin_user, action=SampleAction.NOTED, reason="Checked")
    response = auditor_client.get(URL, {"action": SampleAction.NOTED})
    assert [e.sequence for e in response.context["page"].events] == [event.sequence]
    html = response.content.decode()
    options = dict(re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', html))
    assert options["registry.version.registered"] == "Version registered"
    assert options["audit.export.created"] == "Audit log exported"
    assert options["sample.note.recorded"] == "Note recorded"
    assert "Note recorded" in html[html.index(f'id="event-{event.sequence}"') :]


def test_a_transition_shows_the_stage_labels_its_app_declared(auditor_client, version, member):
    with transaction.atomic():
        event_record(
            actor=member,
            action=SampleAction.TRANSITION_APPLIED,
            version=version,
            from_stage="staging",
            to_stage="production",
            reason="Better recall",
        )
    html = auditor_client.get(URL, {"transitions_only": "on"}).content.decode()
    assert '<span class="badge stage-staging">Staging</span>' in html
    assert '<span class="badge stage-production">Production</span>' in html


def test_events_of_an_action_no_app_declares_any_more_still_show(auditor_client, admin_user):
    class Retired(models.TextChoices):
        DONE = "retired.thing.done", "Retired thing done"

    register(Retired, {Retired.DONE: EventShape()})
    try:
        with transaction.atomic():
            event = event_record(actor=admin_user, action=Retired.DONE)
    finally:
        unregister(Retired)
    html = auditor_client.get(URL).content.decode()
    row = html[html.index(f'id="event-{event.sequence}"') :]
    assert "retired.thing.done by" in " ".join(re.sub(r"<[^>]+>", " ", row).split())
    assert chain_check().ok
