"""Modelgate's models and versions as MLflow's JSON (model_registry.proto)."""

from django.db.models import Max, Q
from django.db.models.functions import Lower

from registry.models import ModelAlias, ModelVersion
from registry.selectors import alias_names_prefetch
from registry.stages import Stage

from .tags import model_tags, version_tags

MLFLOW_STAGE = {
    Stage.NONE: "None",
    Stage.STAGING: "Staging",
    Stage.PRODUCTION: "Production",
    Stage.ARCHIVED: "Archived",
}
MODELGATE_STAGE = {label.lower(): stage for stage, label in MLFLOW_STAGE.items()}


def millis(when) -> int:
    return int(when.timestamp() * 1000)


def artifact_path(version) -> str:
    """Where the artifact proxy serves a stored artifact (see mlflow_api.artifacts)."""
    return f"models/{version.model_id}/versions/{version.number}"


def version_source(version) -> str:
    if version.artifact:
        return f"mlflow-artifacts:/{artifact_path(version)}"
    return version.artifact_uri


def model_version_json(version, *, aliases: list[str] | None = None) -> dict:
    """`aliases` defaults to the version's prefetched ones (registry.selectors'
    alias_names_prefetch), or none when they were not read."""
    if aliases is None:
        cached = getattr(version, "_prefetched_objects_cache", {}).get("aliases")
        aliases = [a.name for a in cached] if cached is not None else []
    data = {
        "name": version.model.name,
        "version": str(version.number),
        "creation_timestamp": millis(version.created_at),
        "last_updated_timestamp": millis(version.created_at),
        "user_id": version.created_by.get_username(),
        "current_stage": MLFLOW_STAGE[version.stage],
        "description": version.release_notes,
        "source": version_source(version),
        "run_id": version.run_id,
        "run_link": version.run_url,
        "status": "READY",
        "tags": version_tags(version),
        "aliases": list(aliases),
    }
    # As MLflow's server: empty fields are left out.
    return {k: v for k, v in data.items() if v not in ("", [])}


def registered_model_json(model, *, latest: list = (), aliases: list[dict] = ()) -> dict:
    return {
        "name": model.name,
        "creation_timestamp": millis(model.created_at),
        "last_updated_timestamp": millis(model.updated_at),
        "user_id": model.owner.get_username(),
        "description": model.description,
        "latest_versions": [model_version_json(v) for v in latest],
        "tags": model_tags(model),
        "aliases": list(aliases),
    }


def latest_versions(models, stages: list[str] | None = None) -> dict[int, list[ModelVersion]]:
    """The newest version in each stage (or in each of `stages`) of every model, in two
    queries whatever the number of models."""
    ids = [m.pk for m in models]
    rows = ModelVersion.objects.filter(model_id__in=ids)
    if stages is not None:
        rows = rows.filter(stage__in=stages)
    newest = rows.values("model_id", "stage").annotate(n=Max("number")).order_by()
    wanted = Q()
    for row in newest:
        wanted |= Q(model_id=row["model_id"], number=row["n"])
    by_model: dict[int, list[ModelVersion]] = {pk: [] for pk in ids}
    models_by_id = {m.pk: m for m in models}
    if not wanted:
        return by_model
    found = (
        ModelVersion.objects.filter(wanted)
        .select_related("created_by")
        .prefetch_related(alias_names_prefetch())
        .order_by("number")
    )
    for version in found:
        version.model = models_by_id[version.model_id]
        by_model[version.model_id].append(version)
    return by_model


def model_aliases(models) -> dict[int, list[dict]]:
    """MLflow's `aliases` of each model ({alias, version}), in one query for a page."""
    out: dict[int, list[dict]] = {m.pk: [] for m in models}
    rows = (
        ModelAlias.objects.filter(model_id__in=list(out))
        .order_by(Lower("name"))
        .values_list("model_id", "name", "version__number")
    )
    for model_id, name, number in rows:
        out[model_id].append({"alias": name, "version": str(number)})
    return out
