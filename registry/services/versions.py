"""Model versions: registration and everything attached to them afterwards."""

import uuid
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from audit.services import event_append_sql, event_appended

from ..artifacts import digest_and_size, safe_filename
from ..audit_actions import Action
from ..errors import Conflict
from ..fixed_sql import (
    column_list,
    fixed_cursor,
    insert_fields,
    insert_params,
    json_record,
    mark_saved,
    placeholders,
)
from ..limits import check_length, check_markdown_sizes
from ..models import (
    DataVersion,
    Metric,
    ModelCard,
    ModelVersion,
    RegisteredModel,
    VersionParent,
    artifact_storage,
)
from ..permissions import require_edit_model
from ..selectors import version_get, version_snapshot
from ..stages import Stage
from .cards import card_inherited, previous_card_from_row, previous_card_sql
from .events import event_fields_of, log_event
from .inputs import clean_data_versions, clean_metrics, clean_params, clean_relation

Parent = tuple[ModelVersion, str]  # (parent version, LineageRelation value)


def _check_expected_digest(expected: str | None, actual: str) -> None:
    if expected and expected.strip().lower() != actual:
        raise ValidationError(
            {
                "sha256": [
                    f"The uploaded file's SHA-256 is {actual}, not {expected.strip()}: "
                    "the upload was corrupted or the wrong file was sent. Nothing was stored."
                ]
            }
        )


def _store_artifact(model_id: int, file, expected_sha256: str | None) -> dict[str, Any]:
    """Hash, compare and save the bytes, before any row is locked or written.

    The path carries a random part instead of the version number, which is only known
    under the model's row lock: a large upload to S3 must not hold that lock. Returns
    the artifact fields of the version; the caller deletes `artifact` if it fails.
    """
    digest, size = digest_and_size(file)
    _check_expected_digest(expected_sha256, digest)
    filename = safe_filename(getattr(file, "name", "") or "")
    name = artifact_storage().save(f"{model_id}/{uuid.uuid4().hex}/{filename}", file)
    return {
        "artifact": name,
        "artifact_filename": filename,
        "artifact_sha256": digest,
        "artifact_size": size,
    }


@contextmanager
def _stored_artifact(model_id: int, file, expected_sha256: str | None):
    """Store `file` (if any), then run the block: the transaction that records it.

    If the block fails, or its commit does, the stored file is deleted again, so an
    artifact is either recorded with its version and audit event or not kept at all.
    The block must be the outermost transaction for a failed COMMIT to be seen here.
    """
    stored = _store_artifact(model_id, file, expected_sha256) if file is not None else {}
    try:
        yield stored
    except BaseException:
        if stored:
            artifact_storage().delete(stored["artifact"])
        raise


def _ancestor_ids(version_id: int) -> set[int]:
    """Every version `version_id` descends from, following parent links upwards."""
    seen: set[int] = set()
    frontier = {version_id}
    while frontier:
        parents = set(
            VersionParent.objects.filter(child_id__in=frontier).values_list("parent_id", flat=True)
        )
        frontier = parents - seen
        seen |= parents
    return seen


def _link_parents(
    version: ModelVersion, parents: Iterable[Parent], *, new: bool = False
) -> tuple[list[VersionParent], list[dict[str, Any]]]:
    """Link `version` to `parents`; returns the links and what the audit event records.
    `new`: the version was inserted in this transaction, so it has no links yet."""
    links, recorded = [], []
    if not parents:
        return links, recorded
    existing = set() if new else set(version.parent_links.values_list("parent_id", flat=True))
    for parent, relation in parents:
        clean_relation(relation)
        if parent.pk == version.pk:
            raise ValidationError({"parents": ["A version cannot be its own parent."]})
        if parent.pk in existing:
            raise Conflict(f"{parent} is already a parent of this version.")
        if version.pk in _ancestor_ids(parent.pk):
            raise ValidationError(
                {
                    "parents": [
                        f"{parent} already descends from this version; linking it as a "
                        "parent would make a lineage cycle."
                    ]
                }
            )
        existing.add(parent.pk)
        links.append(
            VersionParent(
                child=version,
                parent=parent,
                relation=relation,
                child_model_id=version.model_id,
                parent_model_id=parent.model_id,
            )
        )
        recorded.append(
            {"model": parent.model.name, "version": parent.number, "relation": relation}
        )
    VersionParent.objects.bulk_create(links)
    return links, recorded


