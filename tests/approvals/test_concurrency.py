"""Concurrent approvals and applications on PostgreSQL end with exactly one Production
version per model (DESIGN invariant 1), and the loser is told why."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from approvals.errors import ApprovalError
from approvals.models import RequestState, TransitionRequest
from approvals.services import (
    approver_grant,
    review_approve,
    transition_apply,
    transition_request,
)
from registry.models import ModelVersion
from registry.stages import Stage

from .conftest import REASON

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_fifty_concurrent_approvals_across_two_versions_leave_one_in_production(
    django_user_model, admin_user, member, model, make_ready_version, promote
):
    versions = [make_ready_version(model), make_ready_version(model)]
    for v in versions:
        promote(v, "staging")
    reviewers = []
    for i in range(10):
        user = django_user_model.objects.create_user(f"approver{i}", f"a{i}@example.com", "pw")
        approver_grant(actor=admin_user, stage="production", model=model, user=user)
        reviewers.append(user)
    requests = [
        transition_request(actor=member, version=v, to_stage="production", reason=REASON)
        for v in versions
    ]
    start = threading.Barrier(50)
    outcomes: list[str] = []

    def call(i: int) -> None:
        request = requests[i % 2]
        reviewer = reviewers[(i // 2) % len(reviewers)]
        start.wait()
        try:
            if i % 5 == 4:
                transition_apply(actor=member, request=request)
                outcomes.append("apply")
            else:
                review_approve(actor=reviewer, request=request)
                outcomes.append("approved")
        except (ApprovalError, PermissionDenied) as exc:
            outcomes.append(f"refused: {exc}")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=50) as pool:
        list(pool.map(call, range(50)))

    assert len(outcomes) == 50
    assert not [o for o in outcomes if o.startswith("refused") and "already" not in o]
    in_production = ModelVersion.objects.filter(model=model, stage=Stage.PRODUCTION)
    assert in_production.count() == 1
    states = sorted(
        TransitionRequest.objects.filter(pk__in=[r.pk for r in requests]).values_list(
            "state", flat=True
        )
    )
    assert RequestState.APPLIED in states
    model.refresh_from_db()
    assert model.current_stage == Stage.PRODUCTION
