"""The model page and the forms that register a model and edit its metadata."""

import re

import pytest
from django.db import transaction
from django.urls import reverse

from audit.models import AuditEvent
from registry.models import ModelVersion, RegisteredModel
from registry.services import lineage_attach
from registry.stages import Stage, StageChangeKind, stage_set

pytestmark = pytest.mark.django_db

CREATE = reverse("registry:model_create")


def detail(model_name: str) -> str:
    return reverse("registry:model_detail", args=[model_name])


def field_errors(response, field: str) -> str:
    """The text of the error block under one form field ('' when it has none)."""
    html = response.content.decode()
    block = re.search(rf'<div class="field has-error" id="field-{field}">(.*?)</div>', html, re.S)
    return re.sub(r"<[^>]+>", " ", block.group(1)) if block else ""


@pytest.fixture
def signed_in(client, member):
    client.force_login(member)
    return client


def valid_form(team, owner, **overrides):
    data = {
        "name": "churn-predictor",
        "team": team.pk,
        "owner": owner.pk,
        "description": "Predicts which subscribers cancel next month.",
        "purpose": "Target retention offers.",
        "license": "apache-2.0",
        "data_classification": "internal",
        "evaluation_coverage": "Last quarter, per plan type.",
        "risk_tier": "medium",
        "tags": "Retention, churn ,",
    }
    data.update(overrides)
    return data


# --- model page -----------------------------------------------------------------


def test_the_model_page_shows_all_shared_metadata(signed_in, model):
    html = signed_in.get(detail(model.name)).content.decode()
    for text in (
        "Scores card payments for fraud risk.",
        "Block or review risky payments at checkout.",
        "Hold-out of 2024-Q3 payments; per-country slices.",
        "Fraud Detection",
        "alice",
        "proprietary",
        "Confidential",
        ">fraud</a>",
        ">payments</a>",
    ):
        assert text in html


def test_names_are_found_ignoring_case(signed_in, model):
    assert signed_in.get(detail("FRAUD-Scorer")).status_code == 200


def test_a_new_model_shows_its_empty_states(signed_in, make_model):
    bare = make_model(name="bare", tags=[])
    html = signed_in.get(detail(bare.name)).content.decode()
    assert "No versions yet." in html
    assert "No metrics recorded" in html
    assert "No lineage recorded" in html
    assert "No tags" in html
    assert "No version in production." in html


def test_versions_table_lists_newest_first_with_stage_badges(signed_in, model, make_version):
    for _ in range(3):
        make_version(model)
    html = signed_in.get(detail(model.name)).content.decode()
    rows = re.findall(r'<tr id="version-(\d+)"', html)
    assert rows == ["3", "2", "1"]
    for number in (3, 2, 1):
        link = reverse("registry:version_detail", args=[model.name, number])
        assert f'<a href="{link}">v{number}</a>' in html
    assert html.count('<span class="badge stage-none">Not staged</span>') >= 3
    assert "No version in production." in html


def test_metric_names_are_shown_as_text(signed_in, model, make_version):
    """The charts are a Jinja2 partial (config/jinja2.py): its escaping is checked here
    (version labels are semantic versions and cannot hold markup)."""
    for value in (0.8, 0.9):
        make_version(model, metrics=[{"name": '<i>"auc"</i> & co', "value": value}])
    html = signed_in.get(detail(model.name)).content.decode()
    assert "<i>" not in html
    assert '<strong class="chart-title">&lt;i&gt;&#34;auc&#34;&lt;/i&gt; &amp; co</strong>' in html


def test_versions_are_paged_so_big_models_stay_fast(signed_in, model, make_version):
    for _ in range(27):
        make_version(model, metrics=[])
    first = signed_in.get(detail(model.name)).content.decode()
    assert re.findall(r'<tr id="version-(\d+)"', first)[0] == "27"
    assert len(re.findall(r'<tr id="version-(\d+)"', first)) == 25
    second = signed_in.get(detail(model.name), {"page": 2}).content.decode()
    assert re.findall(r'<tr id="version-(\d+)"', second) == ["2", "1"]