def version_register(
    *,
    actor,
    model: RegisteredModel,
    label: str,
    framework: str,
    flavor: str = "",
    artifact=None,
    artifact_uri: str = "",
    expected_sha256: str | None = None,
    run_system: str = "",
    run_id: str = "",
    run_url: str = "",
    code_repository: str = "",
    code_commit: str = "",
    hyperparameters: Mapping[str, Any] | None = None,
    release_notes: str = "",
    metrics: Iterable[Mapping[str, Any]] = (),
    data_versions: Iterable[Mapping[str, Any]] = (),
    parents: Iterable[Parent] = (),
) -> ModelVersion:
    """Register the next version of `model`.

    Numbers are sequential per model and assigned under a row lock, so concurrent
    registrations never collide. The stage starts at `none`. The artifact (uploaded or
    a URI, not both) is hashed server-side; a client checksum that differs rejects the
    call. The card starts as a copy of the previous version's, every section marked
    inherited and not yet reviewed for this version.

    All or nothing: the file is stored and hashed first, then the version, its
    metrics, lineage, card and audit event are written in one transaction; any error
    (the commit's included) leaves no row and no stored file, and the number stays free.
    The returned version carries `snapshot`: the version as `version_get` would read it,
    built from what was written (no re-read), so that a caller can answer without the
    database once the version exists. (The version itself has no relations cached, so
    later reads of it are fresh.)
    """
    require_edit_model(actor, model)
    if artifact is not None and artifact_uri:
        raise ValidationError({"artifact": ["Upload a file or give an artifact URI, not both."]})
    if expected_sha256 and artifact is None:
        raise ValidationError(
            {"sha256": ["A checksum can only be checked against an uploaded file."]}
        )
    check_length("label", label, settings.VERSION_LABEL_MAX_CHARS, "A version label")
    check_markdown_sizes({"release_notes": release_notes})
    cleaned_metrics = clean_metrics(metrics)
    cleaned_data = clean_data_versions(data_versions)
    params = clean_params(hyperparameters or {})
    parents = list(parents)

    version = ModelVersion(
        model=model,
        number=0,
        label=(label or "").strip(),
        framework=framework,
        flavor=flavor,
        artifact_uri=artifact_uri.strip(),
        run_system=run_system,
        run_id=run_id,
        run_url=run_url,
        code_repository=code_repository,
        code_commit=(code_commit or "").strip(),
        hyperparameters=params,
        release_notes=release_notes,
        created_by=actor,
        stage=Stage.NONE,
    )
    version.full_clean(exclude=["model", "created_by", "artifact"], validate_constraints=False)
    if artifact is not None:
        # Checked before the upload is stored; the unique constraint decides under the
        # lock (and alone, without an upload: one statement less on the hot path).
        if ModelVersion.objects.filter(model=model, label=version.label).exists():
            raise Conflict(f"{model.name} already has a version labelled {version.label}.")

    with _stored_artifact(model.pk, artifact, expected_sha256) as stored:
        for field, value in stored.items():
            setattr(version, field, value)
        with transaction.atomic():
            version.snapshot = _register(
                actor, model, version, cleaned_metrics, cleaned_data, params, parents
            )
    return version


def _next_number(model: RegisteredModel, framework: str) -> tuple[int, int | None, tuple | None]:
    """Take the model's next version number. The UPDATE takes the model's row lock until
    commit, so the number is ours alone; RETURNING reads it back in the same statement
    (the ORM's update() cannot).

    On PostgreSQL the same statement reads the newest earlier version's card (for
    card_inherited), saving a round trip. That read sees the statement's snapshot,
    taken before the row lock was granted: if another registration of this model
    committed while this one waited, its version is not in the snapshot, the newest
    version read is not the one just before ours, and the card is left to be read
    again (None) in a statement of its own, which sees it. It also takes the new
    version's id from its sequence, so that the version's audit event can be written
    with it (_insert_with_event). Returns (number, id or None, the card or None)."""
    table = connection.ops.quote_name(RegisteredModel._meta.db_table)
    updated_at = RegisteredModel._meta.get_field("updated_at")
    params = [framework, updated_at.get_db_prep_value(timezone.now(), connection), model.pk]
    update = (
        f"UPDATE {table} SET last_version_number = last_version_number + 1, "
        "latest_framework = %s, updated_at = %s WHERE id = %s"
    )
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"{update} RETURNING last_version_number", params)
            return cursor.fetchone()[0], None, None
    with fixed_cursor() as cursor:  # prepared: parsing and planning it cost more than running it
        version_table = ModelVersion._meta.db_table
        cursor.execute(
            f"WITH n AS ({update} RETURNING id, last_version_number) "
            "SELECT n.last_version_number, "
            f"nextval(pg_get_serial_sequence('{version_table}', 'id')::regclass), p.* FROM n "
            f"LEFT JOIN LATERAL ({previous_card_sql('n.id')}) p ON true",
            params,
        )
        row = cursor.fetchone()
    number, pk, (card, card_number) = row[0], row[1], previous_card_from_row(row, 2)
    if card_number == number - 1 or (card_number is None and number == 1):
        return number, pk, (card, card_number)
    return number, pk, None  # a version committed meanwhile, or one without a card


