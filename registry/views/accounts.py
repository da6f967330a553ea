from django.contrib.auth import views as auth_views


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


def token_list(request):
    raise NotImplementedError


def token_revoke(request, pk):
    raise NotImplementedError
