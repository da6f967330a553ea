"""Registered models over the API: search, read, register, change metadata."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from registry.audit_actions import Action
from registry.models import RegisteredModel
from registry.services import model_permission_grant, team_create, team_member_add
from registry.stages import Stage

from .payloads import errors_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def payload(team, member):
    return {
        "name": "churn-predictor",
        "team": team.slug,
        "owner": member.username,
        "description": "Predicts which subscribers cancel next month.",
        "purpose": "Target retention offers.",
        "license": "apache-2.0",
        "data_classification": "internal",
        "evaluation_coverage": "Hold-out of 2024 subscribers, per-plan slices.",
        "risk_tier": "medium",
        "tags": ["churn", "Retention"],
    }


# --- Register ----------------------------------------------------------------------


def test_it_registers_a_model(api, payload, member):
    response = api.post("/api/models/", payload)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "churn-predictor"
    assert body["team"] == {"slug": "fraud-detection", "name": "Fraud Detection"}
    assert body["owner"] == "alice"
    assert body["license"] == "Apache-2.0"
    assert body["tags"] == ["churn", "retention"]
    assert body["stage"] == Stage.NONE
    assert body["can_edit"] is True
    assert response["Location"].endswith("/api/models/churn-predictor/")
    model = RegisteredModel.objects.get(name="churn-predictor")
    assert model.created_by == member
    assert AuditEvent.objects.filter(action=Action.MODEL_CREATED, model_id=model.pk).count() == 1


@pytest.mark.parametrize(
    "field",
    [
        "name",
        "team",
        "owner",
        "description",
        "purpose",
        "license",
        "data_classification",
        "evaluation_coverage",
    ],
)
def test_every_metadata_field_is_required(api, payload, field, snapshot):
    before = snapshot()
    del payload[field]
    response = api.post("/api/models/", payload)
    assert field in errors_of(response)
    assert snapshot() == before


@pytest.mark.parametrize(
    "field,value",
    [
        ("name", ["not", "a", "string"]),
        ("name", "has spaces"),
        ("license", "Not-A-License"),
        ("data_classification", "secret"),
        ("data_classification", ""),
        ("data_classification", None),
        ("tags", "churn"),
        ("tags", ["UPPER CASE!"]),
        ("description", ""),
    ],
)
def test_it_rejects_bad_metadata_with_a_message_per_field(api, payload, field, value, snapshot):
    before = snapshot()
    payload[field] = value
    response = api.post("/api/models/", payload)
    errors = errors_of(response)
    assert list(errors) == [field]
    assert errors[field]
    assert snapshot() == before


@pytest.mark.parametrize("field,value", [("team", "no-such-team"), ("owner", "nobody")])
def test_naming_a_team_or_owner_that_does_not_exist_is_a_404_per_field(
    api, payload, field, value, snapshot
):
    before = snapshot()
    errors = errors_of(api.post("/api/models/", {**payload, field: value}), status=404)
    assert list(errors) == [field]
    assert snapshot() == before


def test_a_duplicate_name_is_a_conflict(api, payload, model, snapshot):
    before = snapshot()
    payload["name"] = "FRAUD-SCORER"
    response = api.post("/api/models/", payload)
    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]
    assert snapshot() == before


def test_an_outsider_cannot_register_for_another_team(outsider_api, payload, snapshot):
    before = snapshot()
    response = outsider_api.post("/api/models/", payload)
    assert response.status_code == 403
    assert "Fraud Detection" in response.json()["detail"]
    assert snapshot() == before


def test_the_stage_cannot_be_set(api, payload, snapshot):
    before = snapshot()
    response = api.post("/api/models/", {**payload, "stage": "production"})
    assert "stage" in errors_of(response)
    assert snapshot() == before


def test_unknown_fields_are_refused(api, payload):
    response = api.post("/api/models/", {**payload, "purpse": "typo"})
    assert list(errors_of(response)) == ["purpse"]


def test_malformed_json_is_a_400(api):
    response = api.post("/api/models/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]


# --- Read ------------------------------------------------------------------------------


def test_it_returns_one_model(outsider_api, model):
    response = outsider_api.get("/api/models/Fraud-Scorer/")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "fraud-scorer"
    assert body["owner"] == "alice"
    assert body["tags"] == ["fraud", "payments"]
    assert body["can_edit"] is False
    assert body["web_url"].endswith("/models/fraud-scorer/")


def test_an_unknown_model_is_a_404(api):
    response = api.get("/api/models/nope/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No model named 'nope'."}


def test_it_searches_with_the_catalog_filters_and_facets(outsider_api, make_model, other_team):
    make_model(name="fraud-scorer", tags=["fraud"])
    make_model(name="card-fraud-graph", tags=["fraud", "graph"], license="MIT")
    make_model(name="churn-predictor", tags=["churn"], description="Subscriber churn.")

    body = outsider_api.get("/api/models/", {"tag": "fraud", "sort": "-name"}).json()

    assert body["count"] == 2
    assert [m["name"] for m in body["results"]] == ["fraud-scorer", "card-fraud-graph"]
    assert body["sort"] == "-name"
    tags = {f["value"]: f for f in body["facets"]["tag"]}
    assert tags["fraud"]["count"] == 2 and tags["fraud"]["selected"] is True
    assert tags["graph"]["count"] == 1
    licenses = {f["value"]: f["count"] for f in body["facets"]["license"]}
    assert licenses == {"proprietary": 1, "MIT": 1}
    assert all(m["can_edit"] is False for m in body["results"])


def test_the_search_answers_what_its_documented_serializer_gives(
    outsider_api, make_model, make_version, member, outsider, monkeypatch
):
    """The search's page is built without DRF's per-field work (catalog_page); its
    schema is CatalogPageSerializer's, so both must give the same JSON, byte for byte."""
    from rest_framework.renderers import JSONRenderer

    from registry.api.serializers.models import CatalogPageSerializer, catalog_page
    from registry.api.views import models as views
    from registry.services import alias_set

    scorer = make_model(name="fraud-scorer", tags=["fraud", "payments"])
    graph = make_model(name="card-fraud.graph_v2", tags=["fraud"], license="MIT")
    make_model(name="churn-predictor", tags=[], description="Subscriber churn.")
    alias_set(actor=member, model=scorer, name="Zeta", version=make_version(scorer))
    alias_set(actor=member, model=scorer, name="alpha", version=make_version(scorer))
    model_permission_grant(actor=graph.owner, model=graph, user=outsider)
    pages = []

    def both(request, data):
        built = catalog_page(request, data)
        documented = CatalogPageSerializer(data, context={"request": request}).data
        pages.append((JSONRenderer().render(built), JSONRenderer().render(documented)))
        return built

    monkeypatch.setattr(views, "catalog_page", both)
    for params in [{}, {"q": "fraud", "tag": "fraud"}, {"per_page": 1, "page": 2}, {"q": "x"}]:
        assert outsider_api.get("/api/models/", params).status_code == 200
    assert len(pages) == 4
    for built, documented in pages:
        assert built == documented
    first = json.loads(pages[0][0])
    by_name = {m["name"]: m for m in first["results"]}
    assert by_name["fraud-scorer"]["aliases"] == ["alpha", "Zeta"]
    assert by_name["card-fraud.graph_v2"]["can_edit"] is True
    assert by_name["fraud-scorer"]["can_edit"] is False


