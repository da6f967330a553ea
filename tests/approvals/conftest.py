"""The cast of the approval workflow: alice (data scientist, requests), carol and dave
(named approvers), gina (governance staff); a medium-risk model whose versions carry
full lineage and a complete card, so every default gate can pass."""

import pytest
from django.contrib.auth.models import Group

from registry.choices import CARD_SECTION_NAMES

REASON = "Beats the current model on the Q3 hold-out; fraud ops signed off."
ROLLBACK_REASON = "v2 doubles the false positives on card payments"
FORMULA_REASON = '=HYPERLINK("http://evil.example","click") is why we stop'


@pytest.fixture
def approver(django_user_model, admin_user, model):
    from approvals.services import approver_grant

    user = django_user_model.objects.create_user("carol", "carol@example.com", "pw")
    for stage in ("staging", "production", "archived"):
        approver_grant(actor=admin_user, stage=stage, model=model, user=user)
    return user


@pytest.fixture
def second_approver(django_user_model, admin_user, model):
    from approvals.services import approver_grant

    user = django_user_model.objects.create_user("dave", "dave@example.com", "pw")
    for stage in ("staging", "production", "archived"):
        approver_grant(actor=admin_user, stage=stage, model=model, user=user)
    return user


@pytest.fixture
def governance(django_user_model):
    user = django_user_model.objects.create_user("gina", "gina@example.com", "pw")
    user.groups.add(Group.objects.get(name="Governance"))
    return user


@pytest.fixture
def make_ready_version(make_version, member):
    """A version with lineage, data versions and every card section written for it."""
    from registry.services import card_update

    def make(model, **overrides):
        values = {
            "run_system": "mlflow",
            "run_id": "run-42",
            "data_versions": [
                {
                    "dataset": "payments",
                    "version_or_uri": "v2024.3",
                    "classification": "confidential",
                }
            ],
            **overrides,
        }
        version = make_version(model, **values)
        card_update(
            actor=member,
            card=version.card,
            sections={name: f"{name} for v{version.number}" for name in CARD_SECTION_NAMES},
        )
        version.refresh_from_db()
        return version

    return make


@pytest.fixture
def ready_version(model, make_ready_version):
    return make_ready_version(model)


@pytest.fixture
def promote(member, approver, second_approver):
    """Take a version to `stage` through the workflow: alice requests, carol and dave
    approve as many times as the policy needs."""
    from approvals.services import review_approve, transition_request

    def run(version, stage, reason=REASON):
        request = transition_request(actor=member, version=version, to_stage=stage, reason=reason)
        for reviewer in (approver, second_approver):
            request.refresh_from_db()
            if not request.is_pending:
                break
            review_approve(actor=reviewer, request=request)
        request.refresh_from_db()
        version.refresh_from_db()
        return request

    return run


@pytest.fixture
def history(member, model, make_ready_version, promote, approver, django_user_model):
    """v1 and v2 promoted to staging and production (four applied requests), v3's
    production request rejected, v4's staging request withdrawn, v1 rolled back to, and
    one request still open (not exported)."""
    from approvals.models import RequestState, TransitionRequest
    from approvals.services import (
        review_reject,
        rollback_emergency,
        transition_request,
        transition_withdraw,
    )

    v1, v2, v3, v4, v5 = (make_ready_version(model) for _ in range(5))
    applied = [promote(v, stage) for v in (v1, v2) for stage in ("staging", "production")]
    promote(v3, "staging")
    rejected = transition_request(actor=member, version=v3, to_stage="production", reason=REASON)
    review_reject(actor=approver, request=rejected, comment="@SUM(A1) the drift report is missing")
    withdrawn = transition_request(
        actor=member, version=v4, to_stage="staging", reason=FORMULA_REASON
    )
    transition_withdraw(actor=member, request=withdrawn, comment="Filed too early")
    breaker = django_user_model.objects.create_user("bree", "bree@example.com", "pw")
    breaker.groups.add(Group.objects.get(name="Break-glass"))
    breaker = django_user_model.objects.get(pk=breaker.pk)
    rollback = rollback_emergency(actor=breaker, model=model, reason=ROLLBACK_REASON)
    still_open = transition_request(actor=member, version=v5, to_stage="staging", reason=REASON)
    applied_by_pk = {r.pk: r for r in applied}
    applied_by_pk.update({r.pk: r for r in TransitionRequest.objects.filter(version=v3)})
    return {
        "applied": [r for r in applied_by_pk.values() if r.state == RequestState.APPLIED],
        "rejected": rejected,
        "withdrawn": withdrawn,
        "rollback": rollback,
        "open": still_open,
    }
