from django.urls import path

from .views import deployments

app_name = "deployments"

urlpatterns = [
    path("", deployments.target_list, name="list"),
    path("new/", deployments.target_create, name="create"),
    path("<int:pk>/", deployments.target_detail, name="target"),
    path("<int:pk>/edit/", deployments.target_edit, name="edit"),
    path("<int:pk>/rotate/", deployments.target_rotate, name="rotate"),
    path("<int:pk>/rotation-end/", deployments.target_rotation_end, name="rotation_end"),
    path("<int:pk>/test/", deployments.target_test, name="test"),
    path("deliveries/<int:pk>/", deployments.delivery_detail, name="delivery"),
    path("deliveries/<int:pk>/redeliver/", deployments.delivery_redeliver, name="redeliver"),
]