def _insert_with_card(version: ModelVersion, card: ModelCard, metrics: list[Metric]) -> None:
    """SQLite: insert the new version, its card and its metrics. (PostgreSQL writes them
    with the version's audit event: _insert_with_event.)"""
    version.save()
    card.version = version
    card.save()
    for metric in metrics:
        metric.version = version
    Metric.objects.bulk_create(metrics)


def _insert_with_event(
    version: ModelVersion, card: ModelCard, metrics: list[Metric], event: dict
) -> None:
    """PostgreSQL: insert the new version (its id taken already, see _next_number), its
    card, its metrics and its audit event (`event`'s fields) in one statement, written
    as fixed SQL. Each statement on this path costs more in round trip and scheduling
    than PostgreSQL's work for it, so they all ride in one. The event's statement locks
    the audit chain's head until commit, as event_record's would; it is the last."""
    params = [version.pk, *insert_params(version, insert_fields(ModelVersion))]
    params.append(json_record(card, insert_fields(ModelCard, ("version_id",))))
    fields = insert_fields(Metric, ("version_id",))
    rows = [insert_params(metric, fields) for metric in metrics]
    params += [[row[i] for row in rows] for i in range(len(fields))]  # one array per column
    event_sql, event_params = event_append_sql(event)
    # Prepared, and short enough in parameters (the card's are one) for psycopg to keep
    # its parsed form: parsing and planning it cost more than running it.
    with fixed_cursor() as cursor:
        writes, select = _insert_with_event_sql()
        cursor.execute(f"{writes}, {event_sql} {select}", params + event_params)
        version_id, card_id, metric_ids, names, datasets, *event_row = cursor.fetchone()
    mark_saved(version, version_id)
    card.version = version
    mark_saved(card, card_id)
    # (name, dataset) is unique per version, so it names each returned row.
    ids = dict(zip(zip(names or [], datasets or [], strict=True), metric_ids or [], strict=True))
    for metric in metrics:
        metric.version = version
        mark_saved(metric, ids[metric.name, metric.dataset])
    event_appended(event, event_row)


@cache
def _insert_with_event_sql() -> tuple[str, str]:
    version_fields = insert_fields(ModelVersion)
    card_fields = insert_fields(ModelCard, ("version_id",))
    metric_fields = insert_fields(Metric, ("version_id",))
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in metric_fields)
    given = ", ".join(f"given.{connection.ops.quote_name(f.column)}" for f in metric_fields)
    card_columns = ", ".join(f"r.{connection.ops.quote_name(f.column)}" for f in card_fields)
    # The audit event's CTEs (event_append_sql) go between the two parts, their
    # parameters last.
    writes = (
        f"WITH v AS (INSERT INTO {ModelVersion._meta.db_table} "
        f"(id, {column_list(version_fields)}) VALUES (%s, {placeholders(version_fields)}) "
        f"RETURNING id), c AS (INSERT INTO {ModelCard._meta.db_table} "
        f"(version_id, {column_list(card_fields)}) "
        f"SELECT v.id, {card_columns} FROM v, "
        f"jsonb_populate_record(NULL::{ModelCard._meta.db_table}, %s::jsonb) r RETURNING id), "
        f"given AS (SELECT * FROM unnest({arrays}) AS g({column_list(metric_fields)})), "
        f"m AS (INSERT INTO {Metric._meta.db_table} (version_id, {column_list(metric_fields)}) "
        f"SELECT v.id, {given} FROM v, given RETURNING id, name, dataset)"
    )
    select = (
        "SELECT v.id, c.id, k.*, audit_event.* FROM v, c, audit_event, "
        "(SELECT array_agg(id), array_agg(name), array_agg(dataset) FROM m) k"
    )
    return writes, select


