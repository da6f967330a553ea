"""Approve, reject, withdraw and apply over the API: each refusal is the service's own
message with the right status, and nothing changes when it is refused."""

import pytest

from approvals.models import Review, TransitionRequest
from approvals.services import approver_grant, transition_request
from registry.choices import CARD_SECTION_NAMES
from registry.services import card_update, team_member_add

from ..conftest import REASON

pytestmark = pytest.mark.django_db


@pytest.fixture
def filed(member, ready_version):
    return transition_request(
        actor=member, version=ready_version, to_stage="staging", reason=REASON
    )


def _url(tr, action=""):
    return f"/api/transition-requests/{tr.pk}/{action + '/' if action else ''}"


def test_an_approver_approves_and_the_transition_applies(carol, filed, ready_version):
    response = carol.post(_url(filed, "approve"), {"comment": "Numbers check out."})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["state"] == "applied"
    assert body["approvals"] == [
        {
            "reviewer": "carol",
            "at": body["approvals"][0]["at"],
            "comment": "Numbers check out.",
            "counts": None,  # closed: its audit event says which approvals counted
            "stale": [],
        }
    ]
    assert body["event_hash"] and body["closed_by"] == "carol"
    ready_version.refresh_from_db()
    assert ready_version.stage == "staging"


def test_an_approval_without_a_body_is_fine(carol, filed):
    assert carol.post(_url(filed, "approve")).status_code == 200


def test_the_requester_cannot_approve_their_own_request(alice, filed, approver_grant_to):
    approver_grant_to("alice")
    response = alice.post(_url(filed, "approve"))
    assert response.status_code == 403
    assert response.json() == {"detail": "You filed this request: someone else must review it."}
    assert not Review.objects.exists()


def test_the_author_cannot_approve_under_separation_of_duties(
    token_client, django_user_model, admin_user, team, member, ready_version, approver_grant_to
):
    # erin (in the team) requests; alice registered the version and is a named approver.
    erin = django_user_model.objects.create_user("erin", "erin@example.com", "pw")
    team_member_add(actor=admin_user, team=team, user=erin)
    tr = transition_request(actor=erin, version=ready_version, to_stage="staging", reason=REASON)
    approver_grant_to("alice")
    response = token_client(member).post(_url(tr, "approve"))
    assert response.status_code == 403
    assert "under separation of duties its author cannot review" in response.json()["detail"]
    assert not Review.objects.exists()


def test_someone_who_is_not_a_named_approver_is_told_who_is(bob, filed, approver):
    response = bob.post(_url(filed, "approve"))
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "You are not a named approver for Staging of fraud-scorer. Who may approve: carol."
    )


def test_approving_twice_is_a_409(
    carol, member, model, make_ready_version, approver, second_approver
):
    # Production (after staging) needs two approvals: carol's first one stays pending.
    version = make_ready_version(model)
    staging = transition_request(actor=member, version=version, to_stage="staging", reason=REASON)
    carol.post(_url(staging, "approve"))
    tr = transition_request(actor=member, version=version, to_stage="production", reason=REASON)
    assert carol.post(_url(tr, "approve")).json()["approvals_missing"] == 1
    again = carol.post(_url(tr, "approve"))
    assert again.status_code == 409
    assert again.json() == {
        "detail": "You have already approved this request; each approver counts once."
    }


def test_a_stale_approval_is_shown_with_what_changed(
    carol, dave, member, model, make_ready_version, approver, second_approver
):
    version = make_ready_version(model)
    staging = transition_request(actor=member, version=version, to_stage="staging", reason=REASON)
    carol.post(_url(staging, "approve"))
    tr = transition_request(actor=member, version=version, to_stage="production", reason=REASON)
    carol.post(_url(tr, "approve"))
    version.card.refresh_from_db()
    card_update(actor=member, card=version.card, sections={"intended_use": "Changed since."})
    body = dave.get(_url(tr)).json()
    assert body["approvals"][0]["counts"] is False
    assert body["approvals"][0]["stale"] == ["the model card"]
    assert body["approvals_missing"] == 2
    assert body["may_still_approve"] == ["carol", "dave"]


