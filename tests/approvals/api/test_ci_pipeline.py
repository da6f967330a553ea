"""The story of issue 9 point 8: a CI pipeline asks why its version cannot go to
Production, fixes nothing but files the request once the dry run is clean, and two
approvers approve with their own tokens; the version is in Production, the old one
archived, and the audit log has the applied transition."""

import pytest

from approvals.audit_actions import ApprovalAction
from audit.models import AuditEvent

from ..conftest import REASON

pytestmark = pytest.mark.django_db


def test_a_pipeline_promotes_a_version_to_production(
    alice, carol, dave, model, make_ready_version, promote
):
    old = make_ready_version(model)
    promote(old, "staging")
    promote(old, "production")
    new = make_ready_version(model)
    base = f"/api/models/{model.name}/versions/{new.number}"

    # The dry run says why Production is out of reach: the version was never in Staging.
    dry = alice.get(f"{base}/gates/", {"stage": "production"}).json()
    assert dry["gates_passed"] is False
    assert dry["replaces_version"] == old.number
    assert dry["problems"] == [
        "Allowed move: requires Not staged to Production; has This version has not been in "
        "Staging, and the production policy that applies does not allow skipping it: "
        "request Staging first."
    ]

    # Staging first: one approval.
    staging = alice.post(
        f"{base}/transition-requests/", {"to_stage": "staging", "reason": REASON}
    ).json()
    assert carol.post(f"/api/transition-requests/{staging['id']}/approve/").json()["state"] == (
        "applied"
    )

    # Now the dry run is clean, and names who can approve.
    dry = alice.get(f"{base}/gates/", {"stage": "production"}).json()
    assert dry["problems"] == [] and dry["gates_passed"] is True
    assert dry["approvals_required"] == 2 and dry["eligible_approvers"] == ["carol", "dave"]

    filed = alice.post(f"{base}/transition-requests/", {"to_stage": "production", "reason": REASON})
    assert filed.status_code == 201
    request_url = filed["Location"]
    pk = filed.json()["id"]

    # carol's inbox has it; she approves: one more needed.
    inbox = carol.get("/api/transition-requests/", {"waiting_for_me": "true"}).json()
    assert [r["id"] for r in inbox["results"]] == [pk]
    first = carol.post(f"/api/transition-requests/{pk}/approve/", {"comment": "Metrics hold."})
    assert first.json()["state"] == "open" and first.json()["approvals_missing"] == 1
    assert first.json()["may_still_approve"] == ["dave"]

    second = dave.post(f"/api/transition-requests/{pk}/approve/", {"comment": "Card reviewed."})
    assert second.status_code == 200
    assert second.json()["state"] == "applied"

    final = alice.get(request_url).json()
    assert final["state"] == "applied" and final["event_hash"]
    assert [a["reviewer"] for a in final["approvals"]] == ["carol", "dave"]
    new.refresh_from_db()
    old.refresh_from_db()
    assert (new.stage, old.stage) == ("production", "archived")
    event = AuditEvent.objects.get(action=ApprovalAction.APPLIED, request_id=pk)
    assert event.hash == final["event_hash"]
    assert [a["user"] for a in event.changes["approvers"]] == ["carol", "dave"]
    assert event.changes["archived_version"] == old.number
