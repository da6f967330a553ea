"""Approval policies, transition requests and reviews.

Rows change only through approvals.services. A published policy is never edited: a
change publishes the next number and marks the previous one superseded, and every
request and review records the policy version it was judged under.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from registry.choices import RiskTier
from registry.models import ModelVersion, RegisteredModel, Team
from registry.stages import Stage

TARGET_STAGE_CHOICES = [
    (s.value, s.label) for s in (Stage.STAGING, Stage.PRODUCTION, Stage.ARCHIVED)
]


class PolicyScope(models.TextChoices):
    ORGANISATION = "org", "Organisation default"
    TEAM = "team", "Team override"
    MODEL = "model", "Model override"


class Comparator(models.TextChoices):
    GTE = ">=", "at least"
    GT = ">", "more than"
    LTE = "<=", "at most"
    LT = "<", "less than"


class Policy(models.Model):
    """One published version of the rules a version must meet to enter `stage`.

    Organisation defaults exist per stage and risk tier; a team may override them for
    its models of one tier, and a model may have its own (whatever its tier). The most
    specific current policy applies (approvals.policies.policy_for).
    """

    scope = models.CharField(max_length=10, choices=PolicyScope.choices)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    model = models.ForeignKey(
        RegisteredModel, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    stage = models.CharField(max_length=20, choices=TARGET_STAGE_CHOICES)
    # Blank for a model's own policy, which applies whatever the model's tier.
    risk_tier = models.CharField(max_length=10, choices=RiskTier.choices, blank=True)
    number = models.PositiveIntegerField()

    required_approvals = models.PositiveSmallIntegerField()
    # Neither the requester nor the version's author may approve.
    separation_of_duties = models.BooleanField()
    required_sections = models.JSONField(default=list, blank=True)
    # [{"metric": "auc", "dataset": "holdout", "comparator": ">=", "value": 0.9}]
    thresholds = models.JSONField(default=list, blank=True)
    # [{"metric": "auc", "dataset": "holdout", "max_drop": 0.01}]: how far a metric may fall
    # below the current production version's (rising, for a lower-is-better metric).
    max_regression = models.JSONField(default=list, blank=True)
    require_lineage = models.BooleanField(default=False)
    require_metadata = models.BooleanField(default=False)
    # Production only: whether a version may go there without having been in Staging.
    allow_skip_staging = models.BooleanField(default=False)

    reason = models.TextField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(auto_now_add=True)
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["stage", "scope", "risk_tier", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["stage", "risk_tier"],
                condition=Q(scope="org", superseded_at__isnull=True),
                name="one_current_org_policy",
            ),
            models.UniqueConstraint(
                fields=["team", "stage", "risk_tier"],
                condition=Q(scope="team", superseded_at__isnull=True),
                name="one_current_team_policy",
            ),
            models.UniqueConstraint(
                fields=["model", "stage"],
                condition=Q(scope="model", superseded_at__isnull=True),
                name="one_current_model_policy",
            ),
            models.CheckConstraint(
                condition=Q(scope="org", team__isnull=True, model__isnull=True)
                | Q(scope="team", team__isnull=False, model__isnull=True)
                | Q(scope="model", team__isnull=True, model__isnull=False),
                name="policy_scope_matches_target",
            ),
        ]
        permissions = [
            ("publish_policy", "Can publish approval policies"),
            ("assign_approvers", "Can name the approvers of any model"),
            ("rollback_emergency", "Can put the previous production version back (break glass)"),
        ]

    def __str__(self) -> str:
        return f"{self.where} policy for {self.get_stage_display()} (v{self.number})"

    @property
    def where(self) -> str:
        if self.scope == PolicyScope.MODEL:
            return f"Model {self.model.name}"
        tier = self.get_risk_tier_display()
        if self.scope == PolicyScope.TEAM:
            return f"Team {self.team.name}, {tier} risk"
        return f"Organisation, {tier} risk"


class RequestState(models.TextChoices):
    OPEN = "open", "Waiting for approvals"
    # The approvals are in but a gate fails (or production changed since): it applies
    # once the gates pass again and someone asks it to.
    BLOCKED = "blocked", "Approved, blocked"
    APPLIED = "applied", "Applied"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"


PENDING_STATES = (RequestState.OPEN, RequestState.BLOCKED)
CLOSED_STATES = (RequestState.APPLIED, RequestState.REJECTED, RequestState.WITHDRAWN)


class RequestKind(models.TextChoices):
    PROMOTION = "promotion", "Stage change"
    # Opened by an emergency rollback: named approvers confirm it after the fact.
    ROLLBACK_REVIEW = "rollback_review", "Review of an emergency rollback"
    # Pointing a protected alias (registry.services.aliases) at the version: judged by
    # the model's Production policy (its approvers and gates); changes no stage.
    ALIAS = "alias", "Protected alias change"


class TransitionRequest(models.Model):
    model = models.ForeignKey(RegisteredModel, on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(
        max_length=20, choices=RequestKind.choices, default=RequestKind.PROMOTION
    )
    from_stage = models.CharField(max_length=20, choices=Stage.choices)
    # An alias request's is Production: whose policy, approvers and inbox it goes to.
    to_stage = models.CharField(max_length=20, choices=TARGET_STAGE_CHOICES)
    # The alias an ALIAS request points at the version, as the requester spelt it;
    # blank for every other kind.
    alias = models.CharField(max_length=64, blank=True)
    reason = models.TextField()
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(max_length=20, choices=RequestState.choices, default=RequestState.OPEN)
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="+")
    # The production version the request was filed against (what it would replace).
    baseline = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The latest evaluation: [{"check", "required", "actual", "passed"}], and its time.
    gate_results = models.JSONField(default=list)
    gates_passed = models.BooleanField(default=False)
    gates_checked_at = models.DateTimeField(null=True, blank=True)
    # Why an approved request has not been applied (state BLOCKED).
    blocked_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    close_comment = models.TextField(blank=True)
    # The audit event that closed it (applied, rejected, withdrawn): its chain hash.
    event_hash = models.CharField(max_length=64, blank=True)
    # A rollback review's emergency rollback event (the stage change itself, made before
    # the review): its chain hash, which the transitions export gives for the rollback.
    rollback_event_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "to_stage", "model"]),
            models.Index(fields=["model", "-created_at"]),
            models.Index(fields=["version", "-created_at"]),
            models.Index(fields=["requester", "state"]),
            # "Your requests" on the inbox, newest first, a page at a time, also for a
            # pipeline's account that filed a hundred thousand.
            models.Index(fields=["requester", "-id"], name="approvals_request_mine_idx"),
        ]
        constraints = [
            # One pending request per version and target stage: a second is a conflict.
            # Alias requests change no stage and have their own rule.
            models.UniqueConstraint(
                fields=["version", "to_stage"],
                condition=Q(state__in=["open", "blocked"]) & ~Q(kind="alias"),
                name="one_pending_request_per_version_stage",
            ),
            # One pending request per model and alias (any case).
            models.UniqueConstraint(
                "model",
                Lower("alias"),
                condition=Q(state__in=["open", "blocked"], kind="alias"),
                name="one_pending_request_per_model_alias",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == RequestKind.ALIAS:
            return f"Request #{self.pk}: {self.model.name}@{self.alias} to v{self.version.number}"
        return f"Request #{self.pk}: {self.model.name} v{self.version.number} to {self.to_stage}"

    @property
    def is_alias(self) -> bool:
        return self.kind == RequestKind.ALIAS

    @property
    def is_pending(self) -> bool:
        return self.state in PENDING_STATES


class Decision(models.TextChoices):
    APPROVE = "approve", "Approved"
    REJECT = "reject", "Rejected"


class Review(models.Model):
    """One approver's decision on a request, bound to what they saw: `digests` of the
    artifact, card, metrics, metadata, policy version and production baseline. An
    approval whose digests no longer match the version counts no more."""

    request = models.ForeignKey(TransitionRequest, on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(max_length=10, choices=Decision.choices)
    comment = models.TextField(blank=True)
    digests = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    # When an approval was seen to no longer match the version (its digests), so the
    # request waits in the reviewer's inbox again: a cache of what approvals.status
    # computes, kept by approvals.services.staleness. Null while it counts.
    stale_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        # A reviewer whose approval went stale approves again: a new row. Only their
        # latest review counts (approvals.reviews).
        indexes = [models.Index(fields=["request", "reviewer", "-created_at"])]


class Outcome(models.TextChoices):
    """What a row of the transitions export records."""

    APPLIED = "applied", "Applied"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"
    ROLLED_BACK = "rolled_back", "Rolled back (emergency)"


class TransitionExportRow(models.Model):
    """One row of the transitions export (approvals.export), finished: its CSV line and
    its JSON Lines line, written by the service that closes the request (or, for an
    emergency rollback, by every service that changes its follow-up review), in the same
    transaction. The export copies these lines out instead of building a million rows
    again on every export. The other columns are what the export filters on.

    PostgreSQL only: the lines are built by the database's own expressions, and the
    SQLite export formats its rows in Python as before (approvals.export)."""

    request = models.OneToOneField(
        TransitionRequest, primary_key=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    # When it happened: closed, or (a rollback) when it was rolled back.
    at = models.DateTimeField()
    # The model and its team when the row was written, as its lines name them.
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+", db_index=False)
    model = models.ForeignKey(
        RegisteredModel, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    to_stage = models.CharField(max_length=20, choices=TARGET_STAGE_CHOICES)
    csv_line = models.TextField()
    json_line = models.TextField()

    class Meta:
        # Each ends in the request id, the export's order: a filter on the leading
        # columns reads its rows in that order and needs no sort.
        indexes = [
            models.Index(fields=["outcome", "to_stage", "request"], name="export_outcome_stage"),
            models.Index(fields=["team", "request"], name="export_team"),
            models.Index(fields=["model", "request"], name="export_model"),
            models.Index(fields=["at"], name="export_at"),
        ]

    def __str__(self) -> str:
        return f"Export row of request #{self.request_id}"
