"""Mounted at /api/ by config/urls.py, before registry's API (whose last pattern answers
every unknown /api/ address with a JSON 404): registry does not import approvals."""

from django.urls import path

from . import aliases, views

app_name = "approvals_api"

VERSION = "models/<str:name>/versions/<int:number>/"
REQUEST = "transition-requests/<int:pk>/"

urlpatterns = [
    path(
        f"{VERSION}transition-requests/",
        views.VersionTransitionRequestView.as_view(),
        name="version-request",
    ),
    path(f"{VERSION}gates/", views.VersionGatesView.as_view(), name="version-gates"),
    path("models/<str:name>/aliases/", aliases.AliasListView.as_view(), name="alias-list"),
    path(
        "models/<str:name>/aliases/<str:alias>/",
        aliases.AliasDetailView.as_view(),
        name="alias-detail",
    ),
    path("transition-requests/", views.TransitionRequestListView.as_view(), name="request-list"),
    path(REQUEST, views.TransitionRequestDetailView.as_view(), name="request-detail"),
    path(f"{REQUEST}approve/", views.ApproveView.as_view(), name="request-approve"),
    path(f"{REQUEST}reject/", views.RejectView.as_view(), name="request-reject"),
    path(f"{REQUEST}withdraw/", views.WithdrawView.as_view(), name="request-withdraw"),
    path(f"{REQUEST}apply/", views.ApplyView.as_view(), name="request-apply"),
]
