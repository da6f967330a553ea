"""Input PostgreSQL cannot store (NUL, lone surrogates), licenses the SPDX parser chokes
on and absurdly nested JSON: each is a 400 naming the field, never a 500, and changes
nothing."""

import json

import pytest

from .payloads import errors_of

pytestmark = pytest.mark.django_db

NUL = "\x00"


@pytest.fixture
def payload(team, member):
    return {
        "name": "churn-predictor",
        "team": team.slug,
        "owner": member.username,
        "description": "Predicts which subscribers cancel next month.",
        "purpose": "Target retention offers.",
        "license": "MIT",
        "data_classification": "internal",
        "evaluation_coverage": "Hold-out of 2024 subscribers.",
        "risk_tier": "medium",
    }


@pytest.mark.parametrize("license", ["MIT/X11", "MIT AND", f"MIT{NUL}", "GPL-2.0 WITH", "MIT |"])
def test_a_license_the_spdx_parser_cannot_read_is_a_400(api, payload, license, snapshot):
    before = snapshot()
    errors = errors_of(api.post("/api/models/", {**payload, "license": license}))
    assert list(errors) == ["license"]
    assert snapshot() == before


@pytest.mark.parametrize("license", ["MIT/X11", "MIT AND"])
def test_patching_such_a_license_is_a_400(api, model, license):
    errors = errors_of(api.patch(f"/api/models/{model.name}/", {"license": license}))
    assert "SPDX" in errors["license"][0]
    model.refresh_from_db()
    assert model.license == "proprietary"


def test_a_nul_in_a_model_name_in_the_url_is_a_400(api, model):
    errors = errors_of(api.get("/api/models/fraud%00scorer/"))
    assert "NUL" in errors["name"][0]
    errors = errors_of(api.get("/api/models/fraud%00scorer/versions/1/metrics/"))
    assert "NUL" in errors["name"][0]


@pytest.mark.parametrize(
    "url, param",
    [
        ("/api/models/?q=fraud%00", "q"),
        ("/api/models/?license=MIT%00", "license"),
        ("/api/models/?tag=%00", "tag"),
        ("/api/versions/?label=1.0%00", "label"),
        ("/api/versions/?model=a%00", "model"),
        ("/api/versions/?code_commit=%00", "code_commit"),
    ],
)
def test_a_nul_in_a_search_parameter_is_a_400(api, model, url, param):
    errors = errors_of(api.get(url))
    assert list(errors) == [param]
    assert "NUL" in errors[param][0]


@pytest.mark.parametrize(
    "params",
    [{f"lr{NUL}": 0.1}, {"lr": f"0.1{NUL}"}, {"optimizer": {"name": NUL}}],
    ids=["key", "value", "nested"],
)
def test_a_nul_in_hyperparameters_is_a_400(api, version, params, snapshot):
    before = snapshot()
    url = f"/api/models/{version.model.name}/versions/1/params/"
    errors = errors_of(api.post(url, {"hyperparameters": params}))
    assert "NUL" in errors["hyperparameters"][0]
    assert snapshot() == before


def test_a_nul_in_hyperparameters_of_a_multipart_registration_is_a_400(api, model, snapshot):
    before = snapshot()
    response = api.post(
        f"/api/models/{model.name}/versions/",
        {"label": "1.0.0", "framework": "sklearn", "hyperparameters": json.dumps({"a": NUL})},
        format="multipart",
    )
    assert "NUL" in errors_of(response)["hyperparameters"][0]
    assert snapshot() == before


@pytest.mark.parametrize(
    "body, field",
    [
        ('"name": "fraud\\ud800"', "name"),
        ('"description": "\\udfff trailing"', "description"),
        ('"tags": ["ok", "\\ud83d"]', "tags"),
    ],
)
def test_a_lone_surrogate_in_a_json_string_is_a_400(api, payload, body, field, snapshot):
    before = snapshot()
    base = json.dumps({k: v for k, v in payload.items() if k != field})
    raw = base[:-1] + ", " + body + "}"
    errors = errors_of(api.post("/api/models/", raw, content_type="application/json"))
    assert "surrogate" in errors[field][0]
    assert snapshot() == before


def test_a_lone_surrogate_in_a_hyperparameter_name_is_a_400(api, version):
    url = f"/api/models/{version.model.name}/versions/1/params/"
    raw = '{"hyperparameters": {"\\udc00": 1}}'
    errors = errors_of(api.post(url, raw, content_type="application/json"))
    assert "surrogate" in errors["hyperparameters"][0]


def test_a_proper_surrogate_pair_is_an_emoji_and_is_kept(api, version):
    url = f"/api/models/{version.model.name}/versions/1/params/"
    raw = '{"hyperparameters": {"mood": "\\ud83d\\ude00"}}'
    response = api.post(url, raw, content_type="application/json")
    assert response.status_code == 201, response.json()
    assert response.json()["hyperparameters"]["mood"] == "\U0001f600"


@pytest.mark.parametrize("depth", [100_000, 5_000, 40])
def test_json_nested_too_deep_is_a_400(api, version, depth, snapshot):
    before = snapshot()
    url = f"/api/models/{version.model.name}/versions/1/params/"
    raw = '{"hyperparameters": {"a": ' + "[" * depth + "]" * depth + "}}"
    response = api.post(url, raw, content_type="application/json")
    assert response.status_code == 400
    assert "levels deep" in json.dumps(response.json())
    assert snapshot() == before


def test_a_body_that_is_only_nesting_is_a_400(api):
    response = api.post("/api/models/", "[" * 100_000, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"]


def test_a_nul_in_a_header_that_is_recorded_is_a_400(api, model):
    response = api.patch(
        f"/api/models/{model.name}/", {"purpose": "x"}, HTTP_USER_AGENT="pipeline\x00"
    )
    assert "NUL" in errors_of(response)["User-Agent"][0]
