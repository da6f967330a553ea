"""POST /api/models/{name}/versions/{number}/transition-requests/: a pipeline files a
request with a reason; the service's refusals come back as JSON with the right status."""

import pytest

from approvals.audit_actions import ApprovalAction
from approvals.models import TransitionRequest
from audit.models import AuditEvent

from ..conftest import REASON

pytestmark = pytest.mark.django_db


def test_a_member_files_a_request_and_gets_it_back_with_its_gates(
    alice, ready_version, approver, second_approver, requests_url
):
    response = alice.post(requests_url(ready_version), {"to_stage": "staging", "reason": REASON})
    assert response.status_code == 201, response.json()
    body = response.json()
    tr = TransitionRequest.objects.get()
    assert body["id"] == tr.pk
    assert (
        response["Location"] == body["url"] == f"http://testserver/api/transition-requests/{tr.pk}/"
    )
    assert body["web_url"] == f"http://testserver/approvals/requests/{tr.pk}/"
    assert body["state"] == "open" and body["to_stage"] == "staging"
    assert body["from_stage"] == "none" and body["requester"] == "alice"
    assert body["reason"] == REASON
    assert body["gates_passed"] is True
    assert body["gates"][0] == {
        "check": "Allowed move",
        "required": "Not staged to Staging",
        "actual": "allowed",
        "passed": True,
    }
    assert body["policy"]["where"] == "Organisation, Medium risk"
    assert body["approvals_required"] == 1 and body["approvals_missing"] == 1
    assert body["approvers"] == ["carol", "dave"]
    assert body["may_still_approve"] == ["carol", "dave"]
    assert body["you"] == {"approve": False, "reject": False, "withdraw": True, "apply": False}
    event = AuditEvent.objects.get(action=ApprovalAction.REQUESTED)
    assert event.request_id == tr.pk and event.reason == REASON


def test_a_request_whose_gates_fail_is_filed_and_says_which(alice, version, requests_url):
    # `version` has no card, data versions or run: the staging gates fail.
    response = alice.post(requests_url(version), {"to_stage": "staging", "reason": REASON})
    assert response.status_code == 201
    body = response.json()
    assert body["gates_passed"] is False
    failing = [g["check"] for g in body["gates"] if not g["passed"]]
    assert "Card: Model details" in failing


def test_a_short_reason_is_a_400_naming_the_field(alice, ready_version, requests_url):
    response = alice.post(requests_url(ready_version), {"to_stage": "staging", "reason": "ok"})
    assert response.status_code == 400
    assert "three words" in response.json()["errors"]["reason"][0]
    assert not TransitionRequest.objects.exists()


def test_a_move_the_state_machine_refuses_is_a_400_naming_to_stage(
    alice, ready_version, requests_url
):
    response = alice.post(requests_url(ready_version), {"to_stage": "production", "reason": REASON})
    assert response.status_code == 400
    assert "request Staging first" in response.json()["errors"]["to_stage"][0]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"to_stage": "none", "reason": REASON}, "to_stage"),
        ({"reason": REASON}, "to_stage"),
        ({"to_stage": "staging"}, "reason"),
        ({"to_stage": "staging", "reason": REASON, "stage": "production"}, "stage"),
        ({"to_stage": "staging", "reason": REASON, "approved": True}, "approved"),
    ],
)
def test_a_malformed_body_is_a_400_naming_the_field(
    alice, ready_version, requests_url, body, field
):
    response = alice.post(requests_url(ready_version), body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not TransitionRequest.objects.exists()


def test_an_outsider_is_refused_with_who_may(bob, ready_version, requests_url):
    response = bob.post(requests_url(ready_version), {"to_stage": "staging", "reason": REASON})
    assert response.status_code == 403
    assert response.json() == {
        "detail": "Only members of team Fraud Detection can request stage changes of fraud-scorer."
    }
    assert not TransitionRequest.objects.exists()


def test_a_second_request_for_the_same_move_is_a_409(alice, ready_version, requests_url):
    first = alice.post(requests_url(ready_version), {"to_stage": "staging", "reason": REASON})
    again = alice.post(requests_url(ready_version), {"to_stage": "staging", "reason": REASON})
    assert again.status_code == 409
    assert again.json()["detail"].startswith(f"Request #{first.json()['id']} to move v1")
    assert TransitionRequest.objects.count() == 1


def test_an_unknown_model_or_version_is_a_json_404(alice, ready_version):
    body = {"to_stage": "staging", "reason": REASON}
    missing_version = alice.post("/api/models/fraud-scorer/versions/9/transition-requests/", body)
    missing_model = alice.post("/api/models/nope/versions/1/transition-requests/", body)
    assert missing_version.status_code == missing_model.status_code == 404
    assert missing_model.json() == {"detail": "No model named 'nope'."}


def test_a_policy_without_approvals_applies_at_once(alice, ready_version, requests_url):
    response = alice.post(requests_url(ready_version), {"to_stage": "archived", "reason": REASON})
    assert response.status_code == 201
    assert response.json()["state"] == "applied"
    ready_version.refresh_from_db()
    assert ready_version.stage == "archived"
