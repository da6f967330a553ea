"""The synth management command (the demo's are in tests/demo/)."""

from io import StringIO

import pytest
from django.core.management import call_command

from audit.models import AuditEvent
from registry.audit_actions import Action
from registry.models import ModelCard, ModelVersion, RegisteredModel, VersionParent
from registry.names import name_key
from registry.search import CatalogQuery, catalog_search

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_synth_creates_the_requested_catalog():
    output = run("synth", "--models", "50", "--versions-per-model", "3", "--batch-size", "20")
    assert "Created 50 models, 150 versions" in output
    models = RegisteredModel.objects.filter(created_by__username="synth-loader")
    assert models.count() == 50
    assert ModelVersion.objects.filter(model__in=models).count() == 150
    assert ModelCard.objects.filter(version__model__in=models).count() == 150
    for model in models:
        versions = list(model.versions.order_by("number"))
        assert [v.number for v in versions] == [1, 2, 3]
        assert len({v.label for v in versions}) == 3
        assert model.last_version_number == 3
        assert model.latest_framework == versions[-1].framework
        assert model.current_stage == "none"
        assert model.tags.exists()
        assert {v.stage for v in versions} == {"none"}
        # Bulk-loaded names are keyed like registered ones, so look-alikes still collide.
        assert model.name_key == name_key(model.name)
    # One audit event summarises the whole load.
    bulk = AuditEvent.objects.filter(object_type="bulk")
    assert bulk.count() == 1
    assert bulk.get().action == Action.CATALOG_BULK_LOADED
    assert bulk.get().changes["synthetic_models"] == 50


def test_synthetic_lineage_is_acyclic_and_matches_the_count_it_reports():
    output = run("synth", "--models", "60", "--versions-per-model", "4", "--batch-size", "25")
    links = list(VersionParent.objects.select_related("child", "parent"))
    assert f"metrics and {len(links)} lineage links" in output
    within = [e for e in links if e.child.model_id == e.parent.model_id]
    across = [e for e in links if e.child.model_id != e.parent.model_id]
    assert within and across  # 180 retrains at 30% and 59 first versions at 10%
    # Newer from older inside a model; across models, a first version from an older model.
    assert all(e.child.number == e.parent.number + 1 for e in within)
    assert all(e.child.number == 1 and e.parent.model_id < e.child.model_id for e in across)
    bulk = AuditEvent.objects.get(object_type="bulk")
    assert bulk.changes["synthetic_lineage_links"] == len(links)


def test_synthetic_models_are_searchable_by_name():
    run("synth", "--models", "50", "--versions-per-model", "3")
    model = RegisteredModel.objects.filter(created_by__username="synth-loader").last()
    result = catalog_search(CatalogQuery.from_params({"q": model.name}))
    assert model.pk in [m.pk for m in result.page.object_list]


def test_synth_twice_adds_models_without_name_clashes():
    run("synth", "--models", "30", "--versions-per-model", "2")
    run("synth", "--models", "30", "--versions-per-model", "2", "--seed", "1")
    assert RegisteredModel.objects.filter(created_by__username="synth-loader").count() == 60
    assert AuditEvent.objects.filter(object_type="bulk").count() == 2