@contextmanager
def _label_clash(model: RegisteredModel, version: ModelVersion):
    """The version's INSERT, whose label another version of the model may hold already:
    that clash fails the whole registration as a Conflict. (No savepoint: the
    registration's own atomic block, a savepoint when the caller has a transaction,
    rolls back.)"""
    try:
        with transaction.atomic(savepoint=False):
            yield
    except IntegrityError:
        raise Conflict(f"{model.name} already has a version labelled {version.label}.") from None


def _register(
    actor, model, version, cleaned_metrics, cleaned_data, params, parents
) -> ModelVersion:
    """Write the version and everything registered with it, and its audit event; return
    the snapshot (see `version_register`)."""
    # The predecessor's card is read after the number is taken (see _next_number), and
    # written with the version.
    version.number, version.pk, previous = _next_number(model, version.framework)
    card = card_inherited(version=version, previous=previous)
    metrics = [Metric(**m) for m in cleaned_metrics]
    # On PostgreSQL the version's id is known already: its data versions and lineage
    # links go first (foreign keys are checked at commit), so that the version, its
    # card, metrics and audit event can be written by one last statement.
    inserted_first = version.pk is None
    if inserted_first:
        with _label_clash(model, version):
            _insert_with_card(version, card, metrics)
    data_versions = DataVersion.objects.bulk_create(
        DataVersion(version=version, **d) for d in cleaned_data
    )
    links, lineage = _link_parents(version, parents, new=True)
    # The catalog's search document is not rebuilt: it is made of the model's own fields,
    # its tags and its newest card's text, and the new card is a copy of the newest card
    # (card_inherited), so the document is the same. The framework facet reads
    # latest_framework, set with the number.
    changes = {
        "label": version.label,
        "framework": version.framework,
        "artifact": version.artifact_filename or version.artifact_uri,
        "artifact_sha256": version.artifact_sha256,
        "artifact_size": version.artifact_size,
        "code_commit": version.code_commit,
        "run_id": version.run_id,
        "metrics": {f"{m['name']}@{m['dataset']}": m["value"] for m in cleaned_metrics},
        "hyperparameters": params,
        "data_versions": [d["dataset"] for d in cleaned_data],
        "parents": lineage,
    }
    if inserted_first:
        log_event(version, Action.VERSION_REGISTERED, actor=actor, changes=changes)
    else:
        event = event_fields_of(version, Action.VERSION_REGISTERED, actor=actor, changes=changes)
        with _label_clash(model, version):
            _insert_with_event(version, card, metrics, event)
    return version_snapshot(
        version, model=model, card=card, metrics=metrics, data_versions=data_versions, links=links
    )


def artifact_attach(
    *, actor, version: ModelVersion, artifact=None, artifact_uri: str = "", expected_sha256=None
) -> ModelVersion:
    """Give a version registered without an artifact its artifact. Artifacts never change.

    As for registration, the file is stored and hashed before the one transaction that
    records it with its audit event; a failure anywhere leaves neither. The returned
    version carries `snapshot`, read before the commit (see `version_register`).
    """
    require_edit_model(actor, version.model)
    if (artifact is None) == (not artifact_uri):
        raise ValidationError(
            {"artifact": ["Upload a file or give an artifact URI (exactly one)."]}
        )
    _refuse_second_artifact(version)  # before storing a file that would be refused
    with _stored_artifact(version.model_id, artifact, expected_sha256) as stored:
        with transaction.atomic():
            version = (
                ModelVersion.objects.select_for_update().select_related("model").get(pk=version.pk)
            )
            require_edit_model(actor, version.model)
            _refuse_second_artifact(version)
            if stored:
                for field, value in stored.items():
                    setattr(version, field, value)
            else:
                version.artifact_uri = artifact_uri.strip()
                version.full_clean(
                    exclude=["model", "created_by", "artifact"], validate_constraints=False
                )
            version.save(
                update_fields=[
                    "artifact",
                    "artifact_uri",
                    "artifact_filename",
                    "artifact_sha256",
                    "artifact_size",
                ]
            )
            log_event(
                version,
                Action.ARTIFACT_UPLOADED,
                actor=actor,
                changes={
                    "artifact": version.artifact_filename or version.artifact_uri,
                    "artifact_sha256": version.artifact_sha256,
                    "artifact_size": version.artifact_size,
                },
            )
            version.snapshot = version_get(version.model, version.number)
    return version


def _refuse_second_artifact(version: ModelVersion) -> None:
    if version.has_artifact:
        raise Conflict(
            f"Version {version.number} already has an artifact; register a new version instead."
        )


def _locked(version: ModelVersion, actor) -> ModelVersion:
    version = ModelVersion.objects.select_for_update().select_related("model").get(pk=version.pk)
    require_edit_model(actor, version.model)
    return version


