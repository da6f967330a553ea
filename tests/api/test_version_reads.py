"""What a pipeline reads most: one version, and pages of a model's versions (issue 11
point 3b). One version costs the token lookup and one query; a page of versions is
built without DRF's per-field work, and must be exactly what VersionSerializer says."""

import json

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from registry.api.serializers.versions import VersionSerializer
from registry.models import ModelCard, ModelVersion
from registry.services import card_update, lineage_attach

pytestmark = pytest.mark.django_db


def versions_url(model) -> str:
    return f"/api/models/{model.name}/versions/"


def queries(client, url, params=None):
    client.get(url, params)  # the token's last use is recorded at most once a minute
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    return response, len(ctx.captured_queries)


def test_one_version_costs_the_token_lookup_and_one_query(
    outsider_api, model, make_model, make_version, member
):
    base = make_model(name="base")
    parent = make_version(base)
    version = make_version(
        model,
        metrics=[{"name": f"m{i}", "value": i / 3, "dataset": "holdout"} for i in range(20)],
        data_versions=[
            {"dataset": f"d{i}", "version_or_uri": f"v{i}", "classification": "internal"}
            for i in range(5)
        ],
        parents=[(parent, "fine_tuned_from")],
    )
    make_version(model, parents=[(version, "derived_from")])
    card_update(actor=member, card=version.card, sections={"model_details": "Trees."})

    response, count = queries(outsider_api, f"{versions_url(model)}1/")
    if connection.vendor == "postgresql":  # one fixed statement; SQLite reads each part
        assert count == 2
    body = response.json()
    assert [m["name"] for m in body["metrics"]] == sorted(f"m{i}" for i in range(20))
    assert body["metrics"][1] == {
        "name": "m1",
        "value": 1 / 3,
        "dataset": "holdout",
        "higher_is_better": True,
    }
    assert [d["dataset"] for d in body["data_versions"]] == [f"d{i}" for i in range(5)]
    assert body["parents"] == [
        {"model": "base", "version": 1, "label": "1.0.0", "relation": "fine_tuned_from"}
    ]
    assert body["children"] == [
        {"model": "fraud-scorer", "version": 2, "label": "2.0.0", "relation": "derived_from"}
    ]
    assert body["card_completeness"] == 11


def test_lineage_added_later_shows_at_once(outsider_api, model, make_version, member):
    v1, v2 = make_version(model), make_version(model)
    assert outsider_api.get(f"{versions_url(model)}2/").json()["parents"] == []
    lineage_attach(actor=member, version=v2, parents=[(v1, "derived_from")])
    assert [
        p["version"] for p in outsider_api.get(f"{versions_url(model)}2/").json()["parents"]
    ] == [1]


def test_a_missing_version_and_a_missing_model_are_404s_that_say_which(api, model, version):
    missing_version = api.get(f"{versions_url(model)}7/")
    assert missing_version.status_code == 404
    assert "has no version 7" in missing_version.json()["detail"]
    missing_model = api.get("/api/models/no-such-model/versions/1/")
    assert missing_model.status_code == 404
    assert "No model named" in missing_model.json()["detail"]


def test_the_version_is_found_by_its_models_name_in_any_case(api, model, version):
    assert api.get("/api/models/FRAUD-Scorer/versions/1/").json()["model"] == "fraud-scorer"


def _serializer_rows(model, numbers) -> list:
    """What VersionSerializer writes for these versions, as JSON would carry it."""
    request = Request(RequestFactory().get("/"))
    versions = list(
        ModelVersion.objects.filter(model=model, number__in=numbers)
        .select_related("model", "created_by", "card")
        .order_by("-number")
    )
    data = VersionSerializer(versions, many=True, context={"request": request}).data
    return json.loads(JSONRenderer().render(data))


def test_a_page_of_versions_is_exactly_what_the_serializer_writes(api, model, make_version, member):
    stored = make_version(
        model, artifact=ContentFile(b"weights", name="model.pkl"), artifact_uri=""
    )
    linked = make_version(model, release_notes="Faster.", run_url="https://runs.example/1")
    bare = make_version(model, artifact_uri="")
    no_card = make_version(model)
    card_update(
        actor=member,
        card=stored.card,
        sections={"model_details": "Gradient boosting.", "intended_use": "Checkout."},
    )
    card_update(actor=member, card=linked.card, sections={"model_details": "x"})
    linked.card.refresh_from_db()
    # Text of white space only counts as empty, whatever the white space (Python's view).
    ModelCard.objects.filter(pk=linked.card.pk).update(
        intended_use="\u00a0\u3000 \n",
        provenance={
            **linked.card.provenance,
            "intended_use": {"status": "edited", "edited_for": 2},
        },
    )
    ModelCard.objects.filter(version=no_card).delete()
    assert bare.has_artifact is False

    body = api.get(versions_url(model), {"per_page": 100}).json()
    assert body["results"] == _serializer_rows(model, [1, 2, 3, 4])
    by_number = {row["number"]: row for row in body["results"]}
    assert by_number[1]["card_completeness"] == 22
    assert by_number[2]["card_completeness"] == 11
    assert by_number[4]["card_completeness"] is None
    assert by_number[1]["artifact"]["download_url"].endswith(
        "/api/models/fraud-scorer/versions/1/artifact/"
    )
    assert by_number[3]["artifact"] is None


def test_pages_of_versions_are_ranges_of_numbers_newest_first(outsider_api, model, make_version):
    for _ in range(5):
        make_version(model)
    body = outsider_api.get(versions_url(model), {"per_page": 2, "page": 2}).json()
    assert (body["count"], body["page"], body["num_pages"]) == (5, 2, 3)
    assert (body["previous"], body["next"]) == (1, 3)
    assert [v["number"] for v in body["results"]] == [3, 2]
    last = outsider_api.get(versions_url(model), {"per_page": 2, "page": 3}).json()
    assert [v["number"] for v in last["results"]] == [1] and last["next"] is None
    assert outsider_api.get(versions_url(model), {"page": 4, "per_page": 2}).status_code == 404
    assert outsider_api.get(versions_url(model), {"per_page": 0}).status_code == 400


def test_a_model_without_versions_has_an_empty_first_page(api, model):
    body = api.get(versions_url(model)).json()
    assert (body["count"], body["results"]) == (0, [])


def test_a_page_of_100_versions_costs_three_queries(api, model, make_version):
    for _ in range(3):
        make_version(model)
    _, few = queries(api, versions_url(model), {"per_page": 100})
    for _ in range(12):
        make_version(model)
    _, many = queries(api, versions_url(model), {"per_page": 100})
    assert many == few
    if connection.vendor == "postgresql":  # SQLite reads the token's teams on their own
        assert few == 3  # the token, the model, the page
