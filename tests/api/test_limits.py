"""Input limits: more than a setting allows is a 400 naming the field, and nothing is
saved. The defaults are the documented ones (README, Configuration)."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from registry.models import Metric
from registry.services import metrics_attach, params_attach, version_register
from tests.conftest import MODEL_DEFAULTS
from tests.test_settings import run_check

from .payloads import errors_of

pytestmark = pytest.mark.django_db


def versions_url(model):
    return f"/api/models/{model.name}/versions/"


def metrics(n, start=0):
    return [{"name": f"m{i:05d}", "value": 0.5} for i in range(start, start + n)]


def model_body(team, member, **overrides):
    return {
        "name": "churn-predictor",
        "team": team.slug,
        "owner": member.username,
        **MODEL_DEFAULTS,
        **overrides,
    }


def test_the_defaults_are_the_documented_ones(settings):
    assert settings.METRICS_MAX_PER_VERSION == 1000
    assert settings.TAGS_MAX_PER_MODEL == 50
    assert settings.MARKDOWN_MAX_BYTES == 100_000
    assert settings.HYPERPARAMETERS_MAX_PER_VERSION == 200
    assert settings.HYPERPARAMETER_NAME_MAX_CHARS == 100
    assert settings.HYPERPARAMETER_VALUE_MAX_CHARS == 1000
    assert settings.MODEL_NAME_MAX_CHARS == 100
    assert settings.VERSION_LABEL_MAX_CHARS == 100


# --- Metrics ------------------------------------------------------------------------


def test_a_registration_with_too_many_metrics_is_refused(api, model, snapshot):
    before = snapshot()
    response = api.post(
        versions_url(model),
        {"label": "1.0.0", "framework": "pytorch", "metrics": metrics(1001)},
        format="json",
    )
    assert errors_of(response) == {"metrics": ["At most 1,000 items; got 1,001."]}
    assert snapshot() == before


def test_a_multipart_registration_with_too_many_metrics_is_refused(api, model, snapshot):
    before = snapshot()
    response = api.post(
        versions_url(model),
        {"label": "1.0.0", "framework": "pytorch", "metrics": json.dumps(metrics(1001))},
        format="multipart",
    )
    assert "metrics" in errors_of(response)
    assert snapshot() == before


def test_the_limit_itself_is_accepted(api, model):
    response = api.post(
        versions_url(model),
        {"label": "1.0.0", "framework": "pytorch", "metrics": metrics(1000)},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert len(response.json()["metrics"]) == 1000


def test_added_metrics_count_with_the_recorded_ones(api, model, member):
    version_register(
        actor=member, model=model, label="1.0.0", framework="pytorch", metrics=metrics(999)
    )
    url = f"{versions_url(model)}1/metrics/"

    refused = api.post(url, {"metrics": metrics(2, start=999)}, format="json")
    assert errors_of(refused) == {
        "metrics": ["At most 1,000 metrics per version; this would make 1,001."]
    }
    assert Metric.objects.count() == 999

    assert api.post(url, {"metrics": metrics(1, start=999)}, format="json").status_code == 201
    assert Metric.objects.count() == 1000


def test_the_service_refuses_too_many_metrics_from_any_caller(settings, model, version, member):
    settings.METRICS_MAX_PER_VERSION = 3
    with pytest.raises(ValidationError) as exc:
        metrics_attach(actor=member, version=version, metrics=metrics(3, start=10))
    assert exc.value.message_dict == {
        "metrics": ["At most 3 metrics per version; this would make 4."]
    }


# --- Hyper-parameters -------------------------------------------------------------


def test_too_many_hyperparameters_are_refused(api, model, snapshot):
    before = snapshot()
    params = {f"p{i}": i for i in range(201)}
    response = api.post(
        versions_url(model),
        {"label": "1.0.0", "framework": "pytorch", "hyperparameters": params},
        format="json",
    )
    assert errors_of(response) == {"hyperparameters": ["At most 200 hyper-parameters per version."]}
    assert snapshot() == before


@pytest.mark.parametrize(
    "params,message",
    [
        ({"n" * 101: 1}, "names are 1-100 characters."),
        ({"tokenizer": "x" * 1001}, "tokenizer: values are at most 1,000 characters."),
        ({"seed": 10**1000}, "seed: values are at most 1,000 characters."),
    ],
)
def test_oversized_hyperparameters_are_refused(api, model, snapshot, params, message):
    before = snapshot()
    response = api.post(
        versions_url(model),
        {"label": "1.0.0", "framework": "pytorch", "hyperparameters": params},
        format="json",
    )
    [error] = errors_of(response)["hyperparameters"]
    assert error.endswith(message)
    assert snapshot() == before


def test_added_hyperparameters_count_with_the_recorded_ones(settings, model, member):
    settings.HYPERPARAMETERS_MAX_PER_VERSION = 3
    version = version_register(
        actor=member,
        model=model,
        label="1.0.0",
        framework="pytorch",
        hyperparameters={"a": 1, "b": 2},
    )
    params_attach(actor=member, version=version, hyperparameters={"b": 2, "c": 3})
    with pytest.raises(ValidationError) as exc:
        params_attach(actor=member, version=version, hyperparameters={"d": 4})
    assert "hyperparameters" in exc.value.message_dict
    version.refresh_from_db()
    assert version.hyperparameters == {"a": 1, "b": 2, "c": 3}


# --- Markdown sizes -------------------------------------------------------------------


@pytest.mark.parametrize("field", ["description", "purpose", "evaluation_coverage"])
def test_an_oversized_model_text_is_refused(api, team, member, snapshot, field):
    before = snapshot()
    response = api.post(
        "/api/models/", model_body(team, member, **{field: "x" * 100_001}), format="json"
    )
    assert errors_of(response) == {
        field: ["Keep this under 100,000 bytes of Markdown (100 kB); it is 100,001."]
    }
    assert snapshot() == before


def test_markdown_size_counts_bytes_not_characters(api, model):
    # 50,001 characters, 100,002 bytes in UTF-8.
    response = api.patch(f"/api/models/{model.name}/", {"purpose": "é" * 50_001}, format="json")
    assert "purpose" in errors_of(response)
    response = api.patch(f"/api/models/{model.name}/", {"purpose": "é" * 50_000}, format="json")
    assert response.status_code == 200


def test_oversized_release_notes_are_refused(api, model, version):
    response = api.patch(
        f"{versions_url(model)}1/", {"release_notes": "# Notes\n" + "x" * 100_000}, format="json"
    )
    assert "release_notes" in errors_of(response)
    version.refresh_from_db()
    assert version.release_notes == ""


def test_the_service_refuses_an_oversized_card_section(settings, version, member):
    from registry.services import card_update

    settings.MARKDOWN_MAX_BYTES = 1000
    with pytest.raises(ValidationError) as exc:
        card_update(actor=member, card=version.card, sections={"training_data": "y" * 1001})
    assert list(exc.value.message_dict) == ["training_data"]


# --- Tags, names and labels -------------------------------------------------------------


def test_too_many_tags_are_refused(api, team, member, model, snapshot):
    before = snapshot()
    tags = [f"tag-{i}" for i in range(51)]
    response = api.post("/api/models/", model_body(team, member, tags=tags), format="json")
    assert errors_of(response) == {"tags": ["At most 50 tags per model."]}
    response = api.patch(f"/api/models/{model.name}/", {"tags": tags}, format="json")
    assert errors_of(response) == {"tags": ["At most 50 tags per model."]}
    assert snapshot() == before


def test_the_service_counts_distinct_tags(settings, make_model):
    settings.TAGS_MAX_PER_MODEL = 2
    assert make_model(tags=["a", "A", "b "]).tag_list == ["a", "b"]
    with pytest.raises(ValidationError) as exc:
        make_model(tags=["a", "b", "c"])
    assert exc.value.message_dict == {"tags": ["At most 2 tags per model; this would make 3."]}


def test_a_shorter_name_limit_applies_everywhere(settings, api, team, member, snapshot):
    settings.MODEL_NAME_MAX_CHARS = 12
    before = snapshot()
    response = api.post(
        "/api/models/", model_body(team, member, name="churn-predictor"), format="json"
    )
    assert errors_of(response) == {"name": ["A model name is at most 12 characters long."]}
    assert snapshot() == before


def test_a_shorter_label_limit_applies_everywhere(settings, api, model, snapshot):
    settings.VERSION_LABEL_MAX_CHARS = 8
    before = snapshot()
    response = api.post(
        versions_url(model), {"label": "1.0.0-rc.1", "framework": "pytorch"}, format="json"
    )
    assert errors_of(response) == {"label": ["A version label is at most 8 characters long."]}
    assert snapshot() == before


# --- The browser forms ------------------------------------------------------------------


def test_the_model_form_refuses_too_many_tags_and_oversized_text(client, member, team, snapshot):
    client.force_login(member)
    before = snapshot()
    response = client.post(
        reverse("registry:model_create"),
        {
            "name": "churn-predictor",
            "team": team.pk,
            "owner": member.pk,
            **MODEL_DEFAULTS,
            "description": "x" * 100_001,
            "tags": ", ".join(f"tag-{i}" for i in range(51)),
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "At most 50 tags per model." in html
    assert "Keep this under 100,000 bytes of Markdown (100 kB); it is 100,001." in html
    assert snapshot() == before


# --- Settings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "env,message",
    [
        ({"METRICS_MAX_PER_VERSION": "lots"}, "METRICS_MAX_PER_VERSION must be an integer"),
        ({"TAGS_MAX_PER_MODEL": "0"}, "TAGS_MAX_PER_MODEL must be at least 1"),
        ({"MODEL_NAME_MAX_CHARS": "101"}, "MODEL_NAME_MAX_CHARS must be at most 100"),
        ({"VERSION_LABEL_MAX_CHARS": "200"}, "VERSION_LABEL_MAX_CHARS must be at most 100"),
    ],
)
def test_a_bad_limit_setting_stops_start_up(env, message):
    result = run_check(DEBUG="1", **env)
    assert result.returncode != 0
    assert message in result.stderr
