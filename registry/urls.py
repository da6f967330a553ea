from django.urls import path

from .views import cards, catalog, models, versions

app_name = "registry"

# Every path under models/<name>/ belongs to that model: the registry's own pages live
# elsewhere, so any valid name (even "new" or "edit") reaches its model.
urlpatterns = [
    path("", catalog.catalog, name="catalog"),
    path("new/model/", models.model_create, name="model_create"),
    path("models/<str:name>/", models.model_detail, name="model_detail"),
    path("models/<str:name>/edit/", models.model_edit, name="model_edit"),
    path("models/<str:name>/compare/", versions.version_compare, name="version_compare"),
    path("models/<str:name>/v/<int:number>/", versions.version_detail, name="version_detail"),
    path("models/<str:name>/v/<int:number>/card/", cards.card_edit, name="card_edit"),
    path(
        "models/<str:name>/v/<int:number>/artifact/",
        versions.artifact_download,
        name="artifact_download",
    ),
]
