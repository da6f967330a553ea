"""MLflow's registry endpoints under /mlflow/ (MLFLOW_TRACKING_URI=<modelgate>/mlflow),
at both of MLflow's prefixes: /api/2.0/mlflow/ (the client) and /ajax-api/2.0/mlflow/."""

from django.urls import path, re_path

from . import views

ENDPOINTS = [
    ("registered-models/create", views.registered_model_create),
    ("registered-models/get", views.registered_model_get),
    ("registered-models/rename", views.registered_model_rename),
    ("registered-models/update", views.registered_model_update),
    ("registered-models/delete", views.registered_model_delete),
    ("registered-models/search", views.registered_model_search),
    ("registered-models/get-latest-versions", views.registered_model_latest_versions),
    ("registered-models/set-tag", views.registered_model_set_tag),
    ("registered-models/delete-tag", views.registered_model_delete_tag),
    ("registered-models/alias", views.registered_model_alias),
    ("model-versions/create", views.model_version_create),
    ("model-versions/get", views.model_version_get),
    ("model-versions/update", views.model_version_update),
    ("model-versions/delete", views.model_version_delete),
    ("model-versions/transition-stage", views.model_version_transition_stage),
    ("model-versions/search", views.model_version_search),
    ("model-versions/get-download-uri", views.model_version_download_uri),
    ("model-versions/set-tag", views.model_version_set_tag),
    ("model-versions/delete-tag", views.model_version_delete_tag),
]

app_name = "mlflow_api"

urlpatterns = (
    [
        path(f"{prefix}/2.0/mlflow/{route}", view, name=f"{prefix}-{route}")
        for prefix in ("api", "ajax-api")
        for route, view in ENDPOINTS
    ]
    + [
        route
        for prefix in ("api", "ajax-api")
        for route in (
            path(f"{prefix}/2.0/mlflow-artifacts/artifacts", views.artifacts_list),
            path(f"{prefix}/2.0/mlflow-artifacts/artifacts/", views.artifacts_list),
            path(f"{prefix}/2.0/mlflow-artifacts/artifacts/<path:path>", views.artifact_download),
        )
    ]
    + [
        re_path(r"^(?P<path>.*)$", views.unknown_endpoint),
    ]
)
