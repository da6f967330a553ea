"""Approvals in the admin: to look, never to change. Policies are published, requests
filed and reviewed, and stages moved only through approvals.services."""

from django.contrib import admin

from config.admin import ReadOnlyMixin

from .models import Policy, Review, TransitionRequest


@admin.register(Policy)
class PolicyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "stage",
        "scope",
        "risk_tier",
        "team",
        "model",
        "number",
        "required_approvals",
        "superseded_at",
    )
    list_filter = ("stage", "scope", "risk_tier")
    list_select_related = ("team", "model")


class ReviewInline(ReadOnlyMixin, admin.TabularInline):
    model = Review
    fields = ("reviewer", "decision", "comment", "created_at")
    readonly_fields = fields
    extra = 0


@admin.register(TransitionRequest)
class TransitionRequestAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("pk", "model", "version", "to_stage", "state", "requester", "created_at")
    list_filter = ("state", "to_stage", "kind")
    list_select_related = ("model", "version", "requester")
    raw_id_fields = ("model", "version", "baseline", "requester", "closed_by", "policy")
    inlines = [ReviewInline]
