"""Every page and button of the approval workflow, for every kind of user: anonymous
visitors are sent to sign in, anyone signed in may read, only the people the services
allow may act, and a refusal changes nothing and says why."""

import pytest
from django.urls import reverse

from approvals.models import RequestState, Review, TransitionRequest
from approvals.services import transition_request

from .conftest import REASON

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_request(member, ready_version, approver, second_approver):
    return transition_request(
        actor=member, version=ready_version, to_stage="staging", reason=REASON
    )


@pytest.fixture
def users(member, outsider, approver, admin_user):
    return {"member": member, "outsider": outsider, "approver": approver, "admin": admin_user}


def _get(client, users, who, url):
    if who != "anonymous":
        client.force_login(users[who])
    return client.get(url)


@pytest.mark.parametrize(
    "who, status",
    [("anonymous", 302), ("outsider", 200), ("member", 200), ("approver", 200), ("admin", 200)],
)
def test_the_inbox_is_for_everyone_signed_in(client, users, who, status):
    response = _get(client, users, who, reverse("approvals:inbox"))
    assert response.status_code == status
    if who == "anonymous":
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    "who, status",
    [("anonymous", 302), ("outsider", 403), ("approver", 403), ("member", 200), ("admin", 200)],
)
def test_only_the_team_may_open_the_request_form(client, users, ready_version, who, status):
    url = reverse("approvals:request_new", args=[ready_version.model.name, ready_version.number])
    response = _get(client, users, who, url)
    assert response.status_code == status
    if status == 403:
        assert "Only members of team Fraud Detection" in response.content.decode()


@pytest.mark.parametrize("who", ["anonymous", "outsider", "approver"])
def test_people_outside_the_team_cannot_file_a_request(client, users, ready_version, who):
    if who != "anonymous":
        client.force_login(users[who])
    url = reverse("approvals:request_new", args=[ready_version.model.name, ready_version.number])
    response = client.post(url, {"to_stage": "staging", "reason": REASON})
    assert response.status_code == (302 if who == "anonymous" else 403)
    assert not TransitionRequest.objects.exists()


@pytest.mark.parametrize("who", ["outsider", "member", "approver", "admin"])
def test_anyone_signed_in_may_read_a_request(client, users, open_request, who):
    response = _get(client, users, who, reverse("approvals:request", args=[open_request.pk]))
    assert response.status_code == 200
    assert REASON in response.content.decode()


def test_anonymous_visitors_sign_in_to_read_a_request(client, open_request):
    response = client.get(reverse("approvals:request", args=[open_request.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_request_that_does_not_exist_is_not_found(client, member):
    client.force_login(member)
    assert client.get(reverse("approvals:request", args=[999999])).status_code == 404
    assert client.post(reverse("approvals:approve", args=[999999])).status_code == 404


@pytest.mark.parametrize("name", ["approve", "reject", "withdraw", "apply"])
def test_the_buttons_only_take_posts(client, member, open_request, name):
    client.force_login(member)
    assert client.get(reverse(f"approvals:{name}", args=[open_request.pk])).status_code == 405


@pytest.mark.parametrize("name", ["approve", "reject", "withdraw", "apply"])
def test_anonymous_posts_are_sent_to_sign_in_and_change_nothing(client, open_request, name):
    response = client.post(reverse(f"approvals:{name}", args=[open_request.pk]), {"comment": "x"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    open_request.refresh_from_db()
    assert open_request.state == RequestState.OPEN
    assert not Review.objects.exists()


# (button, who, what they are told); every case leaves the request open and unreviewed.
REFUSALS = [
    ("approve", "outsider", "You are not a named approver for Staging of fraud-scorer"),
    ("approve", "member", "You filed this request: someone else must review it."),
    ("approve", "admin", "You are not a named approver"),
    ("reject", "outsider", "You are not a named approver"),
    ("reject", "member", "You filed this request"),
    ("withdraw", "outsider", "Only the person who filed a request can withdraw it."),
    ("withdraw", "approver", "Only the person who filed a request can withdraw it."),
    ("apply", "outsider", "Only the model&#x27;s team and its approvers can apply a request."),
]


@pytest.mark.parametrize("name, who, message", REFUSALS)
def test_refused_buttons_say_why_and_change_nothing(
    client, users, open_request, name, who, message
):
    client.force_login(users[who])
    url = reverse(f"approvals:{name}", args=[open_request.pk])
    response = client.post(url, {"comment": "Looks wrong to me."}, follow=True)
    assert response.status_code == 200
    assert message in response.content.decode()
    open_request.refresh_from_db()
    assert open_request.state == RequestState.OPEN
    assert not Review.objects.exists()


@pytest.mark.parametrize(
    "name, who, state",
    [
        ("approve", "approver", RequestState.APPLIED),
        ("reject", "approver", RequestState.REJECTED),
        ("withdraw", "member", RequestState.WITHDRAWN),
    ],
)
def test_the_people_allowed_act(client, users, open_request, name, who, state):
    client.force_login(users[who])
    url = reverse(f"approvals:{name}", args=[open_request.pk])
    response = client.post(url, {"comment": "Checked the hold-out numbers."})
    assert response.status_code == 302
    open_request.refresh_from_db()
    assert open_request.state == state
