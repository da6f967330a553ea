"""The permission matrix of every approvals API endpoint: anonymous callers get a 401;
reads are open to every token holder (as the pages are); each write is refused, with
the service's message, to everyone but those the workflow names."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from approvals.audit_actions import ApprovalAction
from approvals.services import transition_request
from audit.models import ActorKind, AuditEvent

from ..conftest import REASON

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("get", "/api/transition-requests/"),
    ("get", "/api/transition-requests/{pk}/"),
    ("post", "/api/transition-requests/{pk}/approve/"),
    ("post", "/api/transition-requests/{pk}/reject/"),
    ("post", "/api/transition-requests/{pk}/withdraw/"),
    ("post", "/api/transition-requests/{pk}/apply/"),
    ("get", "/api/models/fraud-scorer/versions/1/gates/?stage=staging"),
    ("post", "/api/models/fraud-scorer/versions/1/transition-requests/"),
]


@pytest.fixture
def filed(member, ready_version, approver):
    return transition_request(
        actor=member, version=ready_version, to_stage="staging", reason=REASON
    )


@pytest.mark.parametrize("method, url", ENDPOINTS)
def test_anonymous_callers_get_a_json_401(filed, method, url):
    response = getattr(APIClient(), method)(url.format(pk=filed.pk), {}, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json()["detail"].startswith("Send a personal API token")


@pytest.mark.parametrize("method, url", [e for e in ENDPOINTS if e[0] == "get"])
@pytest.mark.parametrize("who", ["alice", "bob", "carol"])
def test_every_token_holder_may_read(request, filed, method, url, who):
    client = request.getfixturevalue(who)
    assert client.get(url.format(pk=filed.pk)).status_code == 200


# (who, action, body) -> status: alice filed it (and wrote the version), carol is a
# named approver, bob is in another team.
WRITES = [
    ("bob", "approve", {}, 403),
    ("bob", "reject", {"comment": "no"}, 403),
    ("bob", "withdraw", {}, 403),
    ("bob", "apply", None, 403),
    ("alice", "approve", {}, 403),
    ("alice", "reject", {"comment": "no"}, 403),
    ("carol", "withdraw", {}, 403),
    ("alice", "apply", None, 200),  # the team may check an open request again
    ("carol", "reject", {"comment": "Not yet."}, 200),
    ("carol", "approve", {}, 200),
    ("alice", "withdraw", {}, 200),
]


@pytest.mark.parametrize("who, action, body, expected", WRITES)
def test_writes_follow_the_workflow(request, filed, who, action, body, expected):
    client = request.getfixturevalue(who)
    response = client.post(f"/api/transition-requests/{filed.pk}/{action}/", body, format="json")
    assert response.status_code == expected, response.json()
    if expected == 403:
        filed.refresh_from_db()
        assert filed.state == "open" and not filed.reviews.exists()


@pytest.mark.parametrize("who, expected", [("bob", 403), ("carol", 403), ("alice", 201)])
def test_only_the_owning_team_may_request(request, ready_version, approver, who, expected):
    client = request.getfixturevalue(who)
    response = client.post(
        "/api/models/fraud-scorer/versions/1/transition-requests/",
        {"to_stage": "staging", "reason": REASON},
    )
    assert response.status_code == expected


def test_a_token_approval_is_audited_as_a_token_action(carol, filed):
    assert carol.post(f"/api/transition-requests/{filed.pk}/approve/").status_code == 200
    event = AuditEvent.objects.get(action=ApprovalAction.APPROVED)
    assert event.actor_kind == ActorKind.TOKEN and event.actor.username == "carol"


def test_a_session_write_without_csrf_is_a_json_403(approver, filed):
    client = Client(enforce_csrf_checks=True)
    client.force_login(approver)
    response = client.post(f"/api/transition-requests/{filed.pk}/approve/")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not filed.reviews.exists()


def test_a_signed_in_session_reads_requests(approver, filed):
    client = Client()
    client.force_login(approver)
    assert client.get(f"/api/transition-requests/{filed.pk}/").json()["you"]["approve"] is True


@pytest.mark.parametrize(
    "url, detail",
    [
        (
            "/api/transition-requests/abc/",
            "No API endpoint at /api/transition-requests/abc/; "
            "the endpoints are listed at /api/docs/.",
        ),
        (
            "/api/transition-requests",
            "No API endpoint at /api/transition-requests; the endpoints are listed at "
            "/api/docs/. Addresses end with a slash.",
        ),
    ],
)
def test_unknown_addresses_next_to_the_approvals_api_are_json_404s(alice, url, detail):
    for method in (alice.get, alice.post):
        response = method(url)
        assert response.status_code == 404
        assert response.json() == {"detail": detail}
