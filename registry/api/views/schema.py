"""The OpenAPI schema and its Swagger UI, for signed-in users and token holders.

Anonymous callers get 401 from /api/schema/ and are sent to the sign-in page from
/api/docs/ (a page people open in a browser).
"""

from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import exceptions
from rest_framework.permissions import IsAuthenticated


class SchemaView(SpectacularAPIView):
    permission_classes = [IsAuthenticated]


class DocsView(SpectacularSwaggerView):
    permission_classes = [IsAuthenticated]
    url_name = "api:schema"

    def handle_exception(self, exc):
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)