def test_it_searches_by_text(api, make_model):
    make_model(name="fraud-scorer")
    make_model(name="churn-predictor", description="Predicts subscriber churn.")
    body = api.get("/api/models/", {"q": "churn"}).json()
    assert [m["name"] for m in body["results"]] == ["churn-predictor"]


def test_it_pages_with_page_numbers(api, make_model):
    for i in range(5):
        make_model(name=f"model-{i}")
    first = api.get("/api/models/", {"per_page": 2}).json()
    assert (first["count"], first["page"], first["num_pages"]) == (5, 1, 3)
    assert (first["previous"], first["next"]) == (None, 2)
    last = api.get("/api/models/", {"per_page": 2, "page": 3}).json()
    assert [m["name"] for m in last["results"]] == ["model-4"]
    assert (last["previous"], last["next"]) == (2, None)


@pytest.mark.parametrize("params", [{}, {"license": "proprietary", "q": "fraud"}])
def test_the_search_query_count_does_not_grow_with_rows(
    api, make_model, outsider, params, django_assert_max_num_queries, is_postgres
):
    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            response = api.get("/api/models/", params)
        assert response.status_code == 200
        return len(queries), response.json()["count"]

    make_model(name="fraud-first")
    count_queries()  # warm up: the token's last use is written once a minute at most
    few, _ = count_queries()
    for i in range(12):
        model = make_model(name=f"fraud-{i}", tags=[f"tag-{i}", "shared"])
        if i % 3 == 0:
            model_permission_grant(actor=model.owner, model=model, user=outsider)
    many, total = count_queries()
    assert many == few
    if params:
        assert total == 13
    # PostgreSQL: token, the search's pilot and its counts + page (with the facets' team
    # names), the rows (with their teams, owners and the caller's grants), their aliases.
    # SQLite counts each facet in its own query.
    limit = 5 if is_postgres else 17
    with django_assert_max_num_queries(limit):
        api.get("/api/models/", params)


