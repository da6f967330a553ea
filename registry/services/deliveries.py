"""The webhook outbox that announces stage changes to deployment targets.
Deliveries (DESIGN invariant 6): `deliveries_enqueue` writes one outbox row per
matching active target in the caller's transaction (approvals' transition_apply and
rollback_emergency) and queues its sending after commit. `delivery_send` claims a due
row (SELECT ... FOR UPDATE SKIP LOCKED, then a lease in `next_attempt_at`), commits,
sends without holding any lock or transaction, and records the attempt; beat's
`deliveries_sweep` re-queues what is due (retries, dispatches lost with the broker).
Sending is system bookkeeping with its own log (DeliveryAttempt), not audit events;
only the system disabling a target (410 Gone) is audited. A redelivery puts the same
row (same webhook_id) back to pending with `attempts` at 0: a new round of retries,
numbered on in the attempt log (delivery_redeliver, audited, as is
deployment_target_test, which sends a test event about no version).

A Git target (issue 10 point 5b) uses all of this unchanged: its deliveries are the
same rows with the same body; only the attempt differs (registry.deployments.gitops
commits the manifest and pushes instead of POSTing).
"""

import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone

from ..audit_actions import Action
from ..deployments.gitops import (
    push_manifest,
)
from ..deployments.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryEvent,
    DeliveryState,
    DeploymentTarget,
    TargetKind,
    TargetScope,
)
from ..deployments.schedule import parse_retry_after, retry_delay
from ..deployments.sending import Outcome, post_signed
from ..models import ModelVersion, RegisteredModel
from .deployments import EVENT_FOR_STAGE, _lock, _require_may_manage_target
from .events import log_event

logger = logging.getLogger(__name__)


def _signing_secrets(target: DeploymentTarget, now: datetime) -> list[str]:
    rotating = target.previous_secret and target.rotation_ends_at and target.rotation_ends_at > now
    return [target.secret, target.previous_secret] if rotating else [target.secret]


# --- The outbox -------------------------------------------------------------------------


def _version_links(version: ModelVersion) -> dict:
    base = settings.MODELGATE_BASE_URL
    model = version.model
    links = {
        "version": base + reverse("registry:version_detail", args=[model.name, version.number]),
        "model": base + reverse("registry:model_detail", args=[model.name]),
    }
    return links


def _artifact_uri(version: ModelVersion) -> str:
    if version.artifact_uri:
        return version.artifact_uri
    if version.artifact:
        return settings.MODELGATE_BASE_URL + reverse(
            "registry:artifact_download", args=[version.model.name, version.number]
        )
    return ""


def _body(*, webhook_id: str, event: str, at: datetime, data: dict) -> str:
    payload = {"type": event, "id": webhook_id, "timestamp": at.isoformat(), "data": data}
    return json.dumps(payload, sort_keys=True, separators=(",", ":"))


def targets_matching(model: RegisteredModel, event: str) -> list[DeploymentTarget]:
    """The active targets that receive `event` about `model`."""
    candidates = (
        DeploymentTarget.objects.filter(active=True)
        .filter(
            Q(scope=TargetScope.ALL)
            | Q(scope=TargetScope.TEAM, team_id=model.team_id)
            | Q(scope=TargetScope.MODELS, chosen_models=model)
        )
        .distinct()
        .order_by("pk")
    )
    return [t for t in candidates if event in t.events]


def _dispatch(ids: list[int]) -> None:
    """Queue the sending of `ids`. A broker that is down loses nothing: the rows are in
    the database, and beat's sweep sends them once it is back."""
    from ..tasks import delivery_send

    for n, pk in enumerate(ids):
        try:
            delivery_send.apply_async(args=[pk], retry=False)
        except Exception as exc:  # any broker failure: the sweep sends what is left
            # One failure is enough to stop: each more would make the request wait again.
            logger.warning("Deliveries %s not queued (the sweep will send them): %s", ids[n:], exc)
            return