def test_each_metric_gets_a_chart_across_versions(signed_in, model, make_version):
    make_version(model, metrics=[{"name": "auc", "value": 0.81}, {"name": "loss", "value": 0.4}])
    make_version(
        model,
        metrics=[
            {"name": "auc", "value": 0.86},
            {"name": "loss", "value": 0.3, "higher_is_better": False},
        ],
    )
    html = signed_in.get(detail(model.name)).content.decode()
    assert html.count("<svg") == 2
    assert "auc across 2 versions, v1 to v2" in html
    assert "<title>v2 (2.0.0): 0.86</title>" in html
    assert "lower is better" in html


def test_lineage_links_to_parents_and_children_in_other_models(
    signed_in, member, model, version, make_model, make_version
):
    base = make_model(name="base-embeddings")
    parent = make_version(base)
    lineage_attach(actor=member, version=version, parents=[(parent, "fine_tuned_from")])
    html = signed_in.get(detail(model.name)).content.decode()
    assert "fine-tuned from" in html
    assert reverse("registry:version_detail", args=["base-embeddings", 1]) in html
    child_side = signed_in.get(detail("base-embeddings")).content.decode()
    assert "Used by other models" in child_side
    assert reverse("registry:version_detail", args=["fraud-scorer", 1]) in child_side
    # Each page's own side of a link goes to its own version page too.
    lineage = html.split('id="lineage"')[1].split("</section>")[0]
    assert f'href="{reverse("registry:version_detail", args=["fraud-scorer", 1])}"' in lineage
    base_lineage = child_side.split('id="lineage"')[1].split("</section>")[0]
    assert (
        f'href="{reverse("registry:version_detail", args=["base-embeddings", 1])}"' in base_lineage
    )


def test_lineage_inside_a_model_links_both_versions(signed_in, model, version, make_version):
    make_version(model, parents=[(version, "derived_from")])
    html = signed_in.get(detail(model.name)).content.decode()
    lineage = html.split('id="lineage-within"')[1].split("</ul>")[0]
    for number in (2, 1):
        assert f'href="{reverse("registry:version_detail", args=[model.name, number])}"' in lineage


def test_the_edit_link_is_for_editors_only(client, model, member, outsider):
    client.force_login(member)
    assert 'id="edit-model"' in client.get(detail(model.name)).content.decode()
    client.force_login(outsider)
    assert 'id="edit-model"' not in client.get(detail(model.name)).content.decode()


# --- register a model ---------------------------------------------------------------


def test_registering_a_model(signed_in, team, member):
    response = signed_in.post(CREATE, valid_form(team, member), follow=True)
    assert response.redirect_chain[-1][0] == detail("churn-predictor")
    assert "Registered churn-predictor." in response.content.decode()
    model = RegisteredModel.objects.get(name="churn-predictor")
    assert model.license == "Apache-2.0"
    assert sorted(model.tags.values_list("name", flat=True)) == ["churn", "retention"]
    assert model.created_by == member


def test_the_form_offers_only_the_users_teams_and_explains_every_field(signed_in, team, other_team):
    html = signed_in.get(CREATE).content.decode()
    team_select = re.search(r'<select name="team".*?</select>', html, re.S).group(0)
    assert re.findall(r"<option[^>]*>([^<]+)</option>", team_select) == ["Fraud Detection"]
    assert "An SPDX license identifier or expression, or &#x27;proprietary&#x27;." in html
    assert "The person accountable for this model." in html


def test_the_data_classification_must_be_chosen(signed_in, team, member):
    """No class is preselected: a user who skips the field is asked, not filed as Public."""
    html = signed_in.get(CREATE).content.decode()
    select = re.search(r'<select name="data_classification".*?</select>', html, re.S).group(0)
    options = re.findall(r'<option value="([^"]*)"([^>]*)>', select)
    assert options[0] == ("", " selected")
    assert all("selected" not in attrs for value, attrs in options[1:])
    assert "required" in select.split(">")[0]
    response = signed_in.post(CREATE, valid_form(team, member, data_classification=""))
    assert "This field is required." in field_errors(response, "data_classification")
    assert not RegisteredModel.objects.exists()


def test_a_user_without_a_team_is_told_how_to_get_one(client, django_user_model):
    loner = django_user_model.objects.create_user("carol", "carol@example.com", "x")
    client.force_login(loner)
    html = client.get(CREATE).content.decode()
    assert "not a member of any team yet" in html
    assert 'id="model-form"' not in html


@pytest.mark.parametrize(
    "field",
    ["name", "description", "purpose", "license", "data_classification", "evaluation_coverage"],
)
def test_every_metadata_field_is_required(signed_in, team, member, field):
    response = signed_in.post(CREATE, valid_form(team, member, **{field: ""}))
    assert response.status_code == 200
    assert "This field is required." in field_errors(response, field)
    assert not RegisteredModel.objects.exists()


