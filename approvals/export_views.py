"""The transitions export's pages, for audit staff: the filter form and the download.

Only auditors (the audit.export_auditevent permission, as for the audit log) and
superusers get in; everyone else signed in gets 403.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from audit.services import EXPORT_PERMISSION, export_record
from config.database import with_statement_timeout

from .export import FORMATS, transitions_export
from .forms import TransitionExportForm


def _require_auditor(request) -> None:
    if not request.user.has_perm(EXPORT_PERMISSION):
        raise PermissionDenied("Only auditors can export the transition log.")


def _export_page(request, form, status: int = 200):
    context = {"nav": "audit", "form": form, "formats": FORMATS}
    return render(request, "approvals/transitions_export.html", context, status=status)


@login_required
@require_GET
def transitions_export_page(request):
    _require_auditor(request)
    form = TransitionExportForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return _export_page(request, form, status=400)
    return _export_page(request, form)


@login_required
@require_POST
def transitions_export_download(request, fmt: str):
    _require_auditor(request)
    export_format = FORMATS.get(fmt)
    if export_format is None:
        raise Http404("No such export format.")
    form = TransitionExportForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Correct the filters below, then export again.")
        return _export_page(request, form, status=400)
    filters = form.to_filter()
    # Committed before the first row is sent: the log shows who took what away.
    recorded = export_record(
        actor=request.user, kind=f"approvals-transitions-{fmt}", filters=filters.as_dict()
    )
    # One long statement (COPY): it gets the export timeout, not the few seconds a page gets.
    chunks = with_statement_timeout(
        transitions_export(filters, fmt), settings.DATABASE_EXPORT_STATEMENT_TIMEOUT
    )
    response = StreamingHttpResponse(chunks, content_type=export_format.content_type)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = (
        f'attachment; filename="transitions-{stamp}-event-{recorded.sequence}'
        f'.{export_format.extension}"'
    )
    response["Cache-Control"] = "no-store"
    return response