def deliveries_enqueue(
    *,
    version: ModelVersion,
    from_stage: str,
    to_stage: str,
    reason: str,
    approvers: Sequence[str],
    request_id: int | None,
    actor=None,
    event: str | None = None,
    replaced_version: ModelVersion | None = None,
) -> list[Delivery]:
    """Write one outbox row per active target that subscribes to this stage change of
    `version` (the event follows from `to_stage` unless given), in the caller's
    transaction, and queue their sending once it commits. The body is frozen now."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("deliveries_enqueue runs in the transaction of the stage change")
    event = event or EVENT_FOR_STAGE[to_stage]
    model = version.model
    targets = targets_matching(model, event)
    if not targets:
        return []
    now = timezone.now()
    data = {
        "model": {"id": model.pk, "name": model.name, "team": model.team.name},
        "version": {
            "number": version.number,
            "label": version.label,
            "artifact_uri": _artifact_uri(version),
            "artifact_sha256": version.artifact_sha256,
        },
        "from_stage": from_stage,
        "to_stage": to_stage,
        "reason": reason,
        "approvers": list(approvers),
        "by": actor.get_username() if actor is not None else None,
        "request_id": request_id,
        "replaced_version": (
            {"number": replaced_version.number, "label": replaced_version.label}
            if replaced_version is not None
            else None
        ),
        "links": _version_links(version),
    }
    deliveries = []
    for target in targets:
        webhook_id = f"msg_{uuid.uuid4().hex}"
        deliveries.append(
            Delivery(
                target=target,
                event=event,
                webhook_id=webhook_id,
                body=_body(webhook_id=webhook_id, event=event, at=now, data=data),
                model=model,
                version=version,
                request_id=request_id,
                next_attempt_at=now,
            )
        )
    Delivery.objects.bulk_create(deliveries)
    ids = [d.pk for d in deliveries]
    transaction.on_commit(lambda: _dispatch(ids))
    return deliveries


@transaction.atomic
def delivery_redeliver(*, actor, delivery: Delivery) -> Delivery:
    """Send a finished delivery again: the same row and body (the same `webhook-id`, so
    a receiver that saw it can drop it), back to pending for a new round of retries,
    queued after commit; its attempt log keeps numbering. Audited on the target."""
    delivery = (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("target__team")
        .get(pk=delivery.pk)
    )
    target = delivery.target
    _require_may_manage_target(actor, target)
    if delivery.state == DeliveryState.PENDING:
        raise ValidationError(
            "This delivery is still being sent; it can be sent again once it is delivered, "
            "failed or exhausted."
        )
    if not target.active:
        raise ValidationError(
            f"Target {target.name} is inactive; make it active again before redelivering."
        )
    previous = delivery.state
    delivery.state = DeliveryState.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = timezone.now()
    delivery.finished_at = None
    delivery.last_error = ""
    delivery.save(
        update_fields=["state", "attempts", "next_attempt_at", "finished_at", "last_error"]
    )
    log_event(
        target,
        Action.DELIVERY_REDELIVERED,
        actor=actor,
        changes={
            "name": target.name,
            "delivery": delivery.webhook_id,
            "event": delivery.event,
            "previous_state": previous,
        },
    )
    ids = [delivery.pk]
    transaction.on_commit(lambda: _dispatch(ids))
    return delivery


@transaction.atomic
def deployment_target_test(*, actor, target: DeploymentTarget) -> Delivery:
    """Queue a signed test event (about no model or version) to `target`, whatever it
    subscribes to: the person asked for it (a Git target only fetches its branch, and
    writes nothing). Audited on the target."""
    target = _lock(target)
    _require_may_manage_target(actor, target)
    if not target.active:
        raise ValidationError(
            f"Target {target.name} is inactive; make it active again before testing it."
        )
    now = timezone.now()
    webhook_id = f"msg_{uuid.uuid4().hex}"
    data = {
        "target": {"name": target.name, "environment": target.environment},
        "message": "A test event from Modelgate: no version changed stage.",
        "by": actor.get_username(),
        "links": {
            "target": settings.MODELGATE_BASE_URL + reverse("deployments:target", args=[target.pk])
        },
    }
    delivery = Delivery.objects.create(
        target=target,
        event=DeliveryEvent.TEST,
        webhook_id=webhook_id,
        body=_body(webhook_id=webhook_id, event=DeliveryEvent.TEST, at=now, data=data),
        next_attempt_at=now,
    )
    log_event(
        target,
        Action.TARGET_TESTED,
        actor=actor,
        changes={"name": target.name, "delivery": webhook_id},
    )
    ids = [delivery.pk]
    transaction.on_commit(lambda: _dispatch(ids))
    return delivery


@dataclass(frozen=True)
class Claim:
    """A delivery a worker holds until `lease_until`, with what sending it needs."""

    delivery_id: int
    attempt: int
    webhook_id: str
    body: str
    target_id: int
    target_name: str
    target_active: bool
    kind: str
    url: str
    secrets: list[str]
    lease_until: datetime
    repository: str = ""
    branch: str = ""
    manifest_path: str = ""

    def __repr__(self) -> str:  # never the secrets
        return f"Claim(delivery={self.delivery_id}, attempt={self.attempt})"


@transaction.atomic
def deliveries_claim(*, limit: int = 1, delivery_id: int | None = None) -> list[Claim]:
    """Claim up to `limit` due pending deliveries (or `delivery_id`, if due): each is
    leased to the caller for WEBHOOK_LEASE_SECONDS and its attempt counted. Concurrent
    claimers on PostgreSQL skip each other's rows (FOR UPDATE SKIP LOCKED), so no row is
    claimed twice; SQLite has one writer at a time anyway."""
    now = timezone.now()
    due = (
        Delivery.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("target")
        .filter(state=DeliveryState.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
    )
    if delivery_id is not None:
        due = due.filter(pk=delivery_id)
    rows = list(due[:limit])
    lease_until = now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
    claims = []
    for row in rows:
        row.attempts += 1
        row.next_attempt_at = lease_until
        claims.append(
            Claim(
                delivery_id=row.pk,
                attempt=row.attempts,
                webhook_id=row.webhook_id,
                body=row.body,
                target_id=row.target_id,
                target_name=row.target.name,
                target_active=row.target.active,
                kind=row.target.kind,
                url=row.target.url,
                secrets=_signing_secrets(row.target, now) if not row.target.is_git else [],
                lease_until=lease_until,
                repository=row.target.repository,
                branch=row.target.branch,
                manifest_path=row.target.manifest_path,
            )
        )
    Delivery.objects.bulk_update(rows, ["attempts", "next_attempt_at"])
    return claims


def deliveries_due(*, limit: int = 500) -> list[int]:
    """The ids of pending deliveries due now, oldest first (for the sweep)."""
    return list(
        Delivery.objects.filter(state=DeliveryState.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def delivery_send(*, delivery_id: int) -> str:
    """Claim delivery `delivery_id` if it is due, send it, and record the attempt.
    Returns its state afterwards, or "not due" (already sent, being sent, or not yet
    time). No transaction or lock is held while the receiver is being waited for."""
    claims = deliveries_claim(delivery_id=delivery_id)
    if not claims:
        return "not due"
    claim = claims[0]
    if claim.target_active and claim.kind == TargetKind.GIT:
        outcome = _push(claim)
    elif claim.target_active:
        outcome = post_signed(
            url=claim.url, webhook_id=claim.webhook_id, body=claim.body, secrets=claim.secrets
        )
    else:
        outcome = Outcome(
            started_at=timezone.now(),
            latency_ms=0,
            error="The target is inactive; nothing was sent.",
            refused=True,
        )
    return _record(claim, outcome)


def _push(claim: Claim) -> Outcome:
    result = push_manifest(
        repository=claim.repository,
        branch=claim.branch,
        manifest_path=claim.manifest_path,
        webhook_id=claim.webhook_id,
        body=claim.body,
    )
    return Outcome(
        started_at=result.started_at,
        latency_ms=result.latency_ms,
        response_body=result.summary,
        error=result.error,
        refused=result.refused,
        delivered=result.pushed,
    )


def _decide(outcome: Outcome) -> tuple[str, str]:
    """("delivered" | "retry" | "failed" | "gone", why) for one attempt's outcome."""
    if outcome.delivered:
        return "delivered", ""
    code = outcome.status_code
    if code is None:
        return ("failed" if outcome.refused else "retry"), outcome.error
    if 200 <= code < 300:
        return "delivered", ""
    if code == 410:
        return "gone", "The receiver answered 410 Gone: the target was disabled."
    if code == 429 or code >= 500:
        return "retry", f"The receiver answered {code}."
    if 300 <= code < 400:
        return "failed", f"The receiver answered {code}; redirects are not followed."
    return "failed", f"The receiver answered {code}; not retried."


