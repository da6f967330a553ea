"""A model's own history, for its page (the include the model page renders)."""

import re

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from approvals.audit_actions import ApprovalAction
from approvals.services import approver_grant
from audit.models import AuditEvent
from audit.selectors import events_for_model
from registry.audit_actions import Action
from registry.services import (
    model_permission_grant,
    model_permission_revoke,
    model_update,
)

pytestmark = pytest.mark.django_db


def _render(events, user):
    request = RequestFactory().get("/")
    request.user = user
    return render_to_string(
        "audit/_model_history.html", {"history_events": events}, request=request
    )


def test_it_lists_the_models_own_events_newest_first(model, make_model, make_version, member):
    make_version(model)
    model_update(actor=member, model=model, description="Now also scores refunds.")
    make_version(make_model(name="unrelated"))
    events = events_for_model(model)
    assert [e.action for e in events] == [
        Action.MODEL_UPDATED,
        Action.VERSION_REGISTERED,
        Action.MODEL_CREATED,
    ]
    assert events_for_model(model, limit=2) == events[:2]


def test_the_include_links_versions_by_the_models_current_name(version, member, outsider):
    model = model_update(actor=member, model=version.model, name="fraud-scorer-renamed")
    html = _render(events_for_model(model), outsider)
    assert reverse("registry:version_detail", args=["fraud-scorer-renamed", 1]) in html
    assert "Version registered" in html and member.username in html
    assert "Full audit log" not in html  # only auditors get the link to the audit page


def test_auditors_get_a_link_to_the_full_log(version, auditor):
    html = _render(events_for_model(version.model), auditor)
    assert f"{reverse('audit:events')}?model={version.model.name}" in html


def test_no_history_says_so(outsider):
    assert "No recorded changes yet." in _render([], outsider)


def _history_row(html: str, event) -> str:
    start = html.index(f'id="history-{event.sequence}"')
    return html[start : html.index("</tr>", start)]


def _text(row_html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", row_html).split())


def test_a_permission_change_says_to_whom_and_by_whom(client, model, member, outsider):
    model_permission_grant(actor=member, model=model, user=outsider)
    model_permission_revoke(actor=member, model=model, user=outsider)
    granted, revoked = (
        AuditEvent.objects.filter(model_id=model.pk, action=a).get()
        for a in (Action.PERMISSION_GRANTED, Action.PERMISSION_REVOKED)
    )
    client.force_login(outsider)
    html = client.get(reverse("registry:model_detail", args=[model.name])).content.decode()

    assert "Edit permission granted to bob by alice" in _text(_history_row(html, granted))
    assert "Edit permission revoked from bob by alice" in _text(_history_row(html, revoked))


def test_an_approver_grant_names_the_approver_the_stage_and_the_admin(
    client, model, admin_user, outsider
):
    approver_grant(actor=admin_user, stage="production", model=model, user=outsider)
    event = AuditEvent.objects.get(model_id=model.pk, action=ApprovalAction.APPROVER_GRANTED)
    client.force_login(outsider)
    html = client.get(reverse("registry:model_detail", args=[model.name])).content.decode()
    assert "bob named approver of moves into Production for model fraud-scorer by admin" in (
        _text(_history_row(html, event))
    )


def test_names_in_the_sentence_are_escaped(model, member, django_user_model):
    evil = django_user_model.objects.create_user("<img src=x>", "x@example.com", "x")
    model_permission_grant(actor=member, model=model, user=evil)
    html = _render(events_for_model(model), member)
    assert "<img src=x>" not in html
    assert 'granted to <strong class="event-subject">&lt;img src=x&gt;</strong>' in html
