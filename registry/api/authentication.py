from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from audit.context import set_token

from ..services import token_authenticate


class APITokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer mg_...` with a personal API token."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Send the header as 'Authorization: Bearer <token>'.")
            )
        try:
            secret = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(
                _("The token contains invalid characters.")
            ) from None
        token = token_authenticate(secret)
        if token is None:
            raise exceptions.AuthenticationFailed(_("The token is invalid or has been revoked."))
        set_token(token.prefix)
        return token.user, token

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) to unauthenticated API calls.
        return self.keyword


class APITokenScheme(OpenApiAuthenticationExtension):
    """Describes the token header in the OpenAPI schema (and Swagger UI's Authorize)."""

    target_class = APITokenAuthentication
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (mg_...), created at /accounts/tokens/.",
        }