@transaction.atomic
def _record(claim: Claim, outcome: Outcome) -> str:
    delivery = Delivery.objects.select_for_update(of=("self",)).get(pk=claim.delivery_id)
    logged = DeliveryAttempt.objects.filter(delivery=delivery).aggregate(last=Max("number"))
    DeliveryAttempt.objects.create(
        delivery=delivery,
        number=(logged["last"] or 0) + 1,
        started_at=outcome.started_at,
        status_code=outcome.status_code,
        latency_ms=outcome.latency_ms,
        response_body=outcome.response_body,
        error=outcome.error,
    )
    verdict, why = _decide(outcome)
    logger.info(
        "Delivery %s (id %s, attempt %s) to target %s: %s",
        claim.webhook_id,
        claim.delivery_id,
        claim.attempt,
        claim.target_name,
        outcome.status_code or outcome.error or outcome.response_body,
    )
    if delivery.state != DeliveryState.PENDING or delivery.attempts != claim.attempt:
        # Our lease ran out and another worker took the delivery over: its result counts.
        return delivery.state
    now = timezone.now()
    delivery.last_error = why[:500]
    if verdict == "retry" and delivery.attempts < settings.WEBHOOK_MAX_ATTEMPTS:
        wait = retry_delay(
            delivery.attempts, retry_after=parse_retry_after(outcome.retry_after, now=now)
        )
        delivery.next_attempt_at = now + wait
    else:
        delivery.state = {
            "delivered": DeliveryState.DELIVERED,
            "retry": DeliveryState.EXHAUSTED,
            "failed": DeliveryState.FAILED,
            "gone": DeliveryState.FAILED,
        }[verdict]
        delivery.next_attempt_at, delivery.finished_at = None, now
        if verdict == "retry":
            delivery.last_error = f"Gave up after {delivery.attempts} attempts. {why}"[:500]
    delivery.save(update_fields=["state", "next_attempt_at", "finished_at", "last_error"])
    if verdict == "gone":
        _target_disable(claim.target_id, why=why, delivery=delivery)
    return delivery.state


def _target_disable(target_id: int, *, why: str, delivery: Delivery) -> None:
    target = DeploymentTarget.objects.select_for_update().get(pk=target_id)
    if not target.active:
        return
    target.active, target.disabled_reason = False, why[:300]
    target.save(update_fields=["active", "disabled_reason", "updated_at"])
    log_event(
        target,
        Action.TARGET_DISABLED,
        actor=None,
        changes={"name": target.name, "why": why, "delivery": delivery.webhook_id},
    )
