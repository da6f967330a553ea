"""Deployment targets, their outbox rows and the log of every attempt.

Written only by registry.services.deployments and .deliveries. A Delivery is written in the same
transaction as the stage change it announces (DESIGN invariant 6) and is then sent, and
re-sent on the schedule in registry.deployments.schedule, until it is delivered, fails
for good, or is exhausted; `next_attempt_at` is both when it is due and, while a worker
is sending it, the end of that worker's lease.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Environment(models.TextChoices):
    STAGING = "staging", "Staging"
    PRODUCTION = "production", "Production"
    OTHER = "other", "Other"


class DeliveryEvent(models.TextChoices):
    PROMOTED_STAGING = "version.promoted.staging", "Version promoted to Staging"
    PROMOTED_PRODUCTION = "version.promoted.production", "Version promoted to Production"
    ARCHIVED = "version.archived", "Version archived"
    ROLLED_BACK = "version.rolled_back", "Production rolled back"
    TEST = "test", "Test event"


class TargetKind(models.TextChoices):
    WEBHOOK = "webhook", "Webhook"
    # A manifest committed and pushed to a Git repository (GitOps: Argo CD, Flux).
    GIT = "git", "Git repository"


class TargetScope(models.TextChoices):
    ALL = "all", "All models"
    TEAM = "team", "A team's models"
    MODELS = "models", "Chosen models"


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    # Refused by the receiver (4xx other than 429, 410 disables the target too) or not
    # sendable (address refused, target inactive): not tried again on its own.
    FAILED = "failed", "Failed"
    EXHAUSTED = "exhausted", "Exhausted"


class DeploymentTarget(models.Model):
    name = models.CharField(max_length=100, unique=True)
    # Fixed when the target is made: a webhook target has a URL and a secret, a Git
    # target a repository, branch and manifest path and no secret (constraint below).
    kind = models.CharField(max_length=10, choices=TargetKind.choices, default=TargetKind.WEBHOOK)
    environment = models.CharField(max_length=20, choices=Environment.choices)
    url = models.URLField(max_length=1000, blank=True)
    # Git targets (registry.deployments.gitops): an https, ssh or local repository
    # (local ones only under MODELGATE_GITOPS_LOCAL_DIR), and the manifest's path in it.
    repository = models.CharField(max_length=1000, blank=True)
    branch = models.CharField(max_length=200, blank=True)
    manifest_path = models.CharField(max_length=300, blank=True)
    # The signing secrets ("whsec_" + base64 of 32 random bytes). Shown once, when
    # created or rotated; never logged, shown on a page, or returned by the API.
    # Empty for Git targets: the worker's own Git credentials authenticate the push.
    secret = models.CharField(max_length=100, blank=True, editable=False)
    # During a rotation the previous secret signs too, until rotation_ends_at.
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    rotation_ends_at = models.DateTimeField(null=True, blank=True, editable=False)
    events = models.JSONField(default=list, help_text="DeliveryEvent values it subscribes to.")
    scope = models.CharField(max_length=10, choices=TargetScope.choices, default=TargetScope.ALL)
    team = models.ForeignKey(
        "registry.Team", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    chosen_models = models.ManyToManyField("registry.RegisteredModel", blank=True, related_name="+")
    active = models.BooleanField(default=True)
    # Why it was switched off, when the system did it (a 410 from the receiver).
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scope="team", team__isnull=False) | ~Q(scope="team"),
                name="deployment_target_team_scope_has_team",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="webhook", repository="", branch="", manifest_path="")
                    & ~Q(url="")
                    & ~Q(secret="")
                )
                | (
                    Q(kind="git", url="", secret="", previous_secret="")
                    & ~Q(repository="")
                    & ~Q(branch="")
                    & ~Q(manifest_path="")
                ),
                name="deployment_target_fields_of_its_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_git(self) -> bool:
        return self.kind == TargetKind.GIT


class Delivery(models.Model):
    """One event for one target: the outbox row."""

    target = models.ForeignKey(
        DeploymentTarget, on_delete=models.PROTECT, related_name="deliveries"
    )
    event = models.CharField(max_length=40, choices=DeliveryEvent.choices)
    # The Standard Webhooks `webhook-id`: the same on every attempt and redelivery, so a
    # receiver can drop duplicates.
    webhook_id = models.CharField(max_length=40, unique=True)
    # The exact JSON body, frozen when the event happened: every attempt signs and sends
    # the same bytes.
    body = models.TextField()
    # What it is about, for the pages that list a model's or a version's deliveries.
    model = models.ForeignKey(
        "registry.RegisteredModel",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    request_id = models.BigIntegerField(null=True, blank=True)  # approvals' TransitionRequest
    state = models.CharField(
        max_length=20, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    # Attempts in the current round, counted against WEBHOOK_MAX_ATTEMPTS; a redelivery
    # (same webhook_id) starts a new round at 0. The attempt log numbers every attempt.
    attempts = models.PositiveIntegerField(default=0)
    # Pending: when it is due, or the end of the lease of the worker sending it now.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The claim and the sweep read only pending rows, oldest due first (as
            # healthchecks' Flip has its partial index on unprocessed rows).
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state="pending"),
                name="delivery_due",
            ),
            models.Index(fields=["target", "-created_at"], name="delivery_target_recent"),
            models.Index(fields=["version", "-created_at"], name="delivery_version_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.target_id} ({self.webhook_id})"


class DeliveryAttempt(models.Model):
    """One attempt of a delivery, whatever its outcome: an HTTP POST (status code and
    response body) or a Git push (no status code; what was pushed in response_body)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()  # 1, 2, ... over every round of the delivery
    started_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)  # the first RESPONSE_BODY_MAX_BYTES
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["delivery", "number", "id"]
        indexes = [models.Index(fields=["delivery", "number"], name="attempt_delivery_number")]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}"


