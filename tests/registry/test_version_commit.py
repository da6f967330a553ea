"""Registering a version with its artifact commits whole or leaves nothing, even when
the failure is the COMMIT itself (after every statement succeeded)."""

from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.db import DatabaseError, connection

from audit.models import AuditEvent
from registry.models import ModelVersion

pytestmark = pytest.mark.django_db(transaction=True)


def _files(folder):
    return [p for p in folder.rglob("*") if p.is_file()]


def test_a_failed_commit_keeps_no_stored_artifact(model, make_version, artifact_dir):
    events = AuditEvent.objects.count()
    with mock.patch.object(connection, "commit", side_effect=DatabaseError("server closed")):
        with pytest.raises(DatabaseError):
            make_version(model, artifact_uri="", artifact=ContentFile(b"w" * 4096, name="m.pt"))

    assert not ModelVersion.objects.filter(model=model).exists()
    assert AuditEvent.objects.count() == events
    assert _files(artifact_dir) == []
    assert make_version(model).number == 1


def test_a_failed_commit_keeps_no_attached_artifact(model, make_version, artifact_dir):
    version = make_version(model, artifact_uri="")
    from registry.services import artifact_attach

    with mock.patch.object(connection, "commit", side_effect=DatabaseError("server closed")):
        with pytest.raises(DatabaseError):
            artifact_attach(
                actor=version.created_by,
                version=version,
                artifact=ContentFile(b"w" * 4096, name="m.pt"),
            )

    version.refresh_from_db()
    assert not version.has_artifact
    assert _files(artifact_dir) == []
