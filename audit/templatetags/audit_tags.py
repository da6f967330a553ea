from django import template
from django.contrib.auth.models import Permission
from django.db.models import Q

from ..display import event_summary
from ..services import EXPORT_PERMISSION

register = template.Library()
register.filter("event_summary", event_summary)

_APP, _CODENAME = EXPORT_PERMISSION.split(".")


@register.filter
def may_read_audit(user) -> bool:
    """Whether `user` may read and export the audit log (the navigation's link): what
    user.has_perm(EXPORT_PERMISSION) answers, in one query where has_perm loads every
    permission of the user and of their groups in two (it is on every page)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if hasattr(user, "_perm_cache"):  # has_perm ran in this request already
        return user.has_perm(EXPORT_PERMISSION)
    cached = getattr(user, "_modelgate_may_read_audit", None)
    if cached is None:
        cached = user._modelgate_may_read_audit = (
            Permission.objects.filter(Q(user=user) | Q(group__user=user))
            .filter(codename=_CODENAME, content_type__app_label=_APP)
            .exists()
        )
    return cached
