"""Naming and removing approvers: governance staff and admins only, each change audited.
(These replace registry's single-permission model_approver_grant/revoke.)"""

import re

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from approvals.approvers import approver_ids, can_approve
from approvals.audit_actions import ApprovalAction
from approvals.services import approver_grant, approver_revoke
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_only_governance_staff_and_admins_name_approvers(model, member, outsider, governance):
    with pytest.raises(PermissionDenied, match="governance staff and admins"):
        approver_grant(actor=member, stage="production", model=model, user=outsider)
    assert outsider.pk not in approver_ids(model, "production")
    assert not AuditEvent.objects.filter(action=ApprovalAction.APPROVER_GRANTED).exists()

    approver_grant(actor=governance, stage="production", model=model, user=outsider)
    assert can_approve(outsider, model, "production")
    assert not can_approve(outsider, model, "staging")  # named per stage
    event = AuditEvent.objects.get(action=ApprovalAction.APPROVER_GRANTED)
    assert event.actor == governance
    assert event.changes["user"] == outsider.get_username()
    assert event.changes["stage"] == "production"


def test_a_revoked_approver_no_longer_approves(model, outsider, admin_user, member):
    approver_grant(actor=admin_user, stage="production", model=model, user=outsider)
    with pytest.raises(PermissionDenied):
        approver_revoke(actor=member, stage="production", model=model, user=outsider)
    approver_revoke(actor=admin_user, stage="production", model=model, user=outsider)
    assert not can_approve(outsider, model, "production")
    assert AuditEvent.objects.filter(action=ApprovalAction.APPROVER_REVOKED).count() == 1


def test_the_audit_log_says_which_stage_and_where_for_each_grant_and_revoke(
    client, model, outsider, admin_user, governance
):
    reviewers = Group.objects.create(name="Fraud reviewers")
    approver_grant(actor=governance, stage="staging", model=model, user=outsider)
    approver_grant(actor=governance, stage="production", team=model.team, group=reviewers)
    approver_revoke(actor=governance, stage="staging", model=model, user=outsider)
    approver_revoke(actor=governance, stage="production", team=model.team, group=reviewers)

    client.force_login(admin_user)
    html = client.get(reverse("audit:events")).content.decode()
    sentences = [
        " ".join(re.sub(r"<[^>]+>", " ", cell).split())
        for cell in re.findall(r'<td class="event-summary">(.*?)<br>', html, re.S)
    ]
    assert sentences[:4] == [
        "group Fraud reviewers no longer approver of moves into Production for every model "
        "of team Fraud Detection by gina",
        "bob no longer approver of moves into Staging for model fraud-scorer by gina",
        "group Fraud reviewers named approver of moves into Production for every model of "
        "team Fraud Detection by gina",
        "bob named approver of moves into Staging for model fraud-scorer by gina",
    ]
