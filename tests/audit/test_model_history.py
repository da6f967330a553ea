"""A model's own history, for its page (the include the model page renders)."""

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from audit.actions import Action
from audit.selectors import events_for_model
from registry.services import model_update

pytestmark = pytest.mark.django_db


def _render(events, user):
    request = RequestFactory().get("/")
    request.user = user
    return render_to_string(
        "audit/_model_history.html", {"history_events": events}, request=request
    )


def test_it_lists_the_models_own_events_newest_first(model, make_model, make_version, member):
    make_version(model)
    model_update(actor=member, model=model, description="Now also scores refunds.")
    make_version(make_model(name="unrelated"))
    events = events_for_model(model)
    assert [e.action for e in events] == [
        Action.MODEL_UPDATED,
        Action.VERSION_REGISTERED,
        Action.MODEL_CREATED,
    ]
    assert events_for_model(model, limit=2) == events[:2]


def test_the_include_links_versions_by_the_models_current_name(version, member, outsider):
    model = model_update(actor=member, model=version.model, name="fraud-scorer-renamed")
    html = _render(events_for_model(model), outsider)
    assert reverse("registry:version_detail", args=["fraud-scorer-renamed", 1]) in html
    assert "Version registered" in html and member.username in html
    assert "Full audit log" not in html  # only auditors get the link to the audit page


def test_auditors_get_a_link_to_the_full_log(version, auditor):
    html = _render(events_for_model(version.model), auditor)
    assert f"{reverse('audit:events')}?model={version.model.name}" in html


def test_no_history_says_so(outsider):
    assert "No recorded changes yet." in _render([], outsider)
