"""Pages refuse input PostgreSQL cannot store with a 400 that names the field, not a 500."""

import re

import pytest
from django.urls import reverse

from registry.models import APIToken, RegisteredModel

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, member):
    client.force_login(member)
    return client


def form(team, owner, **overrides):
    return {
        "name": "churn-predictor",
        "team": team.pk,
        "owner": owner.pk,
        "description": "Predicts which subscribers cancel next month.",
        "purpose": "Target retention offers.",
        "license": "MIT",
        "data_classification": "internal",
        "evaluation_coverage": "Last quarter.",
        "risk_tier": "medium",
        **overrides,
    }


def license_errors(response) -> str:
    html = response.content.decode()
    block = re.search(r'<div class="field has-error" id="field-license">(.*?)</div>', html, re.S)
    return block.group(1) if block else ""


@pytest.mark.parametrize("license", ["MIT/X11", "MIT AND", "GPL-2.0 WITH", "MIT &"])
def test_the_model_form_shows_an_unreadable_license_next_to_its_field(
    signed_in, team, member, license
):
    response = signed_in.post(reverse("registry:model_create"), form(team, member, license=license))
    assert response.status_code == 200
    assert "is not an SPDX license identifier" in license_errors(response)
    assert not RegisteredModel.objects.exists()


def test_a_nul_in_a_form_field_is_a_400_naming_the_field(signed_in, team, member):
    response = signed_in.post(
        reverse("registry:model_create"), form(team, member, license="MIT\x00")
    )
    assert response.status_code == 400
    assert "<strong>license</strong>" in response.content.decode()
    assert not RegisteredModel.objects.exists()


@pytest.mark.parametrize(
    "query", ["q=fraud%00", "license=MIT%00", "team=%00", "tag=a%00", "sort=%00", "page=%00"]
)
def test_a_nul_in_a_catalog_parameter_is_a_400_naming_it(signed_in, model, query):
    response = signed_in.get(f"/?{query}")
    assert response.status_code == 400
    html = response.content.decode()
    assert f"<strong>{query.split('=')[0]}</strong>" in html
    assert "NUL" in html


def test_a_nul_in_a_model_name_in_the_url_is_a_400(signed_in, model):
    for url in ("/models/fraud%00scorer/", "/models/fraud%00scorer/v/1/card/"):
        response = signed_in.get(url)
        assert response.status_code == 400
        assert "<strong>name</strong>" in response.content.decode()


def test_a_nul_in_an_audit_filter_is_a_400(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/audit/?model=fraud%00")
    assert response.status_code == 400


def test_a_nul_in_a_token_name_is_a_400_and_creates_nothing(signed_in):
    response = signed_in.post(reverse("token_list"), {"name": "ci\x00"})
    assert response.status_code == 400
    assert "NUL" in response.content.decode()
    assert not APIToken.objects.exists()


def test_a_nul_in_the_session_cookie_is_ignored(client, settings):
    client.cookies[settings.SESSION_COOKIE_NAME] = "abcdefgh\x00ijkl"
    response = client.get("/")
    assert response.status_code == 302  # to the sign-in page, as with no session
