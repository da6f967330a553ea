"""The OpenAPI schema and its Swagger UI, for signed-in users and token holders.

Anonymous callers get 401 from /api/schema/ and are sent to the sign-in page from
/api/docs/ (a page people open in a browser). The docs page is the "split" Swagger UI:
its start-up script is served from /api/docs/?script= instead of inline, so the page
runs under the site's Content-Security-Policy without 'unsafe-inline'.
"""

from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import exceptions
from rest_framework.permissions import IsAuthenticated


class SchemaView(SpectacularAPIView):
    permission_classes = [IsAuthenticated]


class DocsView(SpectacularSwaggerSplitView):
    permission_classes = [IsAuthenticated]
    url_name = "api:schema"
    template_name = "registry/api_docs.html"  # the stock page with its <style> moved out

    def handle_exception(self, exc):
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)
