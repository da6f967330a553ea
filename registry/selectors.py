"""Reads shared by the dashboard and the API, with their query shapes decided once.

Query counts here are fixed: a model page and a version page issue the same number of
queries whatever the number of versions or metrics. The catalog search is not a plain
read: it lives in `registry.search`.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Case, Exists, OuterRef, Prefetch, QuerySet, Subquery, When
from django.http import Http404
from django.utils.dateparse import parse_datetime

from .choices import CARD_SECTION_NAMES, CARD_SECTIONS, SectionStatus
from .deployments.models import DeploymentTarget, Environment, Serving, ServingState
from .models import Metric, ModelCard, ModelVersion, RegisteredModel, Team, VersionParent
from .names import name_key
from .search import HEAVY_MODEL_FIELDS
from .stages import Stage


def model_named_like(name: str, *, exclude_pk: int | None = None) -> RegisteredModel | None:
    """The model whose name `name` near-duplicates (registry.names), if any."""
    key = name_key(name)
    if not key:
        return None
    rows = RegisteredModel.objects.filter(name_key=key)
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    return rows.only("pk", "name").first()


def model_get(name: str) -> RegisteredModel:
    """A model by name (any case) with its team and owner, or Http404."""
    # Pages show model.tag_list (kept in step with the tags by the services), so the
    # tags table is not read here.
    model = (
        RegisteredModel.objects.select_related("team", "owner")
        .defer(*HEAVY_MODEL_FIELDS)
        .filter(name__lower=name.lower())
        .first()
    )
    if model is None:
        raise Http404(f"No model named {name!r}.")
    return model


def model_versions(model: RegisteredModel) -> QuerySet:
    """The model's versions, newest first, with what the versions table shows."""
    return (
        ModelVersion.objects.filter(model=model)
        .select_related("created_by", "card")
        .order_by("-number")
    )


def model_metric_series(
    model: RegisteredModel, *, last_versions: int = 200, max_series: int = 24
) -> tuple[dict[str, list[dict[str, Any]]], int]:
    """For the charts, over the newest `last_versions` versions (bounded so a model with
    10,000 versions stays fast): {"metric (dataset)": [{"version", "label", "value",
    "higher_is_better"}, ...]} in version order, and how many metrics the newest version
    with metrics has.

    The series are the first `max_series` metrics (by name and dataset) of the newest
    version that has any, so the page's work does not grow with a version's metrics.
    """
    in_range = Metric.objects.filter(
        version__model=model, version__number__gt=model.last_version_number - last_versions
    )
    newest = in_range.order_by("-version__number").values("version_id")[:1]
    first = Metric.objects.filter(version_id=Subquery(newest)).order_by("name", "dataset")
    charted = first.values("pk")[:max_series]
    rows = (
        # The names let the (version, name, dataset) index find the rows; the pairs decide.
        in_range.filter(
            Exists(
                Metric.objects.filter(
                    pk__in=charted, name=OuterRef("name"), dataset=OuterRef("dataset")
                )
            ),
            name__in=first.values("name")[:max_series],
        )
        .order_by("name", "dataset", "version__number")
        .values("name", "dataset", "value", "higher_is_better", "version__number", "version__label")
    )
    series: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        key = f"{r['name']} ({r['dataset']})" if r["dataset"] else r["name"]
        series.setdefault(key, []).append(
            {
                "version": r["version__number"],
                "label": r["version__label"],
                "value": r["value"],
                "higher_is_better": r["higher_is_better"],
            }
        )
    # Every charted metric is one of the newest version's: only a full set may hide more.
    available = len(series)
    if available == max_series:
        available = Metric.objects.filter(version_id=Subquery(newest)).count()
    return series, available


def model_lineage(model: RegisteredModel, *, limit: int = 100) -> list[VersionParent]:
    """The `limit` newest lineage edges touching the model's versions, inside the model
    and across models."""
    # One index range scan per side (links store both models); an OR across joins to
    # the versions made PostgreSQL walk all 283k links of the bench catalog (~1 s).
    sides = [
        VersionParent.objects.filter(**{side: model}).values("pk")
        for side in ("child_model", "parent_model")
    ]
    if connection.features.supports_slicing_ordering_in_compound:  # not SQLite
        sides = [side.order_by("-pk")[:limit] for side in sides]
    newest = sides[0].union(sides[1])
    return list(
        VersionParent.objects.filter(pk__in=newest)
        .select_related("child__model", "parent__model")
        .only(  # what the lineage list shows; a version row is wide
            "relation",
            *(f"{side}__{f}" for side in ("child", "parent") for f in ("number", "model__name")),
        )
        .order_by("-pk")[:limit]
    )


