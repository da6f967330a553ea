"""Django's ModelBackend, loading the signed-in user, their permissions and their teams in
one query instead of three."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import OuterRef, Q, Value
from django.db.models.functions import Concat

from registry.permissions import membership_annotations, remember_memberships


def _permission_names(perms):
    return ArraySubquery(
        perms.order_by()
        .annotate(full_name=Concat("content_type__app_label", Value("."), "codename"))
        .values("full_name")
    )


class OneQueryModelBackend(ModelBackend):
    """Every page asks who the user is, the navigation asks `perms.audit.export_auditevent`
    and pages ask which teams the user is in (to show edit controls): ModelBackend
    answers with three queries (the user, their permissions, then their groups'), the
    registry with one more. On PostgreSQL this loads all of it with the user row, fresh
    on every request (so a change of membership or permission shows at once); elsewhere
    each is read on first use. The permission cache is ModelBackend's own (`_perm_cache`
    on the user, for the request)."""

    def get_user(self, user_id):
        users = get_user_model()._default_manager.all()
        if connection.vendor == "postgresql":
            users = users.annotate(
                **membership_annotations(),
                modelgate_user_perms=_permission_names(
                    Permission.objects.filter(user=OuterRef("pk"))
                ),
                modelgate_group_perms=_permission_names(
                    Permission.objects.filter(group__user=OuterRef("pk"))
                ),
            )
        user = users.filter(pk=user_id).first()
        if user is None or not self.user_can_authenticate(user):
            return None
        remember_memberships(user, user)
        # A superuser holds every permission: has_perm answers without the cache.
        if hasattr(user, "modelgate_user_perms") and not user.is_superuser and user.is_active:
            user._perm_cache = {*user.modelgate_user_perms, *user.modelgate_group_perms}
        return user

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            perms = Permission.objects.all()
            if not user_obj.is_superuser:
                perms = perms.filter(Q(user=user_obj) | Q(group__user=user_obj))
            user_obj._perm_cache = {
                f"{app_label}.{codename}"
                for app_label, codename in perms.values_list(
                    "content_type__app_label", "codename"
                ).distinct()
            }
        return user_obj._perm_cache
