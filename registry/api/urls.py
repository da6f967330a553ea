from django.urls import path, re_path

from .views import cards, deployments, fallback, models, schema, versions

app_name = "api"

VERSION = "models/<str:name>/versions/<int:number>/"

urlpatterns = [
    path("schema/", schema.SchemaView.as_view(), name="schema"),
    path("docs/", schema.DocsView.as_view(), name="docs"),
    path("teams/", models.TeamListView.as_view(), name="team-list"),
    path("models/", models.ModelListView.as_view(), name="model-list"),
    path("models/<str:name>/", models.ModelDetailView.as_view(), name="model-detail"),
    path("models/<str:name>/versions/", versions.VersionListView.as_view(), name="version-list"),
    path(VERSION, versions.VersionDetailView.as_view(), name="version-detail"),
    path(f"{VERSION}metrics/", versions.VersionMetricsView.as_view(), name="version-metrics"),
    path(f"{VERSION}params/", versions.VersionParamsView.as_view(), name="version-params"),
    path(
        f"{VERSION}data-versions/",
        versions.VersionDataVersionsView.as_view(),
        name="version-data-versions",
    ),
    path(f"{VERSION}lineage/", versions.VersionLineageView.as_view(), name="version-lineage"),
    path(f"{VERSION}card/", cards.CardView.as_view(), name="version-card"),
    path(f"{VERSION}artifact/", versions.VersionArtifactView.as_view(), name="version-artifact"),
    path("versions/", versions.VersionSearchView.as_view(), name="version-search"),
    path(
        "targets/<str:target>/reports/",
        deployments.TargetReportsView.as_view(),
        name="target-reports",
    ),
    # Last: anything else under /api/ is a JSON 404 (and no slash-appending redirect,
    # which would turn a pipeline's POST into a GET).
    re_path(r"^(?P<path>.*)$", fallback.not_found),
]
