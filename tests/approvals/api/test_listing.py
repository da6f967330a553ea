"""GET /api/transition-requests/ (filters, paging, bounded queries) and the detail."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from approvals.services import review_approve, transition_request, transition_withdraw

from ..conftest import REASON

pytestmark = pytest.mark.django_db

LIST = "/api/transition-requests/"


@pytest.fixture
def three(member, approver, make_ready_version, make_model, model):
    """fraud-scorer v1 (open), v2 (withdrawn), and churn v1 (open)."""
    fraud = model
    churn = make_model(name="churn")
    open_fraud = transition_request(
        actor=member, version=make_ready_version(fraud), to_stage="staging", reason=REASON
    )
    withdrawn = transition_request(
        actor=member, version=make_ready_version(fraud), to_stage="staging", reason=REASON
    )
    transition_withdraw(actor=member, request=withdrawn)
    open_churn = transition_request(
        actor=member, version=make_ready_version(churn), to_stage="staging", reason=REASON
    )
    return open_fraud, withdrawn, open_churn


def _ids(response):
    assert response.status_code == 200, response.json()
    return [r["id"] for r in response.json()["results"]]


def test_the_list_is_newest_first_with_stored_state(alice, three):
    open_fraud, withdrawn, open_churn = three
    response = alice.get(LIST)
    assert _ids(response) == [open_churn.pk, withdrawn.pk, open_fraud.pk]
    first = response.json()["results"][0]
    assert first["model"] == "churn" and first["version"] == 1
    assert first["state"] == "open" and first["requester"] == "alice"
    assert first["url"] == f"http://testserver/api/transition-requests/{open_churn.pk}/"


def test_it_filters_by_state_and_model(alice, three):
    open_fraud, withdrawn, open_churn = three
    assert _ids(alice.get(LIST, {"state": "withdrawn"})) == [withdrawn.pk]
    assert _ids(alice.get(f"{LIST}?state=open&state=withdrawn&model=FRAUD-scorer")) == [
        withdrawn.pk,
        open_fraud.pk,
    ]
    assert _ids(alice.get(LIST, {"model": "nope"})) == []
    assert _ids(alice.get(LIST, {"to_stage": "production"})) == []


def test_waiting_for_me_is_the_approvers_inbox(alice, carol, approver, three):
    open_fraud, withdrawn, open_churn = three
    # carol is a named approver of fraud-scorer only (the `approver` fixture).
    assert _ids(carol.get(LIST, {"waiting_for_me": "true"})) == [open_fraud.pk]
    # alice filed them: nothing waits for her.
    assert _ids(alice.get(LIST, {"waiting_for_me": "true"})) == []
    review_approve(actor=approver, request=open_fraud)
    assert _ids(carol.get(LIST, {"waiting_for_me": "true"})) == []
    assert len(_ids(carol.get(LIST, {"waiting_for_me": "false"}))) == 3


@pytest.mark.parametrize(
    "params, field",
    [
        ({"state": "pending"}, "state"),
        ({"to_stage": "none"}, "to_stage"),
        ({"waiting_for_me": "yes please"}, "waiting_for_me"),
        ({"per_page": "0"}, "per_page"),
    ],
)
def test_a_malformed_filter_is_a_400_naming_it(alice, params, field):
    response = alice.get(LIST, params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_it_is_paginated_and_a_page_past_the_last_is_a_404(alice, three):
    page = alice.get(LIST, {"per_page": 2}).json()
    assert page["count"] == 3 and page["num_pages"] == 2 and page["next"] == 2
    assert len(page["results"]) == 2
    assert alice.get(LIST, {"page": 3}).status_code == 404


def test_the_list_reads_a_fixed_number_of_queries(
    alice, carol, member, approver, make_ready_version, model
):
    def count(client, params):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(LIST, params).status_code == 200
        return len(queries)

    transition_request(
        actor=member, version=make_ready_version(model), to_stage="staging", reason=REASON
    )
    count(alice, {}), count(carol, {"waiting_for_me": "true"})  # warm the caches
    few = count(alice, {}), count(carol, {"waiting_for_me": "true"})
    for _ in range(4):
        transition_request(
            actor=member, version=make_ready_version(model), to_stage="staging", reason=REASON
        )
    assert (count(alice, {}), count(carol, {"waiting_for_me": "true"})) == few


def test_the_detail_reads_a_fixed_number_of_queries(
    dave, member, approver, second_approver, model, make_ready_version, promote
):
    version = make_ready_version(model)
    promote(version, "staging")
    tr = transition_request(actor=member, version=version, to_stage="production", reason=REASON)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert dave.get(f"{LIST}{tr.pk}/").status_code == 200
        return len(queries)

    count()  # warm the caches
    before = count()
    review_approve(actor=approver, request=tr, comment="One of two.")
    assert count() == before <= 25


def test_the_detail_shows_the_policy_its_rules_and_links(carol, member, approver, ready_version):
    tr = transition_request(actor=member, version=ready_version, to_stage="staging", reason=REASON)
    body = carol.get(f"{LIST}{tr.pk}/").json()
    assert body["policy"]["why"] == "The organisation default for medium-risk models."
    assert ["Approvals", "1 distinct named approver"] in [
        [r["rule"], r["requirement"]] for r in body["policy"]["rules"]
    ]
    assert body["you"] == {"approve": True, "reject": True, "withdraw": False, "apply": False}
    assert body["links"]["approve"] == f"http://testserver/api/transition-requests/{tr.pk}/approve/"
    assert body["links"]["version"] == "http://testserver/api/models/fraud-scorer/versions/1/"
