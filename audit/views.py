"""The audit pages: the event log with filters and keyset pages, and its exports.

Only auditors (the "Auditors" group, i.e. audit.export_auditevent) and superusers get
in; everyone else signed in gets 403. A model's own history is shown on the model page
(audit.selectors.events_for_model), not here.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from config.database import with_statement_timeout

from .export import EXPORT_KINDS
from .forms import EventFilterForm
from .selectors import (
    attach_model_links,
    events_filtered,
    events_page,
    verification_status,
)
from .services import EXPORT_PERMISSION, export_record, verification_start


def _require_auditor(request) -> None:
    if not request.user.has_perm(EXPORT_PERMISSION):
        raise PermissionDenied("Only auditors can see the audit log.")


def _cursor(request, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() else None


@login_required
@require_GET
def events(request):
    _require_auditor(request)
    form = EventFilterForm(request.GET)  # every field is optional: no filter, all events
    page, valid = None, form.is_valid()
    if valid:
        page = events_page(
            events_filtered(form.to_filter()),
            before=_cursor(request, "before"),
            after=_cursor(request, "after"),
        )
        attach_model_links(page.events)
    context = {
        "nav": "audit",
        "form": form,
        "page": page,
        "filter_values": form.to_filter().as_dict() if valid else {},
        "verification": verification_status(),
        "export_kinds": EXPORT_KINDS,
    }
    return render(request, "audit/events.html", context, status=200 if valid else 400)


@login_required
@require_POST
def export(request, kind: str):
    _require_auditor(request)
    export_kind = EXPORT_KINDS.get(kind)
    if export_kind is None:
        raise Http404("No such export.")
    form = EventFilterForm(request.POST)
    if not form.is_valid():
        context = {
            "nav": "audit",
            "form": form,
            "page": None,
            "export_kinds": EXPORT_KINDS,
            "verification": verification_status(),
        }
        return render(request, "audit/events.html", context, status=400)
    event_filter = form.to_filter()
    # Committed before the first row is sent; the export covers the events before it.
    recorded = export_record(actor=request.user, kind=kind, filters=event_filter.as_dict())
    rows = events_filtered(event_filter).filter(sequence__lt=recorded.sequence)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    # A full export is one long statement (COPY): it gets the export timeout, not the
    # few seconds a page gets.
    chunks = with_statement_timeout(
        export_kind.stream(rows), settings.DATABASE_EXPORT_STATEMENT_TIMEOUT
    )
    response = StreamingHttpResponse(chunks, content_type=export_kind.content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="{export_kind.filename}-{stamp}-to-{recorded.sequence - 1}'
        f'.{export_kind.extension}"'
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def verification_start_view(request):
    """Start a chain verification on a worker; the page shows it running, then its result."""
    _require_auditor(request)
    run, started = verification_start(actor=request.user)
    if started:
        run.refresh_from_db()  # without a broker the task ran in-process on commit
        if run.ok is None:
            messages.success(
                request, "Verification started. The result appears here when it is done."
            )
        else:
            messages.success(request, f"Verification finished. {run.detail}")
    elif run is not None:
        messages.info(
            request,
            f"A verification started by {run.requested_by_name or 'the schedule'} is already "
            "running; its result appears here when it is done.",
        )
    return redirect(reverse("audit:events") + "#verification")


@never_cache
@login_required
@require_GET
def verification_status_view(request):
    """The verification's state as JSON, polled by static/js/audit-verification.js."""
    _require_auditor(request)
    return JsonResponse(verification_status().as_json())
