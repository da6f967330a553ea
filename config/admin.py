"""Admin building blocks shared by the apps. Not an app: nothing is registered here,
and it imports no app, so any app's admin may use it."""

from django.db import models


class ReadOnlyMixin:
    """For admin classes of rows that only services may write."""

    actions = None
    # Links are shown as written; https is what Django 6 assumes for a bare domain.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
