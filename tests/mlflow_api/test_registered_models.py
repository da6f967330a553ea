"""Registered models through MLflow's own client: each call is Modelgate's service with
its validation, permissions and audit event."""

import pytest
from mlflow.exceptions import MlflowException

from audit.models import AuditEvent
from registry.audit_actions import Action
from registry.models import RegisteredModel
from tests.mlflow_api.conftest import model_tags


def error_of(call, *args, **kwargs) -> MlflowException:
    with pytest.raises(MlflowException) as caught:
        call(*args, **kwargs)
    return caught.value


def test_a_model_created_through_mlflow_is_a_modelgate_model_with_its_metadata(
    client, member, team
):
    created = client.create_registered_model(
        "churn", tags=model_tags(gpu=""), description="Predicts churn."
    )

    model = RegisteredModel.objects.get(name="churn")
    assert (model.team, model.owner, model.risk_tier, model.tag_list) == (
        team,
        member,
        "medium",
        ["gpu"],
    )
    assert AuditEvent.objects.filter(action=Action.MODEL_CREATED, model_name="churn").count() == 1
    assert created.tags["team"] == team.slug
    assert created.tags["owner"] == "alice"
    assert created.tags["gpu"] == ""
    assert created.description == "Predicts churn."


def test_creating_an_existing_name_is_resource_already_exists(client, model):
    error = error_of(client.create_registered_model, "Fraud-Scorer")
    assert error.error_code == "RESOURCE_ALREADY_EXISTS"
    assert error.get_http_status_code() == 400
    assert RegisteredModel.objects.count() == 1


def test_a_model_without_the_metadata_standard_is_refused_naming_the_missing_tags(client, member):
    error = error_of(client.create_registered_model, "churn", tags={"license": "MIT"})
    assert error.error_code == "INVALID_PARAMETER_VALUE"
    assert "purpose" in error.message and "risk_tier" in error.message
    assert not RegisteredModel.objects.exists()


def test_the_owning_team_must_be_one_of_the_callers_teams(client, member, other_team):
    error = error_of(
        client.create_registered_model,
        "churn",
        tags=model_tags(team=other_team.slug),
        description="Predicts churn.",
    )
    assert error.error_code == "INVALID_PARAMETER_VALUE"
    assert "fraud-detection" in error.message  # the teams the caller could use
    assert not RegisteredModel.objects.exists()


def test_a_member_of_two_teams_names_the_team(client, member, admin_user, other_team, team):
    from registry.services import team_member_add

    team_member_add(actor=admin_user, team=other_team, user=member)
    error = error_of(
        client.create_registered_model, "churn", tags=model_tags(), description="Churn."
    )
    assert error.error_code == "INVALID_PARAMETER_VALUE"
    assert "team" in error.message

    client.create_registered_model(
        "churn", tags=model_tags(team="search-ranking"), description="Churn."
    )
    assert RegisteredModel.objects.get(name="churn").team == other_team


def test_key_value_tags_outside_the_metadata_are_refused(client, member):
    error = error_of(
        client.create_registered_model,
        "churn",
        tags=model_tags(task="classification"),
        description="Churn.",
    )
    assert error.error_code == "INVALID_PARAMETER_VALUE"
    assert "'task'" in error.message
    assert not RegisteredModel.objects.exists()


def test_get_rename_and_update(client, model):
    assert client.get_registered_model("fraud-scorer").tags["team"] == "fraud-detection"

    client.rename_registered_model("fraud-scorer", "fraud-scorer-eu")
    client.update_registered_model("fraud-scorer-eu", description="Scores EU payments.")

    model.refresh_from_db()
    assert (model.name, model.description) == ("fraud-scorer-eu", "Scores EU payments.")
    assert error_of(client.get_registered_model, "fraud-scorer").error_code == (
        "RESOURCE_DOES_NOT_EXIST"
    )
    assert AuditEvent.objects.filter(action=Action.MODEL_UPDATED).count() == 2


def test_nothing_is_deleted(client, model, version):
    error = error_of(client.delete_registered_model, "fraud-scorer")
    assert (error.error_code, error.get_http_status_code()) == ("PERMISSION_DENIED", 403)
    assert "nothing is deleted" in error.message
    assert RegisteredModel.objects.filter(pk=model.pk).exists()


def test_tags_set_and_delete_through_model_update(client, model):
    client.set_registered_model_tag("fraud-scorer", "gpu", "")
    client.set_registered_model_tag("fraud-scorer", "license", "MIT")
    client.delete_registered_model_tag("fraud-scorer", "payments")

    model.refresh_from_db()
    assert model.tag_list == ["fraud", "gpu"]
    assert model.license == "MIT"
    tags = client.get_registered_model("fraud-scorer").tags
    assert tags["license"] == "MIT" and tags["gpu"] == "" and "payments" not in tags

    for key, value in [("risk_tier", "low"), ("task", "ranking")]:
        error = error_of(client.set_registered_model_tag, "fraud-scorer", key, value)
        assert error.error_code == "INVALID_PARAMETER_VALUE"
    error = error_of(client.delete_registered_model_tag, "fraud-scorer", "purpose")
    assert error.error_code == "INVALID_PARAMETER_VALUE"
    model.refresh_from_db()
    assert model.risk_tier == "medium"


