"""Artifact bytes: streamed to storage with their SHA-256 and size computed server-side.

Uploads through HTTP go through HashingUploadHandler, which hashes and counts each chunk
as it arrives and stops the upload as soon as it passes ARTIFACT_MAX_BYTES. Files handed
to services from elsewhere (demo data, management commands) are hashed chunk by chunk.
A checksum sent by a client is only ever compared with ours, never stored.
"""

import hashlib
import os

from django.conf import settings
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.utils.text import get_valid_filename

from .errors import ArtifactTooLarge

CHUNK = 1024 * 1024


class HashingUploadHandler(TemporaryFileUploadHandler):
    """Spools uploads to a temporary file, hashing and size-checking while streaming."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        # Fail before reading a byte when the declared body is already too big.
        if content_length and content_length > settings.ARTIFACT_MAX_BYTES + 1024 * 1024:
            raise ArtifactTooLarge(too_large_message())
        return None

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self._sha256 = hashlib.sha256()
        self._size = 0
        self._complete = False

    def receive_data_chunk(self, raw_data, start):
        self._size += len(raw_data)
        if self._size > settings.ARTIFACT_MAX_BYTES:
            self.file.close()
            raise ArtifactTooLarge(too_large_message())
        self._sha256.update(raw_data)
        return super().receive_data_chunk(raw_data, start)

    def file_complete(self, file_size):
        uploaded = super().file_complete(file_size)
        self._complete = True
        uploaded.modelgate_sha256 = self._sha256.hexdigest()
        uploaded.modelgate_size = self._size
        return uploaded

    def discard_unfinished(self) -> None:
        """Delete the temporary file of a file part that never completed.

        Django deletes it when the body ends cleanly inside the part, but not when
        reading the body raises (a cut connection, a part over the size limit).
        """
        if hasattr(self, "file") and not self._complete:
            self.upload_interrupted()


def too_large_message() -> str:
    limit = settings.ARTIFACT_MAX_BYTES
    return f"The artifact is larger than the limit of {limit:,} bytes ({limit / 1024**2:,.1f} MiB)."


def safe_filename(name: str) -> str:
    """The last path component of a client-supplied name, reduced to safe characters."""
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    cleaned = get_valid_filename(base) if base and base not in (".", "..") else ""
    return cleaned[:200] or "artifact"


def digest_and_size(file) -> tuple[str, int]:
    """SHA-256 and size of a file, from the upload handler if it already computed them."""
    if hasattr(file, "modelgate_sha256"):
        return file.modelgate_sha256, file.modelgate_size
    sha, size = hashlib.sha256(), 0
    file.seek(0)
    for chunk in file.chunks(CHUNK):
        size += len(chunk)
        if size > settings.ARTIFACT_MAX_BYTES:
            raise ArtifactTooLarge(too_large_message())
        sha.update(chunk)
    file.seek(0)
    return sha.hexdigest(), size
