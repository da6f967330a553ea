import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from ..audit_actions import Action
from ..errors import RegistryError
from ..models import APIToken
from ..permissions import membership_annotations, remember_memberships
from .events import log_event

TOKEN_PREFIX = "mg_"
MAX_ACTIVE_TOKENS = 20


def token_digest(secret: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough (no brute force possible).
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def token_create(*, actor, name: str) -> tuple[APIToken, str]:
    """Create a personal API token for `actor`. Returns the token and its secret, which
    is not stored and cannot be shown again."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError(
            {"name": ["Name the token (1-100 characters), e.g. 'training pipeline'."]}
        )
    active = APIToken.objects.filter(user=actor, revoked_at__isnull=True).count()
    if active >= MAX_ACTIVE_TOKENS:
        raise RegistryError(f"You already have {active} active tokens; revoke one first.")
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = APIToken.objects.create(
        user=actor, name=name, prefix=prefix, digest=token_digest(secret)
    )
    log_event(token, Action.TOKEN_CREATED, actor=actor, changes={"name": name, "prefix": prefix})
    return token, secret


@transaction.atomic
def token_revoke(*, actor, token: APIToken) -> APIToken:
    token = APIToken.objects.select_for_update().get(pk=token.pk)
    if token.user_id != actor.pk and not actor.is_superuser:
        raise RegistryError("You can only revoke your own tokens.")
    if token.revoked_at is not None:
        raise RegistryError("This token is already revoked.")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    owner = token.user.get_username()
    changes = {"name": token.name, "prefix": token.prefix, "owner": owner}
    log_event(token, Action.TOKEN_REVOKED, actor=actor, changes=changes)
    return token


def token_authenticate(secret: str) -> APIToken | None:
    """The active token matching `secret`, with its last use recorded (not audited: a read)."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    tokens = APIToken.objects.select_related("user")
    if connection.vendor == "postgresql":  # the user's teams with the token: one query
        table = APIToken._meta.db_table
        tokens = tokens.annotate(**membership_annotations(f'"{table}"."user_id"'))
    token = tokens.filter(
        digest=token_digest(secret), revoked_at__isnull=True, user__is_active=True
    ).first()
    if token is not None:
        remember_memberships(token.user, token)
        now = timezone.now()
        # At most one write a minute per token, so API traffic does not hammer one row.
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            APIToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
    return token
