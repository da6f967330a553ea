"""What a data scientist and an approver see on the workflow's pages: the request form,
the review page, the inbox and the navigation's count, and a version's stage history."""

import pytest
from django.urls import reverse

from approvals.models import RequestState, TransitionRequest
from approvals.services import policy_publish, review_approve, review_reject, transition_request
from registry.stages import Stage

from .conftest import REASON

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return response.content.decode()


def _new_url(version) -> str:
    return reverse("approvals:request_new", args=[version.model.name, version.number])


def _version_url(version) -> str:
    return reverse("registry:version_detail", args=[version.model.name, version.number])


# --- Requesting ----------------------------------------------------------------------


def test_the_form_offers_the_moves_the_state_machine_allows_and_says_why_not_the_others(
    client, member, ready_version, approver
):
    client.force_login(member)
    page = _text(client.get(_new_url(ready_version)))
    assert 'value="staging"' in page and 'value="archived"' in page
    assert 'value="production"' not in page
    assert "request Staging first" in page
    # the gates of each move, as they stand now, with who would approve
    assert 'id="preview-staging"' in page and "all gates pass" in page
    assert "Who may approve: carol" in page


def test_filing_a_request_leads_to_its_page(client, member, ready_version, approver):
    client.force_login(member)
    response = client.post(_new_url(ready_version), {"to_stage": "staging", "reason": REASON})
    request = TransitionRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("approvals:request", args=[request.pk])
    page = _text(client.get(response["Location"]))
    assert f"Request #{request.pk} is filed; its approvers have been told." in page
    assert REASON in page and "Waiting for approvals" in page


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"to_stage": "staging", "reason": "ship it"}, "reason", "at least 20 characters"),
        ({"to_stage": "staging", "reason": ""}, "reason", "This field is required."),
        ({"to_stage": "production", "reason": REASON}, "to_stage", "That move is not allowed"),
        ({"reason": REASON}, "to_stage", "This field is required."),
    ],
)
def test_a_bad_request_is_shown_on_its_field_and_nothing_is_filed(
    client, member, ready_version, data, field, message
):
    client.force_login(member)
    response = client.post(_new_url(ready_version), data)
    assert response.status_code == 400
    page = _text(response)
    section = page[page.index(f'id="field-{field}"') :]
    assert message in section[: section.index("</fieldset>" if field == "to_stage" else "</div>\n")]
    assert not TransitionRequest.objects.exists()


def test_a_move_already_requested_is_not_offered_again(client, member, ready_version, approver):
    request = transition_request(
        actor=member, version=ready_version, to_stage="staging", reason=REASON
    )
    client.force_login(member)
    page = _text(client.get(_new_url(ready_version)))
    assert f"Request #{request.pk} for this move is already waiting." in page
    assert 'value="staging"' not in page


def test_a_move_that_needs_no_approval_applies_at_once(client, member, ready_version):
    client.force_login(member)
    response = client.post(
        _new_url(ready_version), {"to_stage": "archived", "reason": REASON}, follow=True
    )
    assert "v1 is now in Archived." in _text(response)
    ready_version.refresh_from_db()
    assert ready_version.stage == Stage.ARCHIVED


# --- The review page --------------------------------------------------------------------


def test_the_review_page_shows_failing_gates(client, member, model, make_version, approver):
    version = make_version(model)  # an empty card: the staging card gates fail
    request = transition_request(actor=member, version=version, to_stage="staging", reason=REASON)
    client.force_login(approver)
    page = _text(client.get(reverse("approvals:request", args=[request.pk])))
    assert "Some gates fail" in page
    assert '<tr class="gate-fail"><td>Card: Model details</td>' in page
    assert "<td>empty</td>" in page