def test_a_rejection_needs_a_comment(carol, filed):
    response = carol.post(_url(filed, "reject"), {"comment": "  "})
    assert response.status_code == 400
    assert "comment" in response.json()["errors"]
    assert carol.post(_url(filed, "reject"), {}).status_code == 400
    filed.refresh_from_db()
    assert filed.state == "open"


def test_an_approver_rejects_with_a_comment_the_requester_sees(carol, alice, filed):
    response = carol.post(_url(filed, "reject"), {"comment": "The hold-out is too small."})
    assert response.status_code == 200
    seen = alice.get(_url(filed)).json()
    assert seen["state"] == "rejected"
    assert seen["close_comment"] == "The hold-out is too small."
    assert seen["rejections"][0]["reviewer"] == "carol"
    assert seen["you"]["withdraw"] is False


def test_the_requester_withdraws(alice, filed):
    response = alice.post(_url(filed, "withdraw"), {"comment": "Retraining first."})
    assert response.status_code == 200
    assert response.json()["state"] == "withdrawn"
    assert response.json()["close_comment"] == "Retraining first."


def test_nobody_else_withdraws(carol, filed):
    response = carol.post(_url(filed, "withdraw"))
    assert response.status_code == 403
    assert response.json() == {"detail": "Only the person who filed a request can withdraw it."}
    filed.refresh_from_db()
    assert filed.state == "open"


def test_a_closed_request_cannot_be_acted_on(alice, carol, filed):
    alice.post(_url(filed, "withdraw"))
    response = carol.post(_url(filed, "approve"))
    assert response.status_code == 409
    assert response.json() == {
        "detail": f"Request #{filed.pk} is already withdrawn; nothing more can be done with it."
    }


def test_a_blocked_request_applies_once_its_gates_pass(
    alice, bob, carol, member, model, make_version
):
    version = make_version(model, run_system="mlflow", run_id="run-1")  # no card: gates fail
    tr = transition_request(actor=member, version=version, to_stage="staging", reason=REASON)
    body = carol.post(_url(tr, "approve")).json()
    assert body["state"] == "blocked"
    assert body["blocked_reason"].startswith("Approved, but gates fail: Card: Model details")
    assert body["you"]["apply"] is True  # the team and the stage's approvers may
    assert bob.get(_url(tr)).json()["you"]["apply"] is False
    assert bob.post(_url(tr, "apply")).status_code == 403
    version.card.refresh_from_db()
    card_update(
        actor=member,
        card=version.card,
        sections={name: f"{name} text" for name in CARD_SECTION_NAMES},
    )
    # Checked again: the gates pass, but carol approved another card, so it waits for her.
    response = alice.post(_url(tr, "apply"))
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "open"
    assert response.json()["blocked_reason"] == (
        "Approvals given before the model card changed no longer count; 1 more needed."
    )
    assert carol.post(_url(tr, "approve")).json()["state"] == "applied"


def test_an_unknown_request_is_a_json_404(carol):
    for action in ("", "approve", "reject", "withdraw", "apply"):
        method = carol.get if not action else carol.post
        response = method(f"/api/transition-requests/999999/{action + '/' if action else ''}")
        assert response.status_code == 404
        assert response.json() == {"detail": "No transition request #999999."}


@pytest.fixture
def approver_grant_to(admin_user, model, django_user_model):
    def grant(username):
        user = django_user_model.objects.get(username=username)
        for stage in ("staging", "production"):
            approver_grant(actor=admin_user, stage=stage, model=model, user=user)

    return grant


def test_nothing_is_filed_by_a_refused_review(bob, filed):
    bob.post(_url(filed, "reject"), {"comment": "No."})
    assert TransitionRequest.objects.get().state == "open"
    assert not Review.objects.exists()
