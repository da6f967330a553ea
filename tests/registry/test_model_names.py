"""Near-duplicate model names (case, punctuation, look-alike characters) are one name:
refused at registration and on rename, with the name of the model they collide with."""

import re
import threading

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditEvent
from registry.errors import Conflict
from registry.models import RegisteredModel
from registry.names import name_key
from registry.services import model_create, model_update, token_create

pytestmark = pytest.mark.django_db

# Each of these is the same name as "xss-probe".
NEAR_DUPLICATES = [
    "xss-probe.",
    "XSS-Probe",
    "xss_probe",
    "xss.probe",
    "xss--probe",
    "-xss-probe-",
    "xss\u2010probe",  # HYPHEN, not HYPHEN-MINUS
    "\uff58\uff53\uff53-probe",  # fullwidth xss
    "xss-\u200bprobe",  # zero-width space
    "x\u0455\u0455-probe",  # Cyrillic dze for s
    "xss-pr\u043ebe",  # Cyrillic o
    "xss-pr0be",  # digit zero
]
DIFFERENT = ["xss-probes", "xss-probe-2", "xssprobe", "css-probe"]


def form_data(team, owner, name):
    return {
        "name": name,
        "team": team.pk,
        "owner": owner.pk,
        "description": "Checks pages for script injection.",
        "purpose": "Security testing.",
        "license": "MIT",
        "data_classification": "internal",
        "evaluation_coverage": "The payload corpus.",
        "risk_tier": "medium",
        "tags": "",
    }


def field_errors(response, field: str) -> str:
    html = response.content.decode()
    block = re.search(rf'<div class="field has-error" id="field-{field}">(.*?)</div>', html, re.S)
    return re.sub(r"<[^>]+>", " ", block.group(1)) if block else ""


@pytest.fixture
def probe(make_model):
    return make_model(name="xss-probe")


@pytest.fixture
def api(member):
    _, secret = token_create(actor=member, name="pipeline")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


# --- the rule -------------------------------------------------------------------------


@pytest.mark.parametrize("name", NEAR_DUPLICATES)
def test_near_duplicates_share_a_key(name):
    assert name_key(name) == name_key("xss-probe") == "xss-probe"


@pytest.mark.parametrize("name", DIFFERENT)
def test_different_names_have_different_keys(name):
    assert name_key(name) != name_key("xss-probe")


# --- registration ---------------------------------------------------------------------


@pytest.mark.parametrize("name", NEAR_DUPLICATES)
def test_the_form_refuses_a_near_duplicate_naming_the_model(client, member, team, probe, name):
    client.force_login(member)
    events = AuditEvent.objects.count()
    response = client.post(reverse("registry:model_create"), form_data(team, member, name))
    assert response.status_code == 200
    errors = field_errors(response, "name")
    assert "xss-probe" in errors
    assert "already exists" in errors or "too close to the existing model" in errors
    assert list(RegisteredModel.objects.values_list("name", flat=True)) == ["xss-probe"]
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("name", NEAR_DUPLICATES)
def test_the_api_refuses_a_near_duplicate_naming_the_model(api, team, member, probe, name):
    payload = {**form_data(team, member, name), "team": team.slug, "owner": member.username}
    del payload["tags"]
    response = api.post("/api/models/", payload, format="json")
    assert response.status_code == 409
    assert "'xss-probe'" in response.json()["detail"]
    assert RegisteredModel.objects.count() == 1


def test_the_service_refuses_a_near_duplicate_before_its_format(make_model, probe):
    """A look-alike that is not even a valid name is still told what it looks like."""
    with pytest.raises(Conflict, match="too close to the existing model 'xss-probe'"):
        make_model(name="x\u0455\u0455-probe")


@pytest.mark.parametrize("name", DIFFERENT)
def test_names_that_only_look_related_are_fine(make_model, probe, name):
    assert make_model(name=name).name == name


# --- rename ---------------------------------------------------------------------------


def test_renaming_onto_a_near_duplicate_is_refused(client, member, team, probe, make_model):
    other = make_model(name="csrf-probe")
    client.force_login(member)
    response = client.post(
        reverse("registry:model_edit", args=[other.name]), form_data(team, member, "XSS_probe.")
    )
    assert response.status_code == 200
    assert "too close to the existing model &#x27;xss-probe&#x27;" in response.content.decode()
    other.refresh_from_db()
    assert other.name == "csrf-probe"


def test_the_api_refuses_a_rename_onto_a_near_duplicate(api, probe, make_model):
    other = make_model(name="csrf-probe")
    response = api.patch(f"/api/models/{other.name}/", {"name": "xss.probe"}, format="json")
    assert response.status_code == 409
    assert "'xss-probe'" in response.json()["detail"]


def test_a_model_may_change_the_case_or_punctuation_of_its_own_name(member, probe):
    model_update(actor=member, model=probe, name="XSS-Probe")
    probe.refresh_from_db()
    assert (probe.name, probe.name_key) == ("XSS-Probe", "xss-probe")


def test_a_renamed_model_frees_its_old_name(member, probe, make_model):
    model_update(actor=member, model=probe, name="script-probe")
    assert make_model(name="xss-probe.").name == "xss-probe."


# --- the database keeps the rule under concurrency -------------------------------------

VARIANTS = [
    "race-model",
    "race-model.",
    "race_model",
    "race.model",
    "race-model-",
    "race--model",
    "race-model_",
    "race__model",
]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_near_duplicate_registrations_let_exactly_one_through(member, team):
    barrier = threading.Barrier(len(VARIANTS))
    outcomes: dict[str, object] = {}

    def register(name):
        try:
            barrier.wait()
            model_create(
                actor=member,
                name=name,
                team=team,
                owner=member,
                description="Races.",
                purpose="Races.",
                license="MIT",
                data_classification="internal",
                evaluation_coverage="None.",
                risk_tier="low",
            )
            outcomes[name] = "created"
        except Exception as exc:  # surfaced by the assertions below
            outcomes[name] = exc
        finally:
            connection.close()

    workers = [threading.Thread(target=register, args=(name,)) for name in VARIANTS]
    for w in workers:
        w.start()
    for w in workers:
        w.join()

    [winner] = RegisteredModel.objects.values_list("name", flat=True)
    assert outcomes[winner] == "created"
    for name, outcome in outcomes.items():
        if name != winner:
            assert isinstance(outcome, Conflict), (name, outcome)
            assert repr(winner) in outcome.message
