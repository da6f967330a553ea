"""Aliases over the API: list, resolve, set and move (200), a protected one filed as a
request (202), delete (204), and the JSON errors for everything else."""

import pytest

from approvals.models import RequestKind, TransitionRequest
from audit.models import AuditEvent
from registry.models import ModelAlias

from ..conftest import REASON

pytestmark = pytest.mark.django_db

URL = "/api/models/fraud-scorer/aliases/"


def test_setting_an_alias_answers_it_and_lists_it(alice, model, make_ready_version):
    v1 = make_ready_version(model)

    response = alice.put(f"{URL}challenger/", {"version": v1.number}, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["name"] == "challenger" and body["version"] == v1.number
    assert body["protected"] is False and body["set_by"] == "alice"
    assert body["version_url"].endswith("/api/models/fraud-scorer/versions/1/")
    listed = alice.get(URL).json()
    assert [(a["name"], a["version"]) for a in listed] == [("challenger", 1)]


def test_setting_it_again_moves_it(alice, model, make_ready_version):
    make_ready_version(model), make_ready_version(model)
    alice.put(f"{URL}challenger/", {"version": 1}, format="json")

    response = alice.put(f"{URL}Challenger/", {"version": 2}, format="json")

    assert response.status_code == 200
    assert response.json()["name"] == "challenger" and response.json()["version"] == 2
    assert alice.get(f"{URL}CHALLENGER/").json()["version"] == 2


def test_model_and_version_representations_carry_their_aliases(alice, model, make_ready_version):
    make_ready_version(model), make_ready_version(model)
    alice.put(f"{URL}shadow/", {"version": 1}, format="json")
    alice.put(f"{URL}challenger/", {"version": 1}, format="json")

    assert alice.get("/api/models/fraud-scorer/").json()["aliases"] == ["challenger", "shadow"]
    versions = alice.get("/api/models/fraud-scorer/versions/").json()["results"]
    assert {v["number"]: v["aliases"] for v in versions} == {2: [], 1: ["challenger", "shadow"]}
    detail = alice.get("/api/models/fraud-scorer/versions/1/").json()
    assert detail["aliases"] == ["challenger", "shadow"]


def test_a_protected_alias_files_a_request_202(alice, approver, model, ready_version):
    response = alice.put(f"{URL}champion/", {"version": 1, "reason": REASON}, format="json")

    assert response.status_code == 202, response.json()
    body = response.json()
    request = TransitionRequest.objects.get(pk=body["request"]["id"])
    assert request.kind == RequestKind.ALIAS and request.alias == "champion"
    assert "awaits approval" in body["detail"]
    assert body["request"]["url"].endswith(f"/api/transition-requests/{request.pk}/")
    assert response["Location"] == body["request"]["url"]
    assert not ModelAlias.objects.exists()
    detail = alice.get(body["request"]["url"]).json()
    assert detail["kind"] == "alias" and detail["alias"] == "champion"


def test_approving_it_over_the_api_sets_the_alias(
    alice, carol, dave, approver, second_approver, model, ready_version
):
    filed = alice.put(f"{URL}champion/", {"version": 1, "reason": REASON}, format="json").json()
    pk = filed["request"]["id"]

    for client in (carol, dave):
        if TransitionRequest.objects.get(pk=pk).is_pending:
            assert client.post(f"/api/transition-requests/{pk}/approve/").status_code == 200

    resolved = alice.get(f"{URL}champion/").json()
    assert resolved["version"] == 1 and resolved["protected"] is True


def test_a_protected_alias_without_a_reason_is_400(alice, approver, model, ready_version):
    response = alice.put(f"{URL}champion/", {"version": 1}, format="json")

    assert response.status_code == 400
    assert "reason" in response.json()["errors"]
    assert not TransitionRequest.objects.exists()


@pytest.mark.parametrize(
    "alias, field",
    [("latest", "alias"), ("v3", "alias"), ("x" * 65, "alias"), ("a.b", "alias")],
)
def test_a_bad_alias_name_is_400_naming_it(alice, model, ready_version, alias, field):
    before = AuditEvent.objects.count()

    response = alice.put(f"{URL}{alias}/", {"version": 1}, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "version"),
        ({"version": "1"}, "version"),
        ({"version": 0}, "version"),
        ({"version": 1, "stage": "production"}, "stage"),
        ({"version": 1, "colour": "red"}, "colour"),
    ],
)
def test_a_bad_body_is_400_naming_the_field(alice, model, ready_version, body, field):
    response = alice.put(f"{URL}challenger/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not ModelAlias.objects.exists()


def test_a_version_that_does_not_exist_is_404_naming_it(alice, model, ready_version):
    response = alice.put(f"{URL}challenger/", {"version": 9}, format="json")

    assert response.status_code == 404
    assert response.json()["errors"] == {"version": ["fraud-scorer has no version 9."]}


def test_outsiders_get_403_and_nothing_changes(alice, bob, model, ready_version):
    alice.put(f"{URL}challenger/", {"version": 1}, format="json")

    assert bob.put(f"{URL}shadow/", {"version": 1}, format="json").status_code == 403
    response = bob.delete(f"{URL}challenger/")

    assert response.status_code == 403 and "team" in response.json()["detail"]
    assert list(ModelAlias.objects.values_list("name", flat=True)) == ["challenger"]


def test_deleting_answers_204_then_the_alias_is_gone(alice, model, ready_version):
    alice.put(f"{URL}challenger/", {"version": 1}, format="json")

    assert alice.delete(f"{URL}challenger/").status_code == 204
    response = alice.get(f"{URL}challenger/")
    assert response.status_code == 404
    assert response.json() == {"detail": "fraud-scorer has no alias 'challenger'."}
    assert alice.delete(f"{URL}challenger/").status_code == 404


def test_deleting_a_protected_alias_is_403_saying_how_to_move_it(
    alice, settings, member, model, ready_version
):
    from registry.services import alias_set

    settings.MODELGATE_PROTECTED_ALIASES = []
    alias_set(actor=member, model=model, name="champion", version=ready_version)
    settings.MODELGATE_PROTECTED_ALIASES = ["champion"]

    response = alice.delete(f"{URL}champion/")

    assert response.status_code == 403
    assert "move it to another version through a request" in response.json()["detail"]
    assert ModelAlias.objects.filter(name="champion").exists()


def test_an_unknown_model_is_404(alice):
    assert alice.get("/api/models/nope/aliases/").status_code == 404
    assert (
        alice.put("/api/models/nope/aliases/a/", {"version": 1}, format="json").status_code == 404
    )


def test_without_a_token_it_is_401(model):
    from rest_framework.test import APIClient

    assert APIClient().get(URL).status_code == 401