def version_get(model: RegisteredModel, number: int) -> ModelVersion:
    """A version with everything its page shows, in a fixed number of queries."""
    version = (
        # The model (with its team) comes from the caller, so it is not joined again.
        ModelVersion.objects.select_related("created_by", "card__updated_by")
        .prefetch_related(
            # Bounded even for a version recorded before the limit existed. (A sliced
            # Prefetch queryset cannot fill `version.metrics`; a sliced subquery can.)
            Prefetch(
                "metrics",
                queryset=Metric.objects.filter(
                    pk__in=Metric.objects.filter(version__model=model, version__number=number)
                    .order_by("name", "dataset")
                    .values("pk")[: settings.METRICS_MAX_PER_VERSION]
                ),
            ),
            "data_versions",
            Prefetch(
                "parent_links",
                queryset=VersionParent.objects.select_related("parent__model")
                .defer(*(f"parent__model__{f}" for f in HEAVY_MODEL_FIELDS))
                .order_by("parent_id"),
            ),
            Prefetch(
                "child_links",
                queryset=VersionParent.objects.select_related("child__model")
                .defer(*(f"child__model__{f}" for f in HEAVY_MODEL_FIELDS))
                .order_by("child_id"),
            ),
        )
        .filter(model=model, number=number)
        .first()
    )
    if version is None:
        raise Http404(f"{model.name} has no version {number}.")
    version.model = model
    return version


def card_for(version: ModelVersion) -> ModelCard:
    try:
        return version.card
    except ModelCard.DoesNotExist:  # only for rows made outside the services
        return ModelCard(version=version)


@dataclass(frozen=True)
class CardSection:
    """One card section as pages and the API show it: text and provenance, people by
    username (None when nobody is recorded; "" for an account deleted since)."""

    name: str
    title: str
    text: str
    status: str  # SectionStatus
    counts: bool
    edited_for: int | None
    edited_by: str | None
    edited_at: datetime | None
    inherited_from: int | None
    confirmed_by: str | None
    confirmed_at: datetime | None

    @property
    def is_inherited(self) -> bool:
        return self.status == SectionStatus.INHERITED


def card_sections(card: ModelCard) -> list[CardSection]:
    """Every section of the card in display order, with its provenance (one query for
    the people named)."""
    states = {name: card.section_state(name) for name in CARD_SECTION_NAMES}
    ids = {s[k] for s in states.values() for k in ("edited_by", "confirmed_by") if s[k]}
    User = get_user_model()
    names = dict(
        User.objects.filter(pk__in=ids).values_list("pk", User.USERNAME_FIELD) if ids else ()
    )

    def person(user_id) -> str | None:
        return None if user_id is None else names.get(user_id, "")

    return [
        CardSection(
            name=name,
            title=title,
            text=getattr(card, name),
            status=states[name]["status"],
            counts=card.section_counts(name),
            edited_for=states[name]["edited_for"],
            edited_by=person(states[name]["edited_by"]),
            edited_at=_when(states[name]["edited_at"]),
            inherited_from=states[name]["inherited_from"],
            confirmed_by=person(states[name]["confirmed_by"]),
            confirmed_at=_when(states[name]["confirmed_at"]),
        )
        for name, title in CARD_SECTIONS
    ]


def _when(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None


def teams_for_user(user) -> QuerySet:
    if user.is_superuser:
        return Team.objects.all()
    return Team.objects.filter(memberships__user=user)


# --- What the deployment targets serve (issue 10 point 5) --------------------------------

SERVING_LIMIT = 20


@dataclass(frozen=True)
class ServingRow:
    target: str
    environment: str
    target_active: bool
    version_number: int
    version_label: str
    state: str
    endpoint_url: str
    reported_at: datetime
    drift: bool


@dataclass(frozen=True)
class ModelServing:
    """The targets' latest reports about a model, production targets first, at most
    `limit` of them (`more`: there are others), and which production targets serve
    another version than the model's Production version (`drift`)."""

    rows: list[ServingRow]
    more: bool
    production_number: int | None

    @property
    def drift(self) -> list[ServingRow]:
        return [row for row in self.rows if row.drift]


def model_serving(model: RegisteredModel, *, limit: int = SERVING_LIMIT) -> ModelServing:
    """One query, whatever the number of targets or reports."""
    production = ModelVersion.objects.filter(model=model, stage=Stage.PRODUCTION).values("number")
    rows = list(
        Serving.objects.filter(model=model)
        .select_related("target", "version")
        .only(
            "state",
            "endpoint_url",
            "reported_at",
            "target__name",
            "target__environment",
            "target__active",
            "version__number",
            "version__label",
        )
        .annotate(
            production_number=Subquery(production[:1]),
            production_first=Case(
                When(target__environment=Environment.PRODUCTION, then=0), default=1
            ),
        )
        .order_by("production_first", "target__name")[: limit + 1]
    )
    production_number = rows[0].production_number if rows else None
    return ModelServing(
        rows=[
            ServingRow(
                target=row.target.name,
                environment=row.target.environment,
                target_active=row.target.active,
                version_number=row.version.number,
                version_label=row.version.label,
                state=row.state,
                endpoint_url=row.endpoint_url,
                reported_at=row.reported_at,
                drift=(
                    row.target.environment == Environment.PRODUCTION
                    and row.state == ServingState.SERVING
                    and row.version.number != row.production_number
                ),
            )
            for row in rows[:limit]
        ],
        more=len(rows) > limit,
        production_number=production_number,
    )


def target_get(ref: str) -> DeploymentTarget:
    """A deployment target by name (any case) or, failing that, by id; or Http404."""
    target = DeploymentTarget.objects.filter(name__iexact=ref).first()
    if target is None and ref.isascii() and ref.isdigit() and len(ref) < 10:
        target = DeploymentTarget.objects.filter(pk=int(ref)).first()
    if target is None:
        raise Http404(f"No deployment target named {ref!r} (or with that id).")
    return target
