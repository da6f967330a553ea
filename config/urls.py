from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("registry.urls")),
    # approvals' API first: registry's ends with the JSON 404 for unknown /api/ addresses.
    path("api/", include("approvals.api.urls")),
    path("api/", include("registry.api.urls")),
    path("audit/", include("audit.urls")),
    path("approvals/", include("approvals.urls")),
    path("accounts/", include("registry.account_urls")),
    path("teams/", include("registry.team_urls")),
    path("deployments/", include("registry.deployment_urls")),
    path("admin/", admin.site.urls),
    # MLflow's model registry API: MLFLOW_TRACKING_URI=<this server>/mlflow
    path("mlflow/", include("mlflow_api.urls")),
]

handler400 = "registry.views.errors.bad_request"
handler403 = "registry.views.errors.permission_denied"
handler404 = "registry.views.errors.page_not_found"
handler500 = "registry.views.errors.server_error"
