"""Handing out stored artifacts: the permission check and, for confidential and
restricted models, the audit event of every download."""

from django.core.files import File
from django.db import transaction

from ..audit_actions import Action
from ..models import ModelVersion, artifact_storage
from ..permissions import artifacts_restricted, require_download_artifacts
from .events import log_event


def artifact_download(*, actor, version: ModelVersion, via: str) -> File:
    """Open the version's stored artifact for `actor` to read, or raise.

    PermissionDenied when the actor may not download it (registry.permissions), and
    FileNotFoundError when storage has lost the file; either way nothing is recorded.
    For a confidential or restricted model the download is written to the audit log
    (committed) before a byte is handed out. `via` says which door it went through
    ("web" or "api"). The caller closes the returned file.
    """
    model = version.model
    require_download_artifacts(actor, model)
    # The storage the services wrote with (the field's storage is fixed at import).
    handle = artifact_storage().open(version.artifact.name, "rb")
    if not artifacts_restricted(model):
        return handle
    try:
        with transaction.atomic():
            log_event(
                version,
                Action.ARTIFACT_DOWNLOADED,
                actor=actor,
                changes={
                    "artifact": version.artifact_filename,
                    "artifact_sha256": version.artifact_sha256,
                    "data_classification": model.data_classification,
                    "via": via,
                },
            )
    except BaseException:
        handle.close()
        raise
    return handle