def test_the_review_page_compares_with_production_and_shows_the_card(
    client, member, model, make_ready_version, promote, approver
):
    v1 = make_ready_version(model)
    promote(v1, "staging")
    promote(v1, "production")
    v2 = make_ready_version(model, metrics=[{"name": "auc", "value": 0.95, "dataset": "holdout"}])
    promote(v2, "staging")
    request = transition_request(actor=member, version=v2, to_stage="production", reason=REASON)
    client.force_login(approver)
    page = _text(client.get(reverse("approvals:request", args=[request.pk])))
    assert "v1 · 1.0.0</a>, the current production version; B is this request" in page
    # metric deltas per metric and dataset
    metrics = page[page.index('id="compare-metrics"') :]
    assert "<td>auc</td><td>holdout</td>" in metrics and "+0.14" in metrics
    # card section diffs and the card itself
    assert '<span class="diff-line diff-add">+ intended_use for v2</span>' in page
    assert 'id="section-intended_use"' in page and "Written for v2" in page
    assert "Who may approve" in page and 'dave <span class="muted">(may approve)' in page


def test_a_stale_approval_says_what_changed(
    client, member, ready_version, approver, second_approver
):
    from registry.services import card_update

    request = transition_request(
        actor=member, version=ready_version, to_stage="staging", reason=REASON
    )
    policy_publish(
        actor=_governor(),
        model=ready_version.model,
        stage="staging",
        rules={"required_approvals": 2},
        reason="Two people look at staging for this model.",
    )
    review_approve(actor=approver, request=request)
    card_update(actor=member, card=ready_version.card, sections={"intended_use": "Changed."})
    client.force_login(second_approver)
    page = _text(client.get(reverse("approvals:request", args=[request.pk])))
    assert "No longer counts: the model card changed since." in page
    assert 'carol <span class="muted">(approved earlier, must approve again)' in page


def _two_approvals_for_staging(model, governor=None):
    policy_publish(
        actor=governor or _governor(),
        model=model,
        stage="staging",
        rules={"required_approvals": 2},
        reason="Two people look at staging for this model.",
    )


def test_a_stale_approval_brings_the_request_back_to_the_inbox(
    client, member, ready_version, approver, django_capture_on_commit_callbacks
):
    from registry.services import card_update

    _two_approvals_for_staging(ready_version.model)
    request = transition_request(
        actor=member, version=ready_version, to_stage="staging", reason=REASON
    )
    review_approve(actor=approver, request=request)
    client.force_login(approver)
    inbox_url = reverse("approvals:inbox")
    assert f'id="waiting-{request.pk}"' not in _text(client.get(inbox_url))
    with django_capture_on_commit_callbacks(execute=True):
        card_update(actor=member, card=ready_version.card, sections={"intended_use": "Changed."})
    page = _text(client.get(inbox_url))
    row = page[page.index(f'id="waiting-{request.pk}"') :]
    assert "Your approval is stale" in row[: row.index("</tr>")]
    assert 'id="reviews-count"' in page
    # approving again takes it out for good
    review_approve(actor=approver, request=request)
    assert f'id="waiting-{request.pk}"' not in _text(client.get(inbox_url))


def test_an_edit_that_is_undone_makes_the_approval_count_again(
    member, ready_version, approver, django_capture_on_commit_callbacks
):
    from approvals.selectors import inbox_count
    from registry.services import card_update

    _two_approvals_for_staging(ready_version.model)
    request = transition_request(
        actor=member, version=ready_version, to_stage="staging", reason=REASON
    )
    original = ready_version.card.intended_use
    review_approve(actor=approver, request=request)
    with django_capture_on_commit_callbacks(execute=True):
        card_update(actor=member, card=ready_version.card, sections={"intended_use": "Changed."})
    assert inbox_count(approver) == 1
    ready_version.card.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        card_update(actor=member, card=ready_version.card, sections={"intended_use": original})
    assert inbox_count(approver) == 0


def test_a_new_version_of_the_models_policy_makes_approvals_under_the_old_one_stale(
    member, ready_version, approver, django_capture_on_commit_callbacks
):
    from approvals.models import Review
    from approvals.selectors import inbox_count

    governor = _governor()
    _two_approvals_for_staging(ready_version.model, governor)
    request = transition_request(
        actor=member, version=ready_version, to_stage="staging", reason=REASON
    )
    review_approve(actor=approver, request=request)
    assert inbox_count(approver) == 0
    with django_capture_on_commit_callbacks(execute=True):
        _two_approvals_for_staging(ready_version.model, governor)
    assert Review.objects.get(request=request).stale_at is not None
    assert inbox_count(approver) == 1


