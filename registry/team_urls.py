from django.urls import path

from .views import teams

app_name = "teams"

urlpatterns = [
    path("", teams.team_list, name="list"),
    path("<slug:slug>/", teams.team_detail, name="detail"),
    path("<slug:slug>/members/", teams.team_member_add, name="member_add"),
    path(
        "<slug:slug>/members/<int:user_id>/remove/",
        teams.team_member_remove,
        name="member_remove",
    ),
    path(
        "<slug:slug>/maintainers/<int:user_id>/",
        teams.team_maintainer_add,
        name="maintainer_add",
    ),
    path(
        "<slug:slug>/maintainers/<int:user_id>/remove/",
        teams.team_maintainer_remove,
        name="maintainer_remove",
    ),
]