# --- What the targets report back (issue 10 point 5) ------------------------------------


class ServingState(models.TextChoices):
    DEPLOYING = "deploying", "Deploying"
    SERVING = "serving", "Serving"
    FAILED = "failed", "Failed"
    RETIRED = "retired", "Retired"


class DeploymentReport(models.Model):
    """One report from a deployment system: the state of a version on a target. Every
    report is kept (the history); the latest per target and model is also in Serving."""

    target = models.ForeignKey(DeploymentTarget, on_delete=models.PROTECT, related_name="reports")
    model = models.ForeignKey(
        "registry.RegisteredModel", on_delete=models.PROTECT, related_name="+"
    )
    version = models.ForeignKey("registry.ModelVersion", on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=20, choices=ServingState.choices)
    endpoint_url = models.URLField(max_length=500, blank=True)
    message = models.CharField(max_length=500, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField()

    class Meta:
        ordering = ["-reported_at", "-id"]
        indexes = [
            models.Index(fields=["target", "-reported_at"], name="report_target_recent"),
            models.Index(fields=["model", "-reported_at"], name="report_model_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.target_id}: version {self.version_id} {self.state}"


class Serving(models.Model):
    """What a target runs of a model now: its latest report about any of the model's
    versions (one row per target and model, replaced by each report)."""

    target = models.ForeignKey(DeploymentTarget, on_delete=models.PROTECT, related_name="serving")
    model = models.ForeignKey(
        "registry.RegisteredModel", on_delete=models.PROTECT, related_name="+"
    )
    version = models.ForeignKey("registry.ModelVersion", on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=20, choices=ServingState.choices)
    endpoint_url = models.URLField(max_length=500, blank=True)
    report = models.OneToOneField(DeploymentReport, on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField()

    class Meta:
        ordering = ["target__name"]
        constraints = [
            models.UniqueConstraint(fields=["target", "model"], name="serving_one_per_target_model")
        ]
        indexes = [models.Index(fields=["model", "version"], name="serving_model_version")]

    def __str__(self) -> str:
        return f"{self.target_id} {self.state} version {self.version_id}"
