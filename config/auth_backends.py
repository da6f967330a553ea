"""Django's ModelBackend, loading the signed-in user, their permissions, their teams and
the number of reviews waiting for them in one query instead of four."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

from approvals.context_processors import NAV_CAP
from approvals.selectors import inbox_count_sql
from registry.fixed_sql import columns, fetch_one
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


def _user_with_what_pages_ask(user_id) -> AbstractBaseUser | None:
    """The user row with their teams, their permissions and the navigation's count of the
    reviews waiting for them (which every page shows: approvals.context_processors), as
    one fixed SQL text: every signed-in request makes it, and the ORM took longer to
    build it than PostgreSQL to run it."""
    User = get_user_model()
    table = User._meta.db_table
    user = columns(User, table)  # the annotations name the row by its table's name
    extras = {
        **membership_annotations(f'"{table}"."id"'),
        "modelgate_perms": RawSQL(_PERMISSIONS_SQL, []),
        "modelgate_reviews_waiting": RawSQL(*inbox_count_sql(user_id, cap=NAV_CAP)),
    }
    row = fetch_one(
        f"SELECT {user.sql}, "
        + ", ".join(f"({extra.sql})" for extra in extras.values())
        + f" FROM {table} WHERE {table}.{User._meta.pk.column} = %s",
        [*(p for extra in extras.values() for p in extra.params), user_id],
    )
    if row is None:
        return None
    found = user.instance(row)
    for key, value in zip(extras, row[len(user) :], strict=True):
        setattr(found, key, value)
    return found


class OneQueryModelBackend(ModelBackend):
    """Every page asks who the user is, the navigation asks `perms.audit.export_auditevent`
    and pages ask which teams the user is in (to show edit controls): ModelBackend
    answers with three queries (the user, their permissions, then their groups'), the
    registry with one more. On PostgreSQL this loads all of it with the user row, fresh
    on every request (so a change of membership or permission shows at once); elsewhere
    each is read on first use. The permission cache is ModelBackend's own (`_perm_cache`
    on the user, for the request)."""

    def get_user(self, user_id):
        if connection.vendor == "postgresql":
            user = _user_with_what_pages_ask(user_id)
        else:
            user = get_user_model()._default_manager.filter(pk=user_id).first()
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
