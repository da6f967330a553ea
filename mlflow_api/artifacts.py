"""A version's stored artifact as the directory MLflow expects a model to be.

A Modelgate version holds one artifact file. Served through MLflow's artifact proxy
(`/api/2.0/mlflow-artifacts/artifacts/models/<model id>/versions/<number>/...`):
- a .zip, .tar, .tar.gz/.tgz, .tar.bz2 or .tar.xz archive is served as the directory
  it packs (an MLflow model directory: MLmodel and its files). When every member sits
  under one top-level folder, that folder is the root, so an archive of `model/` works
  as well as one of its contents;
- any other file is served as the only file of the directory, under its own name.
Reading needs the same permission as Modelgate's download, and fetching a file goes
through registry.services.artifact_download, which records the download of a
confidential or restricted model's artifact in the audit log.
"""

import posixpath
import tarfile
import zipfile
from dataclasses import dataclass, field

from registry.models import ModelVersion, artifact_storage
from registry.permissions import require_download_artifacts
from registry.services import artifact_download

from .errors import invalid, not_found

CHUNK = 1024 * 1024
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")


@dataclass
class Tree:
    files: dict[str, int] = field(default_factory=dict)  # path -> size
    archive_names: dict[str, str] = field(default_factory=dict)  # path -> member name

    def dirs(self) -> set[str]:
        out = set()
        for path in self.files:
            parent = posixpath.dirname(path)
            while parent:
                out.add(parent)
                parent = posixpath.dirname(parent)
        return out


def _kind(filename: str) -> str:
    name = filename.lower()
    if name.endswith(".zip"):
        return "zip"
    if name.endswith(TAR_SUFFIXES):
        return "tar"
    return "file"


def version_at(path: str) -> tuple[ModelVersion, str]:
    """The version a proxy path names, and the path inside its directory."""
    parts = path.strip("/").split("/")
    if len(parts) < 4 or parts[0] != "models" or parts[2] != "versions":
        raise not_found(f"No artifact at {path!r}: paths look like models/<id>/versions/<n>/.")
    try:
        model_id, number = int(parts[1]), int(parts[3])
    except ValueError:
        raise not_found(f"No artifact at {path!r}.") from None
    if not (0 < model_id < 2**63 and 0 < number < 2**31):
        raise not_found(f"No artifact at {path!r}.")
    version = (
        ModelVersion.objects.select_related("model__team")
        .filter(model_id=model_id, number=number)
        .first()
    )
    if version is None:
        raise not_found(f"No artifact at {path!r}.")
    inner = "/".join(p for p in parts[4:] if p)
    if any(p in (".", "..") for p in parts[4:]):
        raise invalid("Artifact paths cannot contain '.' or '..'.")
    return version, inner


def _members(kind: str, handle) -> list[tuple[str, str, int]]:
    """(clean path, member name, size) of every regular file in an archive."""
    out = []
    if kind == "zip":
        with zipfile.ZipFile(handle) as archive:
            for info in archive.infolist():
                if not info.is_dir():
                    out.append((info.filename, info.filename, info.file_size))
    else:
        with tarfile.open(fileobj=handle, mode="r:*") as archive:
            for info in archive.getmembers():
                if info.isfile():
                    out.append((info.name, info.name, info.size))
    clean = []
    for path, name, size in out:
        parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
        if parts and ".." not in parts:
            clean.append(("/".join(parts), name, size))
    tops = {p.split("/", 1)[0] for p, _, _ in clean}
    if len(tops) == 1 and all("/" in p for p, _, _ in clean):
        clean = [(p.split("/", 1)[1], n, s) for p, n, s in clean]
    return clean


def _tree(version: ModelVersion, handle) -> Tree:
    kind = _kind(version.artifact_filename or version.artifact.name)
    tree = Tree()
    if kind == "file":
        tree.files[version.artifact_filename] = version.artifact_size or 0
        return tree
    try:
        members = _members(kind, handle)
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError):
        raise invalid(
            f"The artifact {version.artifact_filename} is not a readable archive."
        ) from None
    for path, name, size in members:
        tree.files[path] = size
        tree.archive_names[path] = name
    return tree


def _require_stored(version: ModelVersion) -> None:
    if not version.artifact:
        where = f" (it is at {version.artifact_uri})" if version.artifact_uri else ""
        raise not_found(
            f"{version.model.name} version {version.number} has no artifact stored in "
            f"Modelgate{where}."
        )


def list_directory(*, actor, version: ModelVersion, inner: str) -> list[dict]:
    """MLflow's file infos of the directory `inner` (paths relative to it)."""
    _require_stored(version)
    require_download_artifacts(actor, version.model)
    try:
        with artifact_storage().open(version.artifact.name, "rb") as handle:
            tree = _tree(version, handle)
    except FileNotFoundError:
        raise not_found("The artifact's file is missing from storage.") from None
    entries = []
    prefix = f"{inner}/" if inner else ""
    if inner and inner not in tree.dirs():
        return []  # a file, or nothing: MLflow's server lists neither
    for directory in sorted(tree.dirs()):
        if directory.startswith(prefix) and "/" not in directory[len(prefix) :]:
            entries.append({"path": directory[len(prefix) :], "is_dir": True})
    for path, size in sorted(tree.files.items()):
        if path.startswith(prefix) and "/" not in path[len(prefix) :]:
            entries.append({"path": path[len(prefix) :], "is_dir": False, "file_size": size})
    return entries


def open_file(*, actor, version: ModelVersion, inner: str):
    """(chunk iterator, size) of the file `inner` of the version's directory."""
    _require_stored(version)
    try:
        handle = artifact_download(actor=actor, version=version, via="mlflow")
    except FileNotFoundError:
        raise not_found("The artifact's file is missing from storage.") from None
    try:
        tree = _tree(version, handle)
        if inner not in tree.files:
            raise not_found(f"{version.model.name} version {version.number} has no file {inner!r}.")
        handle.seek(0)
        kind = _kind(version.artifact_filename or version.artifact.name)
        size = tree.files[inner]
    except BaseException:
        handle.close()
        raise
    return _chunks(kind, handle, tree.archive_names.get(inner)), size


def _chunks(kind: str, handle, member: str | None):
    try:
        if kind == "file":
            while chunk := handle.read(CHUNK):
                yield chunk
        elif kind == "zip":
            with zipfile.ZipFile(handle) as archive, archive.open(member) as source:
                while chunk := source.read(CHUNK):
                    yield chunk
        else:
            with tarfile.open(fileobj=handle, mode="r:*") as archive:
                source = archive.extractfile(member)
                while chunk := source.read(CHUNK):
                    yield chunk
    finally:
        handle.close()