def test_another_teams_member_cannot_change_a_model(mlflow_env, model, outsider, monkeypatch):
    from mlflow import MlflowClient

    from registry.services import token_create

    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token_create(actor=outsider, name="t")[1])
    outsiders = MlflowClient(tracking_uri=mlflow_env, registry_uri=mlflow_env)

    assert outsiders.get_registered_model("fraud-scorer").name == "fraud-scorer"  # discoverable
    error = error_of(outsiders.update_registered_model, "fraud-scorer", description="Mine now.")
    assert (error.error_code, error.get_http_status_code()) == ("PERMISSION_DENIED", 403)
    model.refresh_from_db()
    assert model.description == "Scores card payments for fraud risk."


def test_search_filters_orders_and_pages(client, make_model, other_team, admin_user):
    for name in ["churn-a", "churn-b", "Churn-c", "fraud-x", "ranker"]:
        make_model(name=name, tags=["gpu"] if name.lower().startswith("churn") else [])

    def names(**kwargs):
        return [m.name for m in client.search_registered_models(**kwargs)]

    assert names() == ["churn-a", "churn-b", "Churn-c", "fraud-x", "ranker"]
    assert names(filter_string="name = 'ranker'") == ["ranker"]
    assert names(filter_string="name LIKE 'churn-%'") == ["churn-a", "churn-b"]
    assert names(filter_string="name ILIKE 'churn-%'") == ["churn-a", "churn-b", "Churn-c"]
    assert names(filter_string="tags.gpu = '' AND name != 'churn-b'") == ["churn-a", "Churn-c"]
    assert names(filter_string="tags.team = 'fraud-detection' AND tags.license = 'proprietary'")
    assert names(filter_string="tags.team = 'search-ranking'") == []
    assert names(filter_string="tags.`risk_tier` LIKE 'med%'", order_by=["name DESC"]) == [
        "ranker",
        "fraud-x",
        "Churn-c",
        "churn-b",
        "churn-a",
    ]

    first = client.search_registered_models(max_results=2)
    assert [m.name for m in first] == ["churn-a", "churn-b"] and first.token
    second = client.search_registered_models(max_results=2, page_token=first.token)
    third = client.search_registered_models(max_results=2, page_token=second.token)
    assert [m.name for m in second] == ["Churn-c", "fraud-x"]
    assert [m.name for m in third] == ["ranker"] and not third.token


@pytest.mark.parametrize(
    "kwargs, says",
    [
        ({"filter_string": "name = 'a' OR name = 'b'"}, "OR"),
        ({"filter_string": "owner = 'alice'"}, "filter field"),
        ({"filter_string": "name >= 'a'"}, "Operator >="),
        ({"filter_string": "name ="}, "quoted value"),
        ({"filter_string": "name"}, "operator"),
        ({"filter_string": "name = 'a"}, "Invalid filter"),
        ({"filter_string": "name LIKE '" + "_" * 501 + "'"}, "at most 500"),
        ({"order_by": ["size DESC"]}, "order_by"),
        ({"page_token": "forged"}, "page_token"),
        ({"max_results": 100000}, "max_results"),
    ],
)
def test_unsupported_searches_are_invalid_parameter_value(client, model, kwargs, says):
    error = error_of(client.search_registered_models, **kwargs)
    assert (error.error_code, error.get_http_status_code()) == ("INVALID_PARAMETER_VALUE", 400)
    assert says in error.message


def test_a_pattern_of_many_wildcards_is_answered(client, model):
    pattern = "%_" * 200 + "%"
    assert client.search_registered_models(f"name LIKE '{pattern}'") == []
    assert [m.name for m in client.search_registered_models("name LIKE '%%%fraud%%%'")] == [
        "fraud-scorer"
    ]


def test_like_wildcards_case_and_backslashes_are_mlflows(client, make_model):
    for name in ["churn-a", "churnXa", "Churn-b", "churn-big-a"]:
        make_model(name=name)
    make_model(name="windows", purpose=r"Reads C:\payments every night.")
    make_model(name="unix", purpose="Reads C:payments every night.")

    def names(text):
        return sorted(m.name for m in client.search_registered_models(filter_string=text))

    assert names("name LIKE 'churn_a'") == ["churn-a", "churnXa"]  # _ is one character
    assert names("name LIKE '%HURN%'") == []  # LIKE minds case
    assert names("name ILIKE '%HURN%'") == ["Churn-b", "churn-a", "churn-big-a", "churnXa"]
    assert names("name LIKE 'churn%a'") == ["churn-a", "churn-big-a", "churnXa"]
    # A backslash is the character itself, not an escape of the next one.
    assert names(r"tags.purpose LIKE '%C:\\payments%'") == ["windows"]
    assert names("tags.purpose LIKE '%C:payments%'") == ["unix"]


def test_a_tag_filter_matches_the_models_with_that_tag(client, make_model):
    make_model(name="a", tags=["gpu", "real-time"])
    make_model(name="b", tags=["real-time"])
    make_model(name="c", tags=[])

    def names(text):
        return [m.name for m in client.search_registered_models(filter_string=text)]

    assert names("tags.`real-time` = ''") == ["a", "b"]
    assert names("tags.`real-time` != ''") == ["c"]
    assert names("tags.gpu = '' AND tags.`real-time` = ''") == ["a"]
    assert names("tags.`real-time` LIKE '%'") == ["a", "b"]
    assert names("tags.`real-time` = 'yes'") == []
    assert names("tags.`real` = ''") == []  # a whole tag, not a part of one


def test_a_page_token_only_continues_its_own_search(client, make_model):
    for name in ["a-1", "a-2", "a-3"]:
        make_model(name=name)
    token = client.search_registered_models(max_results=1).token
    error = error_of(
        client.search_registered_models, filter_string="name LIKE 'a%'", page_token=token
    )
    assert "another filter" in error.message
