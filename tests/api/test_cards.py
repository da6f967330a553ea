"""The model card API: ETag on GET, If-Match on PUT/PATCH, provenance per section."""

import json

import pytest
import yaml
from django.core.management import call_command

from audit.models import AuditEvent
from registry.audit_actions import Action
from registry.choices import CARD_SECTION_NAMES
from registry.models import ModelCard
from registry.services import card_update

pytestmark = pytest.mark.django_db


def url(version) -> str:
    return f"/api/models/{version.model.name}/versions/{version.number}/card/"


def all_sections(text: str = "") -> dict:
    return {name: f"{text}{name}" for name in CARD_SECTION_NAMES}


def test_get_answers_every_section_with_its_provenance_and_an_etag(api, member, version):
    card_update(actor=member, card=version.card, sections={"intended_use": "Checkout risk."})
    response = api.get(url(version))
    assert response.status_code == 200
    assert response["ETag"] == f'"card-{version.card.pk}-r2"'
    body = response.json()
    assert body["revision"] == 2
    assert body["completeness"] == 11
    section = body["sections"]["intended_use"]
    assert section["text"] == "Checkout risk."
    assert section["status"] == "edited"
    assert section["edited_for"] == 1
    assert section["edited_by"] == "alice"
    assert set(body["sections"]) == set(CARD_SECTION_NAMES)


def test_a_write_without_if_match_is_refused_with_428(api, version):
    response = api.patch(url(version), {"intended_use": "Blind."}, format="json")
    assert response.status_code == 428
    assert "If-Match" in response.json()["detail"]
    assert ModelCard.objects.get(version=version).intended_use == ""


