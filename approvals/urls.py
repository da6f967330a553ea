from django.urls import path

from . import alias_views, export_views, governance_views, views

app_name = "approvals"

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("new/<str:name>/<int:number>/", views.request_new, name="request_new"),
    path("requests/<int:pk>/", views.request_detail, name="request"),
    path("requests/<int:pk>/approve/", views.request_approve, name="approve"),
    path("requests/<int:pk>/reject/", views.request_reject, name="reject"),
    path("requests/<int:pk>/withdraw/", views.request_withdraw, name="withdraw"),
    path("requests/<int:pk>/apply/", views.request_apply, name="apply"),
    path("transitions/", export_views.transitions_export_page, name="transitions_export"),
    path(
        "transitions/export/<slug:fmt>/",
        export_views.transitions_export_download,
        name="transitions_export_download",
    ),
]

# A model's aliases (the model page's forms): a protected one files a request.
urlpatterns += [
    path("models/<str:name>/aliases/", alias_views.alias_set, name="alias_set"),
    path("models/<str:name>/aliases/delete/", alias_views.alias_remove, name="alias_delete"),
]

# Governance: named approvers and risk tier of a model, policies, break-glass rollback.
urlpatterns += [
    path("models/<str:name>/approvers/", governance_views.model_approvers, name="model_approvers"),
    path("models/<str:name>/approvers/add/", governance_views.approver_add, name="approver_add"),
    path(
        "models/<str:name>/approvers/remove/",
        governance_views.approver_remove,
        name="approver_remove",
    ),
    path("models/<str:name>/risk-tier/", governance_views.risk_tier_set, name="risk_tier_set"),
    path("models/<str:name>/rollback/", governance_views.rollback, name="rollback"),
    path("policies/", governance_views.policies, name="policies"),
    path("policies/publish/", governance_views.policy_publish, name="policy_publish"),
    path("policies/<int:pk>/", governance_views.policy_history, name="policy_history"),
]
