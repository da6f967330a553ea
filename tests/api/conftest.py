"""API test helpers: clients carrying a real personal token, and a snapshot of
everything a failed request must leave untouched."""

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from registry.models import (
    DataVersion,
    Metric,
    ModelVersion,
    RegisteredModel,
    VersionParent,
)
from registry.services import token_create


@pytest.fixture
def token_client():
    def make(user, name="pipeline"):
        _, secret = token_create(actor=user, name=name)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        client.secret = secret
        return client

    return make


@pytest.fixture
def api(token_client, member):
    """A pipeline acting as `member`, who belongs to the model's owning team."""
    return token_client(member)


@pytest.fixture
def outsider_api(token_client, outsider):
    return token_client(outsider)


@pytest.fixture
def snapshot(artifact_dir):
    """Row counts, audit events and stored files: `assert snapshot() == before`."""

    def take():
        return {
            "models": RegisteredModel.objects.count(),
            "versions": ModelVersion.objects.count(),
            "metrics": Metric.objects.count(),
            "data_versions": DataVersion.objects.count(),
            "lineage": VersionParent.objects.count(),
            "audit_events": AuditEvent.objects.count(),
            "files": sorted(str(p) for p in artifact_dir.rglob("*") if p.is_file()),
        }

    return take
