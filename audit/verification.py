"""Walking the hash chain: the check behind `manage.py audit_verify`, the periodic
Celery task and the audit page's "Verify now", which all record their result as a
VerificationRun for the audit page. Runs started from the page or by the schedule are
claimed first (verification_claim): at most one of them is running at any time.

The walk reads the events in keyset batches of `batch_size` (constant memory on any
size of log) and stops at the first broken link:

- a missing sequence number (an event was deleted),
- an event whose prev_hash is not the previous event's hash (deleted or re-ordered),
- an event whose stored hash is not the hash of its own fields (edited); events from
  before audit migration 0010 are hashed in the first format (audit.services), later
  ones in the current one, and the first format is accepted only before the current,
- a chain head that does not match the newest event (the newest events were deleted),
- an event that an earlier run recorded as the newest intact one (its anchor) that is
  now missing or different (the newest events were deleted and the head moved back, or
  the chain was rewritten and re-hashed from some point on).

On PostgreSQL, triggers stop the app's database user from changing the table at all
(migration 0002); this check is what catches a change made around them, e.g. by a
superuser who disabled the triggers. SQLite has no such triggers, only this check.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import STALE_RUN_DETAIL, AuditEvent, ChainHead, VerificationRun, VerificationState
from .services import GENESIS_HASH, HASHED_FIELDS, event_hash, event_hash_v1, hashed_fields_of

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000
_COLUMNS = tuple(dict.fromkeys((*HASHED_FIELDS, "prev_hash", "hash")))


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    events_checked: int
    broken_sequence: int | None = None
    expected: str = ""
    found: str = ""
    detail: str = ""
    head_sequence: int | None = None
    head_hash: str = ""

    def summary(self) -> str:
        if self.ok:
            return f"Chain intact: {self.events_checked} events checked."
        return f"Chain broken at sequence {self.broken_sequence}: {self.detail}"


def _broken(checked: int, sequence: int, detail: str, expected="", found="") -> ChainCheck:
    if expected or found:
        detail = f"{detail} (expected {expected or '-'}, found {found or '-'})"
    return ChainCheck(False, checked, sequence, expected, found, detail)


def chain_check(*, batch_size: int = BATCH_SIZE) -> ChainCheck:
    """Verify the whole chain up to the current head. Reads only."""
    head = ChainHead.objects.filter(id=1).values("sequence", "hash").first()
    anchor = (
        VerificationRun.objects.filter(ok=True, head_sequence__gt=0)
        .order_by("-head_sequence")
        .values("head_sequence", "head_hash", "finished_at")
        .first()
    )
    # Events committed after this point are left for the next run: the head and every
    # event up to it were committed together, so this is a consistent end point.
    end = head["sequence"] if head else 0
    checked, expected_seq, prev_hash = 0, 1, GENESIS_HASH
    # Events written before audit migration 0010 carry the first format's hash; once an
    # event of the current format is seen, every later one must have it too.
    current_format_seen = False
    while True:
        batch = list(
            AuditEvent.objects.filter(sequence__gte=expected_seq, sequence__lte=end)
            .order_by("sequence")
            .values(*_COLUMNS)[:batch_size]
        )
        for row in batch:
            seq = row["sequence"]
            if seq != expected_seq:
                return _broken(
                    checked,
                    expected_seq,
                    f"sequence {expected_seq} is missing; the next event is {seq}",
                )
            if row["prev_hash"] != prev_hash:
                return _broken(
                    checked,
                    seq,
                    f"event {seq} does not link to event {seq - 1}: prev_hash differs",
                    expected=prev_hash,
                    found=row["prev_hash"],
                )
            fields = hashed_fields_of(row)
            recomputed = event_hash(fields, row["prev_hash"])
            if recomputed == row["hash"]:
                current_format_seen = True
            elif current_format_seen or event_hash_v1(fields, row["prev_hash"]) != row["hash"]:
                return _broken(
                    checked,
                    seq,
                    f"event {seq} was changed after it was written: its hash differs",
                    expected=recomputed,
                    found=row["hash"],
                )
            if anchor and seq == anchor["head_sequence"] and row["hash"] != anchor["head_hash"]:
                return _broken(
                    checked,
                    seq,
                    f"event {seq} differs from the one verified on "
                    f"{anchor['finished_at']:%Y-%m-%d %H:%M} UTC: the chain was rewritten",
                    expected=anchor["head_hash"],
                    found=row["hash"],
                )
            checked += 1
            expected_seq, prev_hash = seq + 1, row["hash"]
        if len(batch) < batch_size:
            break
    if end and expected_seq <= end:
        return _broken(
            checked,
            expected_seq,
            f"events {expected_seq} to {end} are missing (the chain head is at {end})",
        )
    if head and prev_hash != head["hash"]:
        return _broken(
            checked,
            end,
            f"the chain head does not match event {end}",
            expected=head["hash"],
            found=prev_hash,
        )
    if not head and AuditEvent.objects.exists():
        return _broken(0, 1, "events exist but the chain head is missing")
    if anchor and anchor["head_sequence"] > end:
        return _broken(
            checked,
            end + 1,
            f"event {anchor['head_sequence']} was verified on "
            f"{anchor['finished_at']:%Y-%m-%d %H:%M} UTC but the chain now ends at {end}",
        )
    return ChainCheck(True, checked, head_sequence=end or None, head_hash=prev_hash if end else "")


def verification_running() -> VerificationRun | None:
    return VerificationRun.objects.filter(state=VerificationState.RUNNING).first()


def verification_expire_stale() -> None:
    """Mark a run that has been running for longer than AUDIT_VERIFY_TIMEOUT_SECONDS as
    abandoned (its worker died or its task was lost), so that it blocks no new run."""
    limit = timezone.now() - dt.timedelta(seconds=settings.AUDIT_VERIFY_TIMEOUT_SECONDS)
    VerificationRun.objects.filter(state=VerificationState.RUNNING, started_at__lt=limit).update(
        state=VerificationState.ABANDONED,
        finished_at=timezone.now(),
        detail=STALE_RUN_DETAIL,
    )


def verification_claim(*, requested_by_name: str = "") -> VerificationRun | None:
    """Record a new running verification, or return None when one is running already
    (the database's partial unique index decides between concurrent claims)."""
    verification_expire_stale()
    try:
        with transaction.atomic():
            return VerificationRun.objects.create(
                state=VerificationState.RUNNING,
                started_at=timezone.now(),
                requested_by_name=requested_by_name,
            )
    except IntegrityError:
        return None


def chain_verify(
    *, batch_size: int = BATCH_SIZE, run: VerificationRun | None = None
) -> tuple[ChainCheck, VerificationRun]:
    """Check the chain and record the result for the audit page (and log a break): in
    `run`, a claimed running verification, or in a new row."""
    started = timezone.now()
    try:
        result = chain_check(batch_size=batch_size)
    except Exception as exc:
        if run is not None:
            VerificationRun.objects.filter(pk=run.pk).update(
                state=VerificationState.ABANDONED,
                finished_at=timezone.now(),
                detail=f"The verification stopped with an error ({type(exc).__name__}).",
            )
        raise
    if not result.ok:
        logger.error("Audit log verification failed: %s", result.summary())
    values = {
        "state": VerificationState.FINISHED,
        "finished_at": timezone.now(),
        "events_checked": result.events_checked,
        "ok": result.ok,
        "broken_sequence": result.broken_sequence,
        "detail": result.summary(),
        "head_sequence": result.head_sequence,
        "head_hash": result.head_hash,
    }
    with transaction.atomic():
        if run is None:
            run = VerificationRun.objects.create(started_at=started, **values)
        else:
            VerificationRun.objects.filter(pk=run.pk).update(**values)
            run.refresh_from_db()
    return result, run
