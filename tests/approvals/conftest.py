"""The cast of the approval workflow: alice (data scientist, requests), carol and dave
(named approvers), gina (governance staff); a medium-risk model whose versions carry
full lineage and a complete card, so every default gate can pass."""

import pytest
from django.contrib.auth.models import Group

from registry.choices import CARD_SECTION_NAMES

REASON = "Beats the current model on the Q3 hold-out; fraud ops signed off."


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