@transaction.atomic
def metrics_attach(
    *, actor, version: ModelVersion, metrics: Iterable[Mapping[str, Any]]
) -> list[Metric]:
    """Add evaluation metrics. A metric already recorded for the same dataset is a Conflict:
    evaluation results are history, not something to overwrite."""
    version = _locked(version, actor)
    cleaned = clean_metrics(metrics, recorded=version.metrics.count())
    if not cleaned:
        raise ValidationError({"metrics": ["Give at least one metric."]})
    existing = set(version.metrics.values_list("name", "dataset"))
    clashes = [
        f"{m['name']}@{m['dataset'] or '-'}"
        for m in cleaned
        if (m["name"], m["dataset"]) in existing
    ]
    if clashes:
        raise Conflict("Already recorded for this version: " + ", ".join(clashes) + ".")
    created = Metric.objects.bulk_create(Metric(version=version, **m) for m in cleaned)
    log_event(
        version,
        Action.METRICS_ATTACHED,
        actor=actor,
        changes={"metrics": {f"{m['name']}@{m['dataset']}": m["value"] for m in cleaned}},
    )
    return created


@transaction.atomic
def params_attach(
    *, actor, version: ModelVersion, hyperparameters: Mapping[str, Any]
) -> ModelVersion:
    """Add hyper-parameters; a name already recorded with another value is a Conflict."""
    version = _locked(version, actor)
    params = clean_params(hyperparameters, recorded=version.hyperparameters)
    if not params:
        raise ValidationError({"hyperparameters": ["Give at least one hyper-parameter."]})
    clashes = [
        k
        for k, v in params.items()
        if k in version.hyperparameters and version.hyperparameters[k] != v
    ]
    if clashes:
        raise Conflict(
            "Already recorded with a different value: " + ", ".join(sorted(clashes)) + "."
        )
    added = {k: v for k, v in params.items() if k not in version.hyperparameters}
    if not added:
        return version
    version.hyperparameters = {**version.hyperparameters, **added}
    version.save(update_fields=["hyperparameters"])
    log_event(version, Action.PARAMS_ATTACHED, actor=actor, changes={"hyperparameters": added})
    return version


@transaction.atomic
def lineage_attach(*, actor, version: ModelVersion, parents: Iterable[Parent]) -> ModelVersion:
    """Record that `version` was fine-tuned from / derived from other versions; no cycles."""
    version = _locked(version, actor)
    parents = list(parents)
    if not parents:
        raise ValidationError({"parents": ["Give at least one parent version."]})
    _, recorded = _link_parents(version, parents)
    log_event(version, Action.LINEAGE_ATTACHED, actor=actor, changes={"parents": recorded})
    return version


@transaction.atomic
def data_versions_attach(
    *, actor, version: ModelVersion, data_versions: Iterable[Mapping[str, Any]]
) -> list[DataVersion]:
    version = _locked(version, actor)
    cleaned = clean_data_versions(data_versions)
    if not cleaned:
        raise ValidationError({"data_versions": ["Give at least one data version."]})
    created = DataVersion.objects.bulk_create(DataVersion(version=version, **d) for d in cleaned)
    log_event(
        version,
        Action.DATA_VERSIONS_ATTACHED,
        actor=actor,
        changes={"data_versions": cleaned},
    )
    return created


@transaction.atomic
def version_update(*, actor, version: ModelVersion, release_notes: str) -> ModelVersion:
    """Edit the free-text release notes; everything else about a version is immutable."""
    check_markdown_sizes({"release_notes": release_notes})
    version = _locked(version, actor)
    if version.release_notes == release_notes:
        return version
    old = version.release_notes
    version.release_notes = release_notes
    version.save(update_fields=["release_notes"])
    log_event(
        version,
        Action.VERSION_UPDATED,
        actor=actor,
        changes={"release_notes": [old, release_notes]},
    )
    return version


def parse_parent_ref(ref: Mapping[str, Any]) -> Parent:
    """Resolve {"model": name, "version": number, "relation": ...} to a version."""
    try:
        parent = ModelVersion.objects.select_related("model").get(
            model__name__lower=str(ref.get("model", "")).lower(), number=int(ref.get("version"))
        )
    except (ModelVersion.DoesNotExist, TypeError, ValueError):
        raise ValidationError(
            {"parents": [f"No registered version {ref.get('model')!r} v{ref.get('version')}."]}
        ) from None
    return parent, clean_relation(str(ref.get("relation", "")))
