"""GET /api/models/{name}/versions/{number}/gates/?stage=: what a request would be judged
on, and everything in its way, without filing anything."""

import pytest

from approvals.models import TransitionRequest
from approvals.services import transition_request
from audit.models import AuditEvent

from ..conftest import REASON

pytestmark = pytest.mark.django_db


def test_it_shows_why_a_version_cannot_reach_production(alice, version, approver, gates_url):
    before = AuditEvent.objects.count()
    response = alice.get(gates_url(version, "production"))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["model"] == "fraud-scorer" and body["version"] == 1
    assert body["from_stage"] == "none" and body["to_stage"] == "production"
    assert body["gates_passed"] is False
    assert body["policy"]["where"] == "Organisation, Medium risk"
    assert body["approvals_required"] == 2
    assert body["approvers"] == body["eligible_approvers"] == ["carol"]
    assert body["can_request"] is True
    assert body["pending_request"] is None
    assert body["problems"][0] == (
        "Allowed move: requires Not staged to Production; has This version has not been in "
        "Staging, and the production policy that applies does not allow skipping it: "
        "request Staging first."
    )
    assert any(p.startswith("Lineage: requires") for p in body["problems"])
    assert (
        "2 approval(s) needed, but only 1 named approver(s) could give one: carol. "
        "Ask governance staff to name approvers."
    ) in body["problems"]
    # A dry run files nothing and records nothing.
    assert not TransitionRequest.objects.exists()
    assert AuditEvent.objects.count() == before


def test_a_ready_version_has_no_problems_for_staging(
    alice, ready_version, approver, second_approver, gates_url
):
    body = alice.get(gates_url(ready_version, "staging")).json()
    assert body["gates_passed"] is True
    assert body["problems"] == []
    assert body["eligible_approvers"] == ["carol", "dave"]


def test_the_author_is_not_an_eligible_approver_under_separation_of_duties(
    carol, ready_version, approver, second_approver, gates_url
):
    # carol asks; the version's author alice is not an approver anyway, and carol
    # would be the requester, so only dave could approve.
    body = carol.get(gates_url(ready_version, "staging")).json()
    assert body["eligible_approvers"] == ["dave"]
    assert body["can_request"] is False
    assert body["problems"][0] == (
        "Only members of team Fraud Detection can request stage changes of fraud-scorer."
    )


def test_it_points_at_the_request_already_waiting(alice, member, ready_version, gates_url):
    tr = transition_request(actor=member, version=ready_version, to_stage="staging", reason=REASON)
    body = alice.get(gates_url(ready_version, "staging")).json()
    assert body["pending_request"] == {
        "id": tr.pk,
        "url": f"http://testserver/api/transition-requests/{tr.pk}/",
    }
    assert f"Request #{tr.pk} to move v1 to Staging is already waiting." in body["problems"]


@pytest.mark.parametrize("query", ["", "?stage=", "?stage=none", "?stage=Production"])
def test_the_stage_is_required_and_checked(alice, version, query):
    response = alice.get(f"/api/models/fraud-scorer/versions/1/gates/{query}")
    assert response.status_code == 400
    assert "stage" in response.json()["errors"]


def test_an_unknown_version_is_a_json_404(alice, version):
    response = alice.get("/api/models/fraud-scorer/versions/7/gates/?stage=staging")
    assert response.status_code == 404