def test_put_with_the_current_etag_saves_and_answers_the_next_etag(api, version):
    etag = api.get(url(version))["ETag"]
    response = api.put(url(version), all_sections("Text of "), format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.json()
    assert response["ETag"] != etag
    assert response.json()["completeness"] == 100
    card = ModelCard.objects.get(version=version)
    assert card.training_data == "Text of training_data"
    assert AuditEvent.objects.filter(action=Action.CARD_UPDATED).count() == 1


def test_put_needs_every_section(api, version):
    etag = api.get(url(version))["ETag"]
    response = api.put(
        url(version), {"intended_use": "Only one."}, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 400
    assert "training_data" in response.json()["errors"]


def test_a_stale_etag_is_refused_with_412_and_changes_nothing(api, token_client, member, version):
    colleague_api = token_client(member, name="other pipeline")
    etag = api.get(url(version))["ETag"]
    first = colleague_api.patch(
        url(version), {"intended_use": "First."}, format="json", HTTP_IF_MATCH=etag
    )
    assert first.status_code == 200
    second = api.patch(url(version), {"intended_use": "Second."}, format="json", HTTP_IF_MATCH=etag)
    assert second.status_code == 412
    assert "Someone else saved the card" in second.json()["detail"]
    assert second["ETag"] == first["ETag"]
    assert ModelCard.objects.get(version=version).intended_use == "First."
    assert AuditEvent.objects.filter(action=Action.CARD_UPDATED).count() == 1


def test_an_etag_of_another_card_does_not_match(api, model, make_version):
    v1, v2 = make_version(model), make_version(model)
    etag_of_v1 = api.get(url(v1))["ETag"]
    response = api.patch(url(v2), {"intended_use": "x"}, format="json", HTTP_IF_MATCH=etag_of_v1)
    assert response.status_code == 412
    assert ModelCard.objects.get(version=v2).intended_use == ""


@pytest.mark.parametrize("header", ['W/"card-1-r1"', "garbage", '"a", "b"'])
def test_malformed_or_weak_if_match_is_412(api, version, header):
    response = api.patch(url(version), {"intended_use": "x"}, format="json", HTTP_IF_MATCH=header)
    assert response.status_code == 412
    assert response["Content-Type"] == "application/json"


def test_if_match_star_overwrites_whatever_is_there(api, member, version):
    card_update(actor=member, card=version.card, sections={"intended_use": "Old."})
    response = api.patch(url(version), {"intended_use": "New."}, format="json", HTTP_IF_MATCH="*")
    assert response.status_code == 200
    assert ModelCard.objects.get(version=version).intended_use == "New."


def test_an_empty_patch_changes_nothing(api, version):
    etag = api.get(url(version))["ETag"]
    response = api.patch(url(version), {}, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] == etag
    assert not AuditEvent.objects.filter(action=Action.CARD_UPDATED).exists()


def test_confirming_inherited_sections_makes_them_count(api, member, model, make_version):
    v1 = make_version(model)
    card_update(actor=member, card=v1.card, sections=all_sections("v1 "))
    v2 = make_version(model)
    body = api.get(url(v2)).json()
    assert body["completeness"] == 0
    assert body["sections"]["intended_use"]["status"] == "inherited"
    assert body["sections"]["intended_use"]["inherited_from"] == 1
    assert body["sections"]["intended_use"]["edited_for"] == 1

    etag = api.get(url(v2))["ETag"]
    response = api.patch(
        url(v2),
        {"confirm": ["intended_use", "model_details"], "training_data": "new"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["completeness"] == 33
    assert body["sections"]["intended_use"]["status"] == "confirmed"
    assert body["sections"]["intended_use"]["confirmed_by"] == "alice"
    assert body["sections"]["training_data"]["status"] == "edited"
    assert body["sections"]["training_data"]["edited_for"] == 2
    version_body = api.get(f"/api/models/{model.name}/versions/2/").json()
    assert version_body["card_completeness"] == 33


def test_bad_input_is_a_field_level_400_and_changes_nothing(api, version):
    etag = api.get(url(version))["ETag"]
    for body, field in [
        ({"intended_use": "a\x00b"}, "intended_use"),
        ({"no_such_section": "x"}, "no_such_section"),
        ({"confirm": ["no_such_section"]}, "confirm"),
        ({"stage": "production"}, "stage"),
    ]:
        response = api.patch(url(version), body, format="json", HTTP_IF_MATCH=etag)
        assert response.status_code == 400, body
        errors = response.json()["errors"]
        assert field in errors
        assert all(isinstance(m, str) for m in errors[field])  # one flat list per field
    assert ModelCard.objects.get(version=version).revision == 1


def test_a_lone_surrogate_is_a_400(api, version):
    etag = api.get(url(version))["ETag"]
    raw = '{"intended_use": "\\ud800"}'
    response = api.generic(
        "PATCH", url(version), raw, content_type="application/json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 400
    assert "intended_use" in response.json()["errors"]


def test_outsiders_can_read_but_not_write(outsider_api, version):
    etag = outsider_api.get(url(version))["ETag"]
    response = outsider_api.patch(
        url(version), {"intended_use": "x"}, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 403
    assert ModelCard.objects.get(version=version).intended_use == ""


def test_an_unknown_version_is_a_json_404(api, model):
    response = api.get(f"/api/models/{model.name}/versions/99/card/")
    assert response.status_code == 404
    assert "detail" in response.json()


def test_the_schema_declares_etag_if_match_412_and_428(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yaml"))
    schema = yaml.safe_load((tmp_path / "s.yaml").read_text())
    path = schema["paths"]["/api/models/{name}/versions/{number}/card/"]
    assert path["get"]["responses"]["200"]["headers"]["ETag"]
    for method in ("put", "patch"):
        operation = path[method]
        if_match = [p for p in operation["parameters"] if p["name"] == "If-Match"]
        assert if_match and if_match[0]["required"] and if_match[0]["in"] == "header"
        assert {"200", "400", "403", "404", "412", "428"} <= set(operation["responses"])
    assert "CardSection" in json.dumps(schema["components"]["schemas"]["Card"])
