"""The OpenAPI schema, served to anyone (it describes the API, not its data), and its
Swagger UI, which sends anonymous visitors to sign in (a page people open in a browser).

The schema is YAML by default, JSON with ?format=json or an Accept header asking for it.
The docs page is the "split" Swagger UI: its start-up script is served from
/api/docs/?script= instead of inline, so the page runs under the site's
Content-Security-Policy without 'unsafe-inline'.
"""

from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import exceptions
from rest_framework.permissions import AllowAny, IsAuthenticated


class SchemaView(SpectacularAPIView):
    # No authentication at all, so that even a stale token cannot turn it into a 401.
    authentication_classes = []
    permission_classes = [AllowAny]


class DocsView(SpectacularSwaggerSplitView):
    permission_classes = [IsAuthenticated]
    url_name = "api:schema"
    template_name = "registry/api_docs.html"  # the stock page with its <style> moved out

    def handle_exception(self, exc):
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)