def _governor():
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user = get_user_model().objects.create_user("gwen", "gwen@example.com", "pw")
    user.groups.add(Group.objects.get(name="Governance"))
    return get_user_model().objects.get(pk=user.pk)


def test_approving_twice_is_refused_with_a_message(
    client, member, ready_version, approver, second_approver
):
    policy_publish(
        actor=_governor(),
        model=ready_version.model,
        stage="staging",
        rules={"required_approvals": 2},
        reason="Two people look at staging for this model.",
    )
    request = transition_request(
        actor=member, version=ready_version, to_stage="staging", reason=REASON
    )
    client.force_login(approver)
    url = reverse("approvals:approve", args=[request.pk])
    first = _text(client.post(url, follow=True))
    assert "Your approval is recorded." in first
    assert 'carol <span class="muted">(approved)' in first
    # The approve button is gone; a second post (another tab) is refused.
    assert 'id="approve-button"' not in first
    again = _text(client.post(url, follow=True))
    assert "You have already approved this request; each approver counts once." in again


def test_a_rejection_needs_a_comment_and_the_requester_reads_it(
    client, member, ready_version, approver
):
    request = transition_request(
        actor=member, version=ready_version, to_stage="staging", reason=REASON
    )
    client.force_login(approver)
    assert "has no version in Production to compare with." in _text(
        client.get(reverse("approvals:request", args=[request.pk]))
    )
    url = reverse("approvals:reject", args=[request.pk])
    refused = _text(client.post(url, {"comment": "  "}, follow=True))
    assert "Say why you reject it; the requester reads this." in refused
    request.refresh_from_db()
    assert request.state == RequestState.OPEN
    client.post(url, {"comment": "The hold-out is from last year."})
    client.force_login(member)
    page = _text(client.get(reverse("approvals:request", args=[request.pk])))
    assert "Why rejected" in page and "The hold-out is from last year." in page
    inbox = _text(client.get(reverse("approvals:inbox")))
    assert "Rejected" in inbox and "“The hold-out is from last year.”" in inbox


def test_the_requester_withdraws_from_the_page(client, member, ready_version, approver):
    request = transition_request(
        actor=member, version=ready_version, to_stage="staging", reason=REASON
    )
    client.force_login(member)
    page = _text(client.get(reverse("approvals:request", args=[request.pk])))
    assert 'id="withdraw-button"' in page and 'id="approve-button"' not in page
    page = _text(client.post(reverse("approvals:withdraw", args=[request.pk]), follow=True))
    assert "The request is withdrawn." in page and 'id="withdraw-button"' not in page


def test_a_blocked_request_without_approvals_applies_once_the_gates_pass(
    client, member, model, make_version, outsider
):
    from registry.services import card_update

    policy_publish(
        actor=_governor(),
        model=model,
        stage="staging",
        rules={"required_approvals": 0, "required_sections": ["model_details"]},
        reason="Staging only needs a written card for this model.",
    )
    version = make_version(model)
    request = transition_request(actor=member, version=version, to_stage="staging", reason=REASON)
    assert request.state == RequestState.BLOCKED
    client.force_login(outsider)
    assert 'id="apply-button"' not in _text(
        client.get(reverse("approvals:request", args=[request.pk]))
    )
    client.force_login(member)
    page = _text(client.get(reverse("approvals:request", args=[request.pk])))
    assert "Approved, blocked" in page and 'id="apply-button"' in page
    apply_url = reverse("approvals:apply", args=[request.pk])
    still = _text(client.post(apply_url, follow=True))
    assert "It cannot apply yet: Approved, but gates fail: Card: Model details: empty" in still
    card_update(actor=member, card=version.card, sections={"model_details": "A GBM."})
    done = _text(client.post(apply_url, follow=True))
    assert "v1 is now in Staging." in done
    version.refresh_from_db()
    assert version.stage == Stage.STAGING


# --- The inbox and the navigation ---------------------------------------------------------