def test_a_bad_license_is_shown_on_the_license_field(signed_in, team, member):
    response = signed_in.post(CREATE, valid_form(team, member, license="Not-A-License"))
    assert response.status_code == 200
    assert "is not an SPDX license identifier" in field_errors(response, "license")
    assert not RegisteredModel.objects.exists()
    # What the user typed is still there.
    assert 'value="Not-A-License"' in response.content.decode()
    assert "Predicts which subscribers cancel next month." in response.content.decode()


def test_bad_name_and_tags_are_shown_on_their_fields(signed_in, team, member):
    response = signed_in.post(CREATE, valid_form(team, member, name="has space"))
    assert "Use 1-100 letters" in field_errors(response, "name")
    response = signed_in.post(CREATE, valid_form(team, member, tags="ok, not ok!"))
    assert "Tags are 1-40 lowercase letters" in field_errors(response, "tags")
    assert not RegisteredModel.objects.exists()


def test_a_duplicate_name_ignoring_case_changes_nothing(signed_in, team, member, model):
    events = AuditEvent.objects.count()
    response = signed_in.post(CREATE, valid_form(team, member, name="Fraud-Scorer"))
    assert response.status_code == 200
    assert "already exists" in field_errors(response, "name")
    assert RegisteredModel.objects.count() == 1
    assert AuditEvent.objects.count() == events


# --- edit metadata ----------------------------------------------------------------


def edit_url(name: str) -> str:
    return reverse("registry:model_edit", args=[name])


def test_the_edit_form_starts_with_the_current_metadata(signed_in, model):
    html = signed_in.get(edit_url(model.name)).content.decode()
    assert 'value="fraud-scorer"' in html
    assert 'value="fraud, payments"' in html
    assert "Scores card payments for fraud risk." in html


def test_editing_metadata(signed_in, model, team, member):
    data = valid_form(team, member, name="fraud-scorer", description="Now with 3DS signals.")
    response = signed_in.post(edit_url(model.name), data, follow=True)
    assert response.redirect_chain[-1][0] == detail("fraud-scorer")
    html = response.content.decode()
    assert "Saved the metadata of fraud-scorer." in html
    assert "Now with 3DS signals." in html
    model.refresh_from_db()
    assert model.license == "Apache-2.0"


def test_renaming_redirects_to_the_new_name(signed_in, model, team, member):
    response = signed_in.post(edit_url(model.name), valid_form(team, member, name="fraud-v2"))
    assert response["Location"] == detail("fraud-v2")
    assert signed_in.get(detail("fraud-v2")).status_code == 200


def test_renaming_onto_a_taken_name_is_an_error_on_the_name(
    signed_in, model, make_model, team, member
):
    make_model(name="churn-predictor")
    response = signed_in.post(
        edit_url(model.name), valid_form(team, member, name="CHURN-predictor")
    )
    assert response.status_code == 200
    assert "already exists" in field_errors(response, "name")
    model.refresh_from_db()
    assert model.name == "fraud-scorer"


def test_the_production_version_is_named_even_when_not_on_the_page(signed_in, model, make_version):
    for _ in range(27):
        make_version(model, metrics=[])
    # Stands in for an approved promotion: the stage's own function, which only the
    # approvals app calls (tests/approvals covers the real workflow).
    with transaction.atomic():
        stage_set(
            version=ModelVersion.objects.get(model=model, number=1),
            to_stage=Stage.PRODUCTION,
            kind=StageChangeKind.APPLIED,
        )
    html = signed_in.get(detail(model.name)).content.decode()
    assert "No version in production." not in html
    assert re.search(
        r'<a href="[^"]+/v/1/">v1</a>\s*\(1\.0\.0\) is the version in production', html
    )
    assert 'id="version-1"' not in html  # it lives on page 2 of the table


def test_every_mistake_is_reported_in_one_round(signed_in, team, member):
    response = signed_in.post(
        CREATE, valid_form(team, member, purpose="", license="GPL-banana", name="bad name")
    )
    assert "This field is required." in field_errors(response, "purpose")
    assert "is not an SPDX license identifier" in field_errors(response, "license")
    assert "Use 1-100 letters" in field_errors(response, "name")
