from django.urls import path

from .views import accounts

urlpatterns = [
    path("login/", accounts.LoginView.as_view(), name="login"),
    path("logout/", accounts.LogoutView.as_view(), name="logout"),
    path("tokens/", accounts.token_list, name="token_list"),
    path("tokens/<int:pk>/revoke/", accounts.token_revoke, name="token_revoke"),
]
