"""The admin shows audit events read-only: no add, change, delete or bulk actions."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client, admin_user):
    client.force_login(admin_user)
    return client


def test_events_are_listed(admin_client_, version):
    response = admin_client_.get(reverse("admin:audit_auditevent_changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "registry.version.registered" in html
    assert 'name="action"' not in html  # no bulk-actions menu
    assert "Add audit event" not in html


def test_an_event_cannot_be_added_changed_or_deleted(admin_client_, version):
    event = AuditEvent.objects.first()
    before = (event.reason, event.hash, AuditEvent.objects.count())
    assert admin_client_.get(reverse("admin:audit_auditevent_add")).status_code == 403
    detail = reverse("admin:audit_auditevent_change", args=[event.pk])
    page = admin_client_.get(detail)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert admin_client_.post(detail, {"reason": "edited"}).status_code == 403
    delete = reverse("admin:audit_auditevent_delete", args=[event.pk])
    assert admin_client_.post(delete, {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert (event.reason, event.hash, AuditEvent.objects.count()) == before


def test_auditors_who_are_not_staff_stay_out_of_the_admin(client, auditor):
    client.force_login(auditor)
    response = client.get(reverse("admin:audit_auditevent_changelist"))
    assert response.status_code == 302


def test_the_action_filter_offers_the_declared_actions(admin_client_, version, admin_user):
    url = reverse("admin:audit_auditevent_changelist")
    response = admin_client_.get(url, {"action": "registry.version.registered"})
    assert response.status_code == 200
    shown = list(response.context["cl"].result_list)
    assert shown and {e.action for e in shown} == {"registry.version.registered"}
    html = response.content.decode()
    assert "Version registered" in html and "Audit log exported" in html
