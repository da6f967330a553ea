"""The navigation's "Reviews" count: how many requests wait for the signed-in user."""

from django.utils.functional import cached_property

from .selectors import inbox_count

# Past this the navigation says "99+": counting further is work nobody reads.
NAV_CAP = 99


class ReviewsWaiting:
    """Counted only when a page shows it, at most NAV_CAP + 1: with the signed-in user's
    row on PostgreSQL (config.auth_backends), else one query. Nothing, not even the
    user's session, is read before: error pages (503 when the database is unreachable)
    render with this context too."""

    def __init__(self, user):
        self._user = user

    @classmethod
    def known(cls, count: int) -> "ReviewsWaiting":
        waiting = cls(None)
        waiting.__dict__["count"] = count
        return waiting

    @cached_property
    def count(self) -> int:
        if self._user is None or not self._user.is_authenticated:
            return 0
        # On PostgreSQL the sign-in backend counts them with the user row.
        counted = getattr(self._user, "modelgate_reviews_waiting", None)
        if counted is not None:
            return counted
        return inbox_count(self._user, cap=NAV_CAP)

    @property
    def label(self) -> str:
        return f"{NAV_CAP}+" if self.count > NAV_CAP else str(self.count)


def reviews_waiting(request) -> dict:
    # request.user stays lazy (django.contrib.auth's middleware) until `count` is read.
    return {"reviews_waiting": ReviewsWaiting(getattr(request, "user", None))}
