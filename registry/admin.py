"""Read-only admin views of the catalog.

Every change must go through registry.services (permission checks, validation, audit
event in the same transaction), so the admin only shows rows and links to the pages
that make changes: teams and their members on the Teams pages (templates/admin/
registry/team/), models and versions on their own pages ("View on site") or the API.
"""

from django.contrib import admin
from django.urls import reverse

from config.admin import ReadOnlyMixin

from .models import (
    APIToken,
    Delivery,
    DeliveryAttempt,
    DeploymentTarget,
    ModelAlias,
    ModelCard,
    ModelVersion,
    RegisteredModel,
    Team,
    TeamMembership,
)


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    pass


class MembershipInline(ReadOnlyMixin, admin.TabularInline):
    model = TeamMembership
    fields = ("user", "role", "created_at")
    readonly_fields = fields
    extra = 0


@admin.register(Team)
class TeamAdmin(ReadOnlyAdmin):
    list_display = ("name", "slug", "created_at")
    search_fields = ("name",)
    inlines = [MembershipInline]
    view_on_site = False  # its change page links to the team's page (change_form.html)


@admin.register(RegisteredModel)
class RegisteredModelAdmin(ReadOnlyAdmin):
    list_display = ("name", "team", "owner", "current_stage", "license", "updated_at")
    list_filter = ("team", "current_stage", "data_classification")
    search_fields = ("name",)
    list_select_related = ("team", "owner")
    exclude = ("search_vector", "search_text")

    def view_on_site(self, obj):
        return reverse("registry:model_detail", args=[obj.name])


@admin.register(ModelVersion)
class ModelVersionAdmin(ReadOnlyAdmin):
    list_display = ("model", "number", "label", "stage", "framework", "created_at")
    list_filter = ("stage", "framework")
    search_fields = ("model__name", "label")
    list_select_related = ("model",)
    raw_id_fields = ("model",)

    def view_on_site(self, obj):
        return reverse("registry:version_detail", args=[obj.model.name, obj.number])


@admin.register(ModelAlias)
class ModelAliasAdmin(ReadOnlyAdmin):
    list_display = ("model", "name", "version", "set_by", "updated_at")
    search_fields = ("model__name", "name")
    list_select_related = ("model", "version__model", "set_by")


@admin.register(ModelCard)
class ModelCardAdmin(ReadOnlyAdmin):
    list_display = ("version", "updated_at")
    list_select_related = ("version__model",)


@admin.register(APIToken)
class APITokenAdmin(ReadOnlyAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    exclude = ("digest",)
    list_select_related = ("user",)


@admin.register(DeploymentTarget)
class DeploymentTargetAdmin(ReadOnlyAdmin):
    list_display = ("name", "kind", "environment", "url", "repository", "scope", "active")
    list_filter = ("kind", "environment", "scope", "active")
    search_fields = ("name", "url", "repository")
    # The secrets are shown once, by the service that makes them; never here.
    exclude = ("secret", "previous_secret")


class DeliveryAttemptInline(ReadOnlyMixin, admin.TabularInline):
    model = DeliveryAttempt
    fields = ("number", "started_at", "status_code", "latency_ms", "error", "response_body")
    readonly_fields = fields
    extra = 0


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ("webhook_id", "target", "event", "state", "attempts", "created_at")
    list_filter = ("state", "event", "target")
    search_fields = ("webhook_id",)
    list_select_related = ("target",)
    raw_id_fields = ("model", "version")
    inlines = [DeliveryAttemptInline]
