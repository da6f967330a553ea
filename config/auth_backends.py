"""Django's ModelBackend, loading the signed-in user, their permissions, their teams and
the number of reviews waiting for them in one query instead of four."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import CharField, IntegerField, Q
from django.db.models.expressions import RawSQL

from approvals.context_processors import NAV_CAP
from approvals.selectors import inbox_count_sql
from registry.permissions import membership_annotations, remember_memberships

# The user's global permissions, their own and their groups', as ModelBackend names them.
# Plain SQL: the ORM's subqueries took longer to compile on every request than to run.
_PERMISSIONS_SQL = """ARRAY(
    SELECT ct.app_label || '.' || p.codename FROM auth_permission p
    JOIN django_content_type ct ON ct.id = p.content_type_id
    WHERE p.id IN (SELECT permission_id FROM auth_user_user_permissions
                   WHERE user_id = "auth_user"."id")
       OR p.id IN (SELECT gp.permission_id FROM auth_group_permissions gp
                   JOIN auth_user_groups ug ON ug.group_id = gp.group_id
                   WHERE ug.user_id = "auth_user"."id"))"""


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
                **membership_annotations('"auth_user"."id"'),
                modelgate_perms=RawSQL(_PERMISSIONS_SQL, [], output_field=ArrayField(CharField())),
                # The navigation's count of the reviews waiting for the user, which every
                # page shows (approvals.context_processors): no query of its own.
                modelgate_reviews_waiting=RawSQL(
                    *inbox_count_sql(user_id, cap=NAV_CAP), output_field=IntegerField()
                ),
            )
        user = users.filter(pk=user_id).first()
        if user is None or not self.user_can_authenticate(user):
            return None
        remember_memberships(user, user)
        # A superuser holds every permission: has_perm answers without the cache.
        if hasattr(user, "modelgate_perms") and not user.is_superuser:
            user._perm_cache = set(user.modelgate_perms)
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
