"""POST /api/targets/<target>/reports/: a deployment system reports what it does with a
version. Recorded with its audit event, or refused with the documented error and
nothing changed."""

import pytest
from django.contrib.auth.models import Group

from audit.models import AuditEvent
from registry.audit_actions import Action
from registry.models import DeploymentReport, Serving
from registry.services import (
    deployment_report_record,
    deployment_target_create,
    model_permission_grant,
    team_maintainer_add,
)

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://93.184.215.14/hooks"


def url(target) -> str:
    return f"/api/targets/{target}/reports/"


@pytest.fixture
def make_target(admin_user):
    def make(name="argo-prod-eu", **overrides):
        values = {
            "actor": admin_user,
            "name": name,
            "environment": "production",
            "url": PUBLIC_URL,
            "events": ["test"],
            **overrides,
        }
        return deployment_target_create(**values)[0]

    return make


@pytest.fixture
def target(make_target):
    return make_target()


def serving_body(**overrides) -> dict:
    return {
        "model": "fraud-scorer",
        "version": 1,
        "state": "serving",
        "endpoint_url": "https://serving.example.com/fraud-scorer",
        "message": "Rollout 2291 complete.",
        **overrides,
    }


@pytest.fixture
def unchanged():
    """`assert unchanged() == before`: reports, serving rows and audit events."""

    def take():
        return (
            DeploymentReport.objects.count(),
            list(Serving.objects.values_list("version_id", "state", "endpoint_url")),
            AuditEvent.objects.count(),
        )

    return take


