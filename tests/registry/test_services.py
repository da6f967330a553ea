import hashlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile

from audit.models import AuditEvent
from registry.audit_actions import Action
from registry.errors import Conflict
from registry.models import ModelVersion, RegisteredModel
from registry.selectors import model_lineage
from registry.services import (
    card_update,
    lineage_attach,
    metrics_attach,
    model_permission_grant,
    model_update,
    params_attach,
    version_register,
)
from registry.stages import Stage

pytestmark = pytest.mark.django_db


def test_model_create_normalises_license_and_tags(make_model):
    model = make_model(license="apache-2.0", tags=["NLP", " nlp ", "search"])
    assert model.license == "Apache-2.0"
    assert sorted(model.tags.values_list("name", flat=True)) == ["nlp", "search"]


def test_model_names_are_unique_ignoring_case(make_model):
    make_model(name="Churn-Predictor")
    with pytest.raises(Conflict, match="already exists"):
        make_model(name="churn-predictor")
    assert RegisteredModel.objects.filter(name__iexact="churn-predictor").count() == 1


@pytest.mark.parametrize(
    "field,value",
    [
        ("name", "has space"),
        ("name", "-leading-dash"),
        ("license", "Not-A-License"),
        ("data_classification", "secret"),
        ("description", ""),
        ("purpose", ""),
        ("evaluation_coverage", ""),
    ],
)
def test_model_create_rejects_bad_metadata(make_model, field, value):
    with pytest.raises(ValidationError) as exc:
        make_model(**{field: value})
    assert field in exc.value.message_dict
    assert RegisteredModel.objects.count() == 0


def test_outsider_cannot_create_for_another_team(make_model, outsider):
    with pytest.raises(PermissionDenied):
        make_model(actor=outsider)


def test_versions_are_numbered_sequentially_and_start_unstaged(model, make_version):
    numbers = [make_version(model).number for _ in range(3)]
    assert numbers == [1, 2, 3]
    assert set(ModelVersion.objects.values_list("stage", flat=True)) == {Stage.NONE}
    model.refresh_from_db()
    assert model.last_version_number == 3


def test_duplicate_label_is_a_conflict_and_burns_no_number(model, make_version):
    make_version(model, label="1.0.0")
    with pytest.raises(Conflict):
        make_version(model, label="1.0.0")
    assert make_version(model, label="1.1.0").number == 2


def test_invalid_commit_sha_is_rejected(model, make_version):
    with pytest.raises(ValidationError) as exc:
        make_version(model, code_commit="abc123")
    assert "code_commit" in exc.value.message_dict


def test_uploaded_artifact_is_hashed_server_side(model, make_version, artifact_dir):
    payload = b"weights" * 1000
    version = make_version(
        model, artifact_uri="", artifact=ContentFile(payload, name="../../etc/model.bin")
    )
    assert version.artifact_sha256 == hashlib.sha256(payload).hexdigest()
    assert version.artifact_size == len(payload)
    stored = artifact_dir / version.artifact.name
    assert stored.read_bytes() == payload
    assert stored.resolve().is_relative_to(artifact_dir.resolve())
    assert version.artifact_filename == "model.bin"


def test_mismatched_client_checksum_stores_nothing(model, make_version, artifact_dir):
    with pytest.raises(ValidationError) as exc:
        make_version(
            model,
            artifact_uri="",
            artifact=ContentFile(b"abc", name="m.bin"),
            expected_sha256="0" * 64,
        )
    assert "sha256" in exc.value.message_dict
    assert ModelVersion.objects.count() == 0
    assert not artifact_dir.exists() or not any(artifact_dir.rglob("*.bin"))


def test_new_version_card_copies_previous_marked_inherited_and_not_counted(
    model, make_version, member
):
    v1 = make_version(model)
    card = card_update(actor=member, card=v1.card, sections={"intended_use": "Checkout risk."})
    assert card.completeness == 11
    v2 = make_version(model)
    assert v2.card.intended_use == "Checkout risk."
    state = v2.card.section_state("intended_use")
    assert state["status"] == "inherited"
    assert state["inherited_from"] == 1
    assert state["edited_for"] == 1 and state["edited_by"] == member.pk
    assert v2.card.completeness == 0
    assert v2.card.inherited_sections == ["intended_use"]
    v3 = make_version(model)  # still the text of v1, now by way of v2
    assert v3.card.section_state("intended_use")["inherited_from"] == 2
    assert v3.card.section_state("intended_use")["edited_for"] == 1


def test_lineage_cycles_are_rejected(model, make_version, member):
    v1 = make_version(model)
    v2 = make_version(model, parents=[(v1, "fine_tuned_from")])
    with pytest.raises(ValidationError, match="cycle"):
        lineage_attach(actor=member, version=v1, parents=[(v2, "derived_from")])
    with pytest.raises(ValidationError, match="own parent"):
        lineage_attach(actor=member, version=v1, parents=[(v1, "derived_from")])


def test_the_model_page_lists_a_models_newest_links_on_both_sides(
    model, make_model, make_version, member
):
    base = make_version(make_model(name="base-encoder"))
    v1 = make_version(model, parents=[(base, "fine_tuned_from")])
    v2 = make_version(model, parents=[(v1, "derived_from")])
    other = make_version(make_model(name="churn"), parents=[(v2, "derived_from")])
    links = model_lineage(model)
    assert [(e.child, e.parent) for e in links] == [(other, v2), (v2, v1), (v1, base)]
    # Each link stores both ends' models, which is what the lookup uses.
    assert {(e.child_model_id, e.parent_model_id) for e in links} == {
        (other.model_id, model.pk),
        (model.pk, model.pk),
        (model.pk, base.model_id),
    }
    assert [(e.child, e.parent) for e in model_lineage(model, limit=2)] == [(other, v2), (v2, v1)]
    assert model_lineage(base.model) == [links[2]]


def test_outsider_cannot_register_until_granted(model, make_version, outsider, member):
    with pytest.raises(PermissionDenied):
        make_version(model, actor=outsider)
    model_permission_grant(actor=member, model=model, user=outsider)
    assert make_version(model, actor=outsider).number == 1


def test_metrics_and_params_do_not_overwrite_history(version, member):
    with pytest.raises(Conflict):
        metrics_attach(
            actor=member,
            version=version,
            metrics=[{"name": "auc", "value": 0.5, "dataset": "holdout"}],
        )
    metrics_attach(actor=member, version=version, metrics=[{"name": "f1", "value": 0.7}])
    params_attach(actor=member, version=version, hyperparameters={"depth": 6})
    with pytest.raises(Conflict):
        params_attach(actor=member, version=version, hyperparameters={"depth": 8})
    assert version.metrics.count() == 2


def test_every_change_writes_one_audit_event(model, member):
    before = AuditEvent.objects.count()
    model_update(actor=member, model=model, description="New description")
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.order_by("-sequence").first()
    assert event.action == Action.MODEL_UPDATED
    assert event.changes["description"][1] == "New description"
    # A no-op update records nothing.
    model_update(actor=member, model=model, description="New description")
    assert AuditEvent.objects.count() == before + 1


def test_stage_cannot_be_set_through_registration(model, member):
    with pytest.raises(TypeError):
        version_register(
            actor=member, model=model, label="1.0.0", framework="sklearn", stage="production"
        )
