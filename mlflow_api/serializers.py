"""Modelgate's models and versions as MLflow's JSON (model_registry.proto)."""

from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower

from registry.models import ModelAlias, ModelVersion, RegisteredModel
from registry.stages import Stage

from .tags import MODEL_FIELD_TAGS, VERSION_FIELD_TAGS, model_tags, version_tags

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


def registered_model_json(model, *, latest: list[dict] = (), aliases: list[dict] = ()) -> dict:
    return {
        "name": model.name,
        "creation_timestamp": millis(model.created_at),
        "last_updated_timestamp": millis(model.updated_at),
        "user_id": model.owner.get_username(),
        "description": model.description,
        "latest_versions": list(latest),
        "tags": model_tags(model),
        "aliases": list(aliases),
    }


# What MLflow's answers show of a model and a version, and no more (not the search
# document, hyperparameters or file details).
MODEL_FIELDS = (
    "name",
    "created_at",
    "updated_at",
    "description",
    "tag_list",
    "team__slug",
    "owner__username",
    *MODEL_FIELD_TAGS[2:],
)
VERSION_FIELDS = (
    "model_id",
    "number",
    "created_at",
    "created_by__username",
    "stage",
    "release_notes",
    "artifact",
    "artifact_uri",
    "run_id",
    "run_url",
    *VERSION_FIELD_TAGS,
)


# Written out rather than built from querysets: the ORM's Subquery and Exists cost more
# CPU to build and compile than the rest of the query (on PostgreSQL and SQLite alike).
MODELS = RegisteredModel._meta.db_table
NEWEST_IN_STAGE = (
    f"(SELECT v.id FROM {ModelVersion._meta.db_table} v WHERE v.model_id = {MODELS}.id"
    " AND v.stage = %s ORDER BY v.number DESC LIMIT 1)"  # a probe of version_newest_per_stage
)
HAS_ALIASES = f"EXISTS (SELECT 1 FROM {ModelAlias._meta.db_table} a WHERE a.model_id = {MODELS}.id)"


def for_answer(models: QuerySet) -> QuerySet:
    """`models` as `registered_models_json` reads them: what MLflow shows, the id of each
    model's newest version in each stage and whether it has aliases, all in the models'
    own query."""
    newest = {f"newest_{stage}": RawSQL(NEWEST_IN_STAGE, (stage,)) for stage in MLFLOW_STAGE}
    return (
        models.select_related("team", "owner")
        .only(*MODEL_FIELDS)
        .annotate(**newest, has_aliases=RawSQL(HAS_ALIASES, (), output_field=BooleanField()))
    )


def latest_versions(models, stages: list[str] | None = None) -> tuple[dict, dict]:
    """For models read through `for_answer`: each model's newest version in each stage (or
    in each of `stages`) as MLflow's JSON, oldest first, and each model's aliases
    ({alias, version}) by name; at most two queries whatever the number of models, none
    when there is nothing to read."""
    ids = {m.pk: m for m in models}
    latest: dict[int, list[dict]] = {pk: [] for pk in ids}
    aliases: dict[int, list[dict]] = {pk: [] for pk in ids}
    version_aliases: dict[int, list[str]] = {}
    with_aliases = [m.pk for m in models if m.has_aliases]
    if with_aliases:
        rows = (
            ModelAlias.objects.filter(model_id__in=with_aliases)
            .order_by(Lower("name"))
            .values_list("model_id", "name", "version_id", "version__number")
        )
        for model_id, name, version_id, number in rows:
            aliases[model_id].append({"alias": name, "version": str(number)})
            version_aliases.setdefault(version_id, []).append(name)
    wanted = [
        pk
        for m in models
        for stage in stages or MLFLOW_STAGE
        if (pk := getattr(m, f"newest_{stage}")) is not None
    ]
    if wanted:
        versions = (
            ModelVersion.objects.filter(pk__in=wanted)
            .select_related("created_by")
            .only(*VERSION_FIELDS)
            .order_by("number")
        )
        for version in versions:
            version.model = ids[version.model_id]
            latest[version.model_id].append(
                model_version_json(version, aliases=version_aliases.get(version.pk, []))
            )
    return latest, aliases


def registered_models_json(models) -> list[dict]:
    """MLflow's RegisteredModel of each of `models` (read through `for_answer`)."""
    latest, aliases = latest_versions(models)
    return [registered_model_json(m, latest=latest[m.pk], aliases=aliases[m.pk]) for m in models]