def test_a_report_is_recorded_shown_as_current_and_audited(api, target, version):
    response = api.post(url(target.name), serving_body(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["target"] == "argo-prod-eu"
    assert (body["model"], body["version"], body["state"]) == ("fraud-scorer", 1, "serving")
    assert body["endpoint_url"] == "https://serving.example.com/fraud-scorer"
    assert body["reported_by"] == "alice"
    # No version is in Production, so a production target serving v1 is drift.
    assert (body["production_version"], body["drift"]) == (None, True)
    assert body["web_url"].endswith("/models/fraud-scorer/v/1/")
    serving = Serving.objects.get()
    assert (serving.target, serving.version, serving.state) == (target, version, "serving")
    event = AuditEvent.objects.filter(action=Action.DEPLOYMENT_REPORTED).get()
    assert event.actor_name == "alice"
    assert (event.model_name, event.version_number) == ("fraud-scorer", 1)
    assert event.changes["target"] == "argo-prod-eu"
    assert event.changes["state"] == "serving"
    assert event.changes["previous"] is None


def test_the_target_may_be_named_in_any_case_or_by_id(api, target, version):
    assert api.post(url("ARGO-PROD-EU"), serving_body(), format="json").status_code == 201
    assert api.post(url(target.pk), serving_body(state="retired"), format="json").status_code == 201
    assert Serving.objects.get().state == "retired"


def test_each_report_replaces_the_current_state_and_joins_the_history(
    api, target, model, version, make_version
):
    make_version(model)
    api.post(url(target.name), serving_body(), format="json")
    api.post(url(target.name), serving_body(version=2, state="deploying"), format="json")
    response = api.post(
        url(target.name), serving_body(version=2, state="failed", endpoint_url=""), format="json"
    )
    assert response.status_code == 201
    current = Serving.objects.get()
    assert (current.version.number, current.state, current.endpoint_url) == (2, "failed", "")
    assert list(
        DeploymentReport.objects.order_by("id").values_list("version__number", "state")
    ) == [(1, "serving"), (2, "deploying"), (2, "failed")]
    last = AuditEvent.objects.filter(action=Action.DEPLOYMENT_REPORTED).order_by("-sequence")[0]
    assert last.changes["previous"] == "v2 deploying"


def test_targets_keep_their_own_state_per_model(
    api, target, make_target, version, make_model, make_version
):
    staging = make_target("argo-staging", environment="staging")
    other = make_model(name="churn-predictor")
    make_version(other)
    for where, body in [
        ("argo-prod-eu", serving_body()),
        (staging.name, serving_body(state="deploying")),
        ("argo-prod-eu", serving_body(model="churn-predictor")),
    ]:
        response = api.post(url(where), body, format="json")
        assert response.status_code == 201, response.json()
    assert sorted(Serving.objects.values_list("target__name", "model__name", "state")) == [
        ("argo-prod-eu", "churn-predictor", "serving"),
        ("argo-prod-eu", "fraud-scorer", "serving"),
        ("argo-staging", "fraud-scorer", "deploying"),
    ]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (serving_body(state="running"), "state", "is not a valid choice"),
        (serving_body(endpoint_url="ftp://files.example.com/m"), "endpoint_url", "(not ftp:)"),
        (serving_body(endpoint_url="javascript:alert(1)"), "endpoint_url", "https://"),
        (serving_body(endpoint_url="https://x.example.com/" + "a" * 500), "endpoint_url", "500"),
        (serving_body(message="m" * 501), "message", "500"),
        (serving_body(message="bad\u0000byte"), "message", "NUL"),
        (serving_body(endpoint_url="https://x.example.com/\u0000"), "endpoint_url", "NUL"),
        (serving_body(version="1"), "version", "valid number"),
        (serving_body(version=0), "version", "greater than or equal to 1"),
        ({"model": "fraud-scorer", "version": 1}, "state", "required"),
        (serving_body(stage="production"), "stage", "approved transition request"),
        (serving_body(colour="red"), "colour", "Unknown field"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(
    api, target, version, unchanged, body, field, message
):
    before = unchanged()
    response = api.post(url(target.name), body, format="json")
    assert response.status_code == 400, response.json()
    errors = response.json()["errors"]
    assert any(message in m for m in errors[field]), errors
    assert unchanged() == before


def test_a_lone_surrogate_is_a_400_naming_the_field(api, target, version, unchanged):
    before = unchanged()
    raw = '{"model": "fraud-scorer", "version": 1, "state": "serving", "message": "\\ud800"}'
    response = api.post(url(target.name), raw, content_type="application/json")
    assert response.status_code == 400
    assert "surrogate" in response.json()["errors"]["message"][0]
    assert unchanged() == before


def test_a_body_that_is_not_an_object_is_a_400(api, target, version, unchanged):
    before = unchanged()
    response = api.post(url(target.name), "[1, 2]", content_type="application/json")
    assert response.status_code == 400
    assert unchanged() == before


def test_a_huge_body_is_refused_and_changes_nothing(api, target, version, unchanged, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    before = unchanged()
    response = api.post(url(target.name), serving_body(message="m" * 20_000), format="json")
    assert response.status_code == 413
    assert "too large" in response.json()["detail"]
    assert unchanged() == before


def test_a_form_encoded_body_is_a_415(api, target, version, unchanged):
    before = unchanged()
    response = api.post(
        url(target.name), "model=fraud-scorer&version=1&state=serving",
        content_type="application/x-www-form-urlencoded",
    )  # fmt: skip
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]
    assert unchanged() == before


@pytest.mark.parametrize(
    ("where", "body", "field", "message"),
    [
        ("nowhere", serving_body(), None, "No deployment target named 'nowhere'"),
        ("argo-prod-eu", serving_body(model="no-such-model"), "model", "No model named"),
        ("argo-prod-eu", serving_body(version=9), "version", "fraud-scorer has no version 9"),
    ],
)
def test_what_does_not_exist_is_a_json_404(
    api, target, version, unchanged, where, body, field, message
):
    before = unchanged()
    response = api.post(url(where), body, format="json")
    assert response.status_code == 404
    answer = response.json()
    if field:
        assert message in answer["errors"][field][0]
    else:
        assert message in answer["detail"]
    assert unchanged() == before


def test_a_model_the_target_does_not_receive_is_a_400(
    api, make_target, version, other_team, unchanged
):
    make_target("search-prod", scope="team", team=other_team)
    before = unchanged()
    response = api.post(url("search-prod"), serving_body(), format="json")
    assert response.status_code == 400
    assert "does not receive fraud-scorer" in response.json()["errors"]["model"][0]
    assert unchanged() == before


def test_no_token_is_a_401(client, target, version, unchanged):
    before = unchanged()
    response = client.post(url(target.name), serving_body(), content_type="application/json")
    assert response.status_code == 401
    assert "Bearer" in response.json()["detail"]
    assert unchanged() == before


# Who may report (README, "Deployment reports"): whoever may edit the model, and admins.
def _admin(c):
    return c.admin_user


def _member(c):
    return c.member


def _outsider(c):
    return c.outsider


def _granted(c):
    model_permission_grant(actor=c.member, model=c.model, user=c.outsider)
    return c.outsider


def _other_maintainer(c):
    team_maintainer_add(actor=c.admin_user, team=c.other_team, user=c.outsider)
    return c.outsider


def _auditor(c):
    user = c.users.objects.create_user("audrey")
    user.groups.add(Group.objects.get_or_create(name="Auditors")[0])
    return user


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        (_admin, True),
        (_member, True),
        (_granted, True),
        (_outsider, False),
        (_other_maintainer, False),
        (_auditor, False),
    ],
    ids=["admin", "team member", "edit grant", "outsider", "other team maintainer", "auditor"],
)
def test_who_may_report(
    token_client, target, version, unchanged, who, allowed, admin_user, member, outsider, model,
    other_team, django_user_model,
):  # fmt: skip
    from types import SimpleNamespace

    c = SimpleNamespace(
        admin_user=admin_user, member=member, outsider=outsider, model=model,
        other_team=other_team, users=django_user_model,
    )  # fmt: skip
    user = who(c)
    reporter = token_client(user)
    before = unchanged()
    response = reporter.post(url(target.name), serving_body(), format="json")
    if allowed:
        assert response.status_code == 201, response.json()
        assert Serving.objects.get().report.reported_by == user
    else:
        assert response.status_code == 403
        assert "Only members of team Fraud Detection" in response.json()["detail"]
        assert unchanged() == before


def test_the_service_refuses_a_reporter_before_anything_is_written(
    target, version, outsider, unchanged
):
    from django.core.exceptions import PermissionDenied

    before = unchanged()
    with pytest.raises(PermissionDenied):
        deployment_report_record(actor=outsider, target=target, version=version, state="serving")
    assert unchanged() == before


def test_the_schema_documents_the_operation_and_its_errors(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/targets/{target}/reports/"]["post"]
    assert operation["operationId"] == "targets_reports_create"
    assert set(operation["responses"]) == {"201", "400", "401", "403", "404", "413", "415"}
    for code in ("400", "401", "403", "404", "413", "415"):
        error = operation["responses"][code]["content"]["application/json"]["schema"]
        assert error == {"$ref": "#/components/schemas/Error"}
    assert operation["requestBody"]["content"]["application/json"]["examples"]["Serving"]
    request = schema["components"]["schemas"]["DeploymentReportInputRequest"]
    assert request["additionalProperties"] is False
    assert set(request["required"]) == {"model", "version", "state"}
    states = schema["components"]["schemas"]["ServingStateEnum"]["enum"]
    assert states == ["deploying", "serving", "failed", "retired"]
