"""A model version's lifecycle stage: the one owner of what stages exist, how they are
named, which moves between them are allowed, and the one function that moves a version.

The state machine (TRANSITIONS):

    none       -> staging, archived, and production where the production policy allows
                  skipping staging (approvals.models.Policy.allow_skip_staging)
    staging    -> production, archived
    production -> archived   (also when another version reaches production)
    archived   -> staging    (brought back for another look)

and, outside a request, the emergency rollback puts the previous production version
(archived) back into production (approvals.services.rollback_emergency).

Only `approvals` calls `stage_set`, when it applies an approved transition request or an
emergency rollback (DESIGN invariant 2). On PostgreSQL a trigger (migration 0010)
refuses any change of `registry_modelversion.stage` in a transaction that did not first
record the change in `StageChange`, which only `stage_set` writes, so even a raw SQL
UPDATE fails.
"""

from django.db import connection, models
from django.db.models import F


class Stage(models.TextChoices):
    # "None" reads like a missing value on a badge; say what it means instead.
    NONE = "none", "Not staged"
    STAGING = "staging", "Staging"
    PRODUCTION = "production", "Production"
    ARCHIVED = "archived", "Archived"


STAGE_LABELS: dict[str, str] = dict(Stage.choices)

# Stages a transition request may ask for (a version never goes back to "none").
TARGET_STAGES = (Stage.STAGING, Stage.PRODUCTION, Stage.ARCHIVED)

# The moves a transition request may make. none -> production is allowed only where the
# applicable production policy says so (approvals.policies); archived -> production
# only as an emergency rollback.
TRANSITIONS: dict[str, frozenset[str]] = {
    Stage.NONE: frozenset({Stage.STAGING, Stage.PRODUCTION, Stage.ARCHIVED}),
    Stage.STAGING: frozenset({Stage.PRODUCTION, Stage.ARCHIVED}),
    Stage.PRODUCTION: frozenset({Stage.ARCHIVED}),
    Stage.ARCHIVED: frozenset({Stage.STAGING}),
}
SKIPS_STAGING = (Stage.NONE, Stage.PRODUCTION)

# The model's denormalised current stage is the most advanced stage among its versions.
_RANK = {Stage.PRODUCTION: 3, Stage.STAGING: 2, Stage.ARCHIVED: 1, Stage.NONE: 0}


class StageChangeKind(models.TextChoices):
    APPLIED = "applied", "Applied transition"
    SUPERSEDED = "superseded", "Archived when another version reached production"
    ROLLBACK = "rollback", "Emergency rollback"
    ROLLED_BACK = "rolled_back", "Archived by an emergency rollback"


class TransitionNotAllowed(Exception):
    """A move the state machine does not allow; the message says which moves are."""


def transition_problem(from_stage: str, to_stage: str, *, allow_skip_staging: bool) -> str:
    """Why `from_stage -> to_stage` is not allowed, or "" when it is."""
    if from_stage == to_stage:
        return f"The version is already in {STAGE_LABELS[to_stage]}."
    if to_stage not in TRANSITIONS.get(from_stage, ()):
        allowed = sorted(TRANSITIONS.get(from_stage, ()), key=lambda s: -_RANK[s])
        names = ", ".join(STAGE_LABELS[s] for s in allowed) or "nothing"
        return (
            f"A version in {STAGE_LABELS[from_stage]} cannot move to "
            f"{STAGE_LABELS[to_stage]}; it can move to: {names}."
        )
    if (from_stage, to_stage) == SKIPS_STAGING and not allow_skip_staging:
        return (
            "This version has not been in Staging, and the production policy that applies "
            "does not allow skipping it: request Staging first."
        )
    return ""


def current_stage_of(stages: list[str]) -> str:
    """The stage a model shows in the catalog, given its versions' stages."""
    return max(stages, key=lambda s: _RANK[s], default=Stage.NONE)


def _transaction_id() -> int:
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT txid_current()")
        return cursor.fetchone()[0]


def stage_set(*, version, to_stage: str, kind: str, request_id: int | None = None):
    """Move `version` to `to_stage` and bring its model's `current_stage` up to date.

    Called only by approvals, inside the transaction that applies a transition and
    writes its audit event, with the model row locked. Records the change in
    `StageChange` first: the PostgreSQL trigger checks that record. Returns it.
    """
    from .models import ModelVersion, RegisteredModel, StageChange

    if not connection.in_atomic_block:
        raise RuntimeError("stage_set runs inside the transaction that applies the change")
    change = StageChange.objects.create(
        version=version,
        model_id=version.model_id,
        from_stage=version.stage,
        to_stage=to_stage,
        kind=kind,
        request_id=request_id,
        txid=_transaction_id(),
    )
    ModelVersion.objects.filter(pk=version.pk).update(stage=to_stage)
    version.stage = to_stage
    stages = list(
        ModelVersion.objects.filter(model_id=version.model_id)
        .exclude(stage=Stage.NONE)
        .values_list("stage", flat=True)
        .distinct()
    )
    current = current_stage_of(stages)
    RegisteredModel.objects.filter(pk=version.model_id).exclude(current_stage=current).update(
        current_stage=current, updated_at=F("updated_at")
    )
    return change