def test_the_inbox_lists_waiting_requests_oldest_first(
    client, member, model, make_ready_version, approver
):
    older, newer = make_ready_version(model), make_ready_version(model)
    first = transition_request(actor=member, version=older, to_stage="staging", reason=REASON)
    second = transition_request(actor=member, version=newer, to_stage="staging", reason=REASON)
    client.force_login(approver)
    page = _text(client.get(reverse("approvals:inbox")))
    assert page.index(f'id="waiting-{first.pk}"') < page.index(f'id="waiting-{second.pk}"')
    row = page[page.index(f'id="waiting-{first.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "fraud-scorer" in row and "v1" in row and "alice" in row and "gates-pass" in row
    assert '<span class="nav-count" id="reviews-count"' in page and ">2</span>" in page
    # the requester does not review their own: it is under "Your requests"
    client.force_login(member)
    page = _text(client.get(reverse("approvals:inbox")))
    assert "Nothing is waiting for your review." in page
    assert f'id="mine-{first.pk}"' in page and 'id="reviews-count"' not in page


def test_the_navigation_counts_requests_waiting_on_every_page(
    client, member, model, make_ready_version, approver, monkeypatch
):
    for _ in range(3):
        transition_request(
            actor=member, version=make_ready_version(model), to_stage="staging", reason=REASON
        )
    client.force_login(approver)
    page = _text(client.get(reverse("registry:catalog")))
    assert 'id="reviews-count" title="3 requests waiting for your review">3</span>' in page
    monkeypatch.setattr("approvals.context_processors.NAV_CAP", 2)
    page = _text(client.get(reverse("registry:catalog")))
    assert ">2+</span>" in page


def test_the_navigation_count_costs_one_query_and_nothing_until_shown(
    rf, member, model, make_ready_version, approver, django_assert_max_num_queries
):
    from django.contrib.auth.models import AnonymousUser

    from approvals.context_processors import reviews_waiting

    transition_request(
        actor=member, version=make_ready_version(model), to_stage="staging", reason=REASON
    )
    request = rf.get("/")
    request.user = approver
    with django_assert_max_num_queries(0):
        waiting = reviews_waiting(request)["reviews_waiting"]
    with django_assert_max_num_queries(1):
        assert (waiting.count, waiting.label) == (1, "1")
    request.user = AnonymousUser()
    with django_assert_max_num_queries(0):
        assert reviews_waiting(request)["reviews_waiting"].count == 0


def test_the_inbox_costs_the_same_few_queries_however_many_requests_wait(
    client, member, model, make_model, make_ready_version, approver, django_assert_max_num_queries
):
    from approvals.services import approver_grant

    client.force_login(approver)
    url = reverse("approvals:inbox")
    client.get(url)  # per-process caches (content types) are warm from here on
    for i in range(12):
        other = make_model(name=f"other-{i}")
        approver_grant(actor=_admin(), stage="staging", model=other, user=approver)
        transition_request(
            actor=member, version=make_ready_version(other), to_stage="staging", reason=REASON
        )
        transition_request(
            actor=member, version=make_ready_version(model), to_stage="staging", reason=REASON
        )
    with django_assert_max_num_queries(10):
        page = _text(client.get(url))
    assert page.count('<tr id="waiting-') == 24


def test_the_inbox_pages_through_both_lists_by_request_number(
    client, member, model, make_ready_version, approver, monkeypatch
):
    monkeypatch.setattr("approvals.selectors.INBOX_PAGE", 5)
    filed = [
        transition_request(
            actor=member, version=make_ready_version(model), to_stage="staging", reason=REASON
        ).pk
        for _ in range(7)
    ]
    url = reverse("approvals:inbox")
    client.force_login(approver)
    page = _text(client.get(url))
    assert "Waiting for your review (7)" in page
    assert [f'id="waiting-{pk}"' in page for pk in filed] == [True] * 5 + [False] * 2
    assert f'href="?after={filed[4]}#waiting"' in page and "Next 5 waiting" in page
    page = _text(client.get(url, {"after": filed[4]}))
    assert [f'id="waiting-{pk}"' in page for pk in filed] == [False] * 5 + [True] * 2
    assert 'id="waiting-next"' not in page and 'id="waiting-first"' in page
    assert "Waiting for your review (7)" in page  # the count is of all, not of this page
    page = _text(client.get(url, {"after": filed[-1]}))
    assert "Nothing more is waiting after request" in page
    # the requester's own list: newest first, older ones a click away
    client.force_login(member)
    page = _text(client.get(url))
    assert [f'id="mine-{pk}"' in page for pk in filed] == [False] * 2 + [True] * 5
    assert f'href="?before={filed[2]}#mine"' in page
    page = _text(client.get(url, {"before": filed[2]}))
    assert [f'id="mine-{pk}"' in page for pk in filed] == [True] * 2 + [False] * 5


@pytest.mark.parametrize("query", ["after=abc", "before=-1", "after=1e3", "before=%EF%BC%91"])
def test_a_malformed_inbox_position_is_a_400_that_says_so(client, approver, query):
    client.force_login(approver)
    response = client.get(reverse("approvals:inbox") + "?" + query)
    assert response.status_code == 400
    assert "Give the number of a request to continue from." in _text(response)


def _admin():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="admin")


# --- The version page -------------------------------------------------------------------


def test_the_version_page_shows_its_stage_history(
    client, member, outsider, model, make_ready_version, approver, second_approver, promote
):
    version = make_ready_version(model)
    applied = promote(version, "staging")
    rejected = transition_request(
        actor=member, version=version, to_stage="production", reason="Ready for all traffic now."
    )
    review_reject(actor=approver, request=rejected, comment="Wait for the fairness review.")
    client.force_login(outsider)
    page = _text(client.get(_version_url(version)))
    history = page[page.index('id="stage-history"') :]
    assert history.index(f'id="history-{rejected.pk}"') < history.index(
        f'id="history-{applied.pk}"'
    )
    row = history[history.index(f'id="history-{rejected.pk}"') :]
    row = row[: row.index("</tr>")]
    assert reverse("approvals:request", args=[rejected.pk]) in row
    assert "alice" in row and "Ready for all traffic now." in row
    assert "carol rejected: “Wait for the fairness review.”" in row and "Rejected" in row
    assert "carol approved" in history and "Applied" in history
    # only the team is offered the request button
    assert 'id="request-stage-change"' not in page
    client.force_login(member)
    assert 'id="request-stage-change"' in _text(client.get(_version_url(version)))


def test_the_version_page_says_which_card_sections_were_reviewed_for_it(
    client, member, model, make_ready_version, make_version
):
    from registry.services import card_update

    make_ready_version(model)
    version = make_version(model)  # its card is inherited from v1, not yet reviewed
    card_update(actor=member, card=version.card, sections={}, confirm=["intended_use"])
    client.force_login(member)
    page = _text(client.get(_version_url(version)))
    summary = page[page.index('id="section-review"') :]
    summary = summary[: summary.index("</ul>")]
    intended = summary[summary.index('id="review-intended_use"') :]
    assert '<span class="badge reviewed">reviewed</span>' in intended[: intended.index("</li>")]
    details = summary[summary.index('id="review-model_details"') :]
    assert "inherited from v1, not reviewed" in details[: details.index("</li>")]


def test_a_rollback_review_compares_with_the_version_it_replaced(
    client, member, model, make_ready_version, promote, approver, django_user_model
):
    from django.contrib.auth.models import Group

    from approvals.services import rollback_emergency

    v1, v2 = make_ready_version(model), make_ready_version(model)
    for v in (v1, v2):
        promote(v, "staging")
        promote(v, "production")
    breaker = django_user_model.objects.create_user("bree", "bree@example.com", "pw")
    breaker.groups.add(Group.objects.get(name="Break-glass"))
    breaker = django_user_model.objects.get(pk=breaker.pk)
    review = rollback_emergency(actor=breaker, model=model, reason="v2 doubles the false positives")
    client.force_login(approver)
    page = _text(client.get(reverse("approvals:request", args=[review.pk])))
    assert "Review of an emergency rollback" in page
    assert "v2 · 2.0.0</a>, the version the rollback replaced; B is this request" in page
    assert 'id="compare-metrics"' in page and 'id="approve-button"' in page


def test_the_navigation_leads_to_the_policies(client, member):
    client.force_login(member)
    html = client.get("/").content.decode()
    assert 'id="nav-policies"' in html and 'href="/approvals/policies/"' in html
    page = client.get("/approvals/policies/").content.decode()
    assert 'id="nav-policies" aria-current="page"' in page
