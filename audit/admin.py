"""The audit log in the admin: read-only, no actions, no bulk counts.

Events are written only by audit.services.event_record; nothing here can add, change or
delete one (and on PostgreSQL the table's triggers would refuse it anyway).
"""

from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.functional import cached_property

from registry.admin import ReadOnlyMixin

from .models import AuditEvent, VerificationRun
from .services import EXPORT_PERMISSION


class CappedCountPaginator(Paginator):
    """Counts at most CAP rows: a COUNT(*) over millions of events on every admin page
    load is too slow, and nobody pages that deep here (the audit page pages by keyset)."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: self.CAP].count()


class ReadOnlyAuditAdmin(ReadOnlyMixin, admin.ModelAdmin):
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(EXPORT_PERMISSION) or super().has_view_permission(request, obj)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAuditAdmin):
    list_display = (
        "sequence",
        "created_at",
        "actor_name",
        "action",
        "model_name",
        "version_number",
        "to_stage",
    )
    list_filter = ("action", "actor_kind")
    search_fields = ("=actor_name", "=model_name")
    paginator = CappedCountPaginator
    show_full_result_count = False


@admin.register(VerificationRun)
class VerificationRunAdmin(ReadOnlyAuditAdmin):
    list_display = ("finished_at", "ok", "events_checked", "broken_sequence")
    list_filter = ("ok",)
