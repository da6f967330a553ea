"""The audit log in the admin: read-only, no actions, no bulk counts.

Events are written only by audit.services.event_record; nothing here can add, change or
delete one (and on PostgreSQL the table's triggers would refuse it anyway).
"""

from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.functional import cached_property

from config.admin import ReadOnlyMixin

from .actions import action_choices
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


class ActionFilter(admin.SimpleListFilter):
    """The declared actions (audit.actions), not a DISTINCT over millions of events."""

    title = "action"
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return action_choices()

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAuditAdmin):
    list_display = (
        "sequence",
        "created_at",
        "actor_name",
        "action_shown",
        "model_name",
        "version_number",
        "to_stage_shown",
    )
    list_filter = (ActionFilter, "actor_kind")
    search_fields = ("=actor_name", "=model_name")
    paginator = CappedCountPaginator
    show_full_result_count = False

    @admin.display(description="action", ordering="action")
    def action_shown(self, event: AuditEvent) -> str:
        return event.action_label

    @admin.display(description="to stage", ordering="to_stage")
    def to_stage_shown(self, event: AuditEvent) -> str | None:
        return event.to_stage_label or None  # None: the admin's "-"


@admin.register(VerificationRun)
class VerificationRunAdmin(ReadOnlyAuditAdmin):
    list_display = ("finished_at", "ok", "events_checked", "broken_sequence")
    list_filter = ("ok",)