# --- Change ----------------------------------------------------------------------------


def test_it_changes_only_the_fields_sent(api, model):
    response = api.patch(
        f"/api/models/{model.name}/", {"purpose": "Review risky payments.", "tags": ["risk"]}
    )
    assert response.status_code == 200, response.json()
    model.refresh_from_db()
    assert model.purpose == "Review risky payments."
    assert list(model.tags.values_list("name", flat=True)) == ["risk"]
    assert model.description == "Scores card payments for fraud risk."
    event = AuditEvent.objects.filter(action=Action.MODEL_UPDATED).get()
    assert event.changes["purpose"] == [
        "Block or review risky payments at checkout.",
        "Review risky payments.",
    ]
    assert "description" not in event.changes


def test_it_renames_a_model(api, model):
    response = api.patch(f"/api/models/{model.name}/", {"name": "fraud-scorer-v2"})
    assert response.status_code == 200
    assert response.json()["url"].endswith("/api/models/fraud-scorer-v2/")


def test_renaming_onto_another_model_is_a_conflict(api, model, make_model, snapshot):
    make_model(name="other")
    before = snapshot()
    response = api.patch(f"/api/models/{model.name}/", {"name": "OTHER"})
    assert response.status_code == 409
    assert snapshot() == before


def test_an_outsider_cannot_change_a_model(outsider_api, model, snapshot):
    before = snapshot()
    response = outsider_api.patch(f"/api/models/{model.name}/", {"purpose": "Mine now."})
    assert response.status_code == 403
    assert "Fraud Detection" in response.json()["detail"]
    model.refresh_from_db()
    assert model.purpose != "Mine now."
    assert snapshot() == before


def test_a_granted_outsider_can_change_a_model(outsider_api, model, member, outsider):
    model_permission_grant(actor=member, model=model, user=outsider)
    response = outsider_api.patch(f"/api/models/{model.name}/", {"purpose": "Shared work."})
    assert response.status_code == 200
    assert response.json()["can_edit"] is True


@pytest.mark.parametrize("field", ["stage", "current_stage"])
def test_patch_cannot_set_the_stage(api, model, field):
    response = api.patch(f"/api/models/{model.name}/", {field: "production"})
    assert field in errors_of(response)
    model.refresh_from_db()
    assert model.current_stage == Stage.NONE


def test_patch_rejects_blank_required_metadata(api, model):
    response = api.patch(f"/api/models/{model.name}/", {"purpose": ""})
    assert "purpose" in errors_of(response)


def test_put_is_not_offered(api, model):
    assert api.put(f"/api/models/{model.name}/", {}).status_code == 405


# --- Teams -----------------------------------------------------------------------------


def test_it_lists_teams_with_their_members(api, team, other_team, member, outsider):
    body = api.get("/api/teams/").json()
    assert body["count"] == 2
    assert body["results"] == [
        {
            "slug": "fraud-detection",
            "name": "Fraud Detection",
            "description": "Payments fraud",
            "members": ["alice"],
        },
        {"slug": "search-ranking", "name": "Search Ranking", "description": "", "members": ["bob"]},
    ]


def test_the_team_list_query_count_does_not_grow(api, admin_user, django_user_model):
    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/api/teams/").status_code == 200
        return len(queries)

    count_queries()
    few = count_queries()
    for i in range(5):
        team = team_create(actor=admin_user, name=f"Team {i}")
        user = django_user_model.objects.create_user(f"user-{i}")
        team_member_add(actor=admin_user, team=team, user=user)
    assert count_queries() == few <= 4


def test_a_page_far_past_no_results_is_the_first_page(api, make_model):
    make_model(name="fraud-first")
    response = api.get("/api/models/", {"q": "hovercraft", "page": 19020})
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["page"], body["previous"], body["next"]) == (0, 1, None, None)
