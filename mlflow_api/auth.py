"""Who is calling: MLflow's client sends `MLFLOW_TRACKING_TOKEN` as a Bearer token and
`MLFLOW_TRACKING_USERNAME`/`PASSWORD` as Basic credentials. Both are accepted, and a
Basic password may also be an API token. A session cookie is not: these endpoints take
writes without a CSRF token, so only credentials a browser does not send on its own
count."""

import base64
import binascii

from django.contrib.auth import authenticate

from audit.context import set_token
from registry.services import token_authenticate

from .errors import MlflowError

HOW = (
    "Set MLFLOW_TRACKING_TOKEN to a Modelgate API token (create one at /accounts/tokens/), "
    "or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD."
)


def _unauthenticated(message: str) -> MlflowError:
    return MlflowError("UNAUTHENTICATED", message)


def _token_user(secret: str):
    token = token_authenticate(secret)
    if token is None:
        return None
    set_token(token.prefix)
    return token.user


def _basic_user(request, encoded: bytes):
    try:
        username, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _unauthenticated(
            "The Basic credentials are not valid base64 of user:password."
        ) from None
    if not sep or not username:
        raise _unauthenticated("The Basic credentials are not user:password.")
    user = _token_user(password)
    if user is not None:
        if user.get_username().lower() != username.lower():
            raise _unauthenticated(
                f"The API token given as the password belongs to another user than {username!r}."
            )
        return user
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        raise _unauthenticated("The user name or password is wrong (or the account is locked).")
    return user


def authenticated_user(request):
    """The user the request's credentials name, or MlflowError UNAUTHENTICATED."""
    header = request.META.get("HTTP_AUTHORIZATION", "").split()
    if not header:
        raise _unauthenticated(f"Authentication is required. {HOW}")
    scheme = header[0].lower()
    if len(header) != 2 or scheme not in ("bearer", "basic"):
        raise _unauthenticated(f"Send 'Authorization: Bearer <token>' or Basic credentials. {HOW}")
    if scheme == "basic":
        return _basic_user(request, header[1].encode())
    user = _token_user(header[1])
    if user is None:
        raise _unauthenticated("The token is invalid or has been revoked.")
    return user
