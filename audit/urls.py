from django.urls import path

from . import views

app_name = "audit"
urlpatterns = [
    path("", views.events, name="events"),
    path("export/<slug:kind>/", views.export, name="export"),
    path("verification/", views.verification_status_view, name="verification_status"),
    path("verification/start/", views.verification_start_view, name="verification_start"),
]
