"""Django's ModelBackend, reading a user's permissions in one query instead of two."""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q


class OneQueryModelBackend(ModelBackend):
    """The navigation asks `perms.audit.export_auditevent` on every page and the model
    page asks for the break-glass permission: ModelBackend answers the first question
    with two queries (the user's permissions, then their groups'), this with one. The
    cache is ModelBackend's own (`_perm_cache` on the user, for the request)."""

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
