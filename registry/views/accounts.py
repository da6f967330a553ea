from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .. import services
from ..errors import RegistryError
from ..models import APIToken
from ..services.tokens import MAX_ACTIVE_TOKENS

# The tokens page lists the active tokens (at most MAX_ACTIVE_TOKENS) and then the most
# recently revoked ones, up to this many rows in all: revoked tokens pile up (a pipeline
# that rotates its token daily revokes 365 a year), and the audit log keeps every one.
TOKENS_SHOWN = MAX_ACTIVE_TOKENS + 20


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


@never_cache  # the response to a POST carries the new secret: no cache may keep it
@login_required
@require_http_methods(["GET", "POST"])
def token_list(request):
    """The user's own API tokens; POST creates one and shows its secret this once."""
    if request.method != "POST":
        return _token_page(request)
    name = request.POST.get("name", "")
    try:
        # Rendered before the commit: the secret is shown only on this page, which must
        # not fail for want of a database once the token exists.
        with transaction.atomic():
            created, secret = services.token_create(actor=request.user, name=name)
            return _token_page(request, created=created, secret=secret)
    except ValidationError as exc:
        errors = exc.message_dict.get("name", exc.messages)
    except RegistryError as exc:
        errors = [exc.message]
    return _token_page(request, name=name, errors=errors)


def _token_page(request, *, name="", errors=(), created=None, secret=None):
    tokens = list(
        APIToken.objects.filter(user=request.user).order_by(
            F("revoked_at").desc(nulls_first=True), "-created_at"
        )[: TOKENS_SHOWN + 1]
    )
    context = {
        "nav": "tokens",
        "tokens": tokens[:TOKENS_SHOWN],
        "older_revoked_hidden": len(tokens) > TOKENS_SHOWN,
        "name": name,
        "errors": errors,
        "created": created,
        "secret": secret,
        "api_root": request.build_absolute_uri("/api/"),
    }
    return render(request, "registry/tokens.html", context, status=400 if errors else 200)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def token_revoke(request, pk):
    """GET (or a POST without `confirm`) asks for confirmation; the confirming POST
    revokes. A revoked token cannot be brought back, so one click is never enough."""
    # Someone else's token is a 404: its existence is none of this user's business.
    token = get_object_or_404(APIToken, pk=pk, user=request.user)
    if request.method == "GET" or request.POST.get("confirm") != "revoke":
        if not token.is_active:
            messages.info(request, f"Token “{token.name}” is already revoked.")
            return redirect("token_list")
        return render(request, "registry/token_revoke.html", {"nav": "tokens", "token": token})
    try:
        services.token_revoke(actor=request.user, token=token)
    except RegistryError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"Token “{token.name}” was revoked; requests using it now get HTTP 401."
        )
    return redirect("token_list")
