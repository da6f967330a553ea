import hashlib
import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from ..audit_actions import Action
from ..errors import RegistryError
from ..fixed_sql import cache_related, columns, fetch_one
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


def _active_token(digest: str) -> APIToken | None:
    """The active token with `digest`, its user and the user's teams (remember_memberships)
    in one fixed SQL text: every API call makes this read, and the ORM took longer to
    build it than PostgreSQL to run it."""
    User = get_user_model()
    token, user = columns(APIToken, "k"), columns(User, "u")
    teams = membership_annotations("k.user_id")
    arrays = [teams["modelgate_team_ids"], teams["modelgate_maintained_team_ids"]]
    row = fetch_one(
        f"SELECT {token.sql}, {user.sql}, {', '.join(a.sql for a in arrays)} "
        f"FROM {APIToken._meta.db_table} k "
        f"JOIN {User._meta.db_table} u ON u.{User._meta.pk.column} = k.user_id "
        "WHERE k.digest = %s AND k.revoked_at IS NULL AND u.is_active LIMIT 1",
        [*(p for a in arrays for p in a.params), digest],
    )
    if row is None:
        return None
    found = token.instance(row)
    cache_related(found, "user", user.instance(row, len(token)))
    found.modelgate_team_ids, found.modelgate_maintained_team_ids = row[-2:]
    return found


def token_authenticate(secret: str) -> APIToken | None:
    """The active token matching `secret`, with its last use recorded (not audited: a read)."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    if connection.vendor == "postgresql":
        token = _active_token(token_digest(secret))
    else:
        token = (
            APIToken.objects.select_related("user")
            .filter(digest=token_digest(secret), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
    if token is not None:
        remember_memberships(token.user, token)
        now = timezone.now()
        # At most one write a minute per token, so API traffic does not hammer one row.
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            APIToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
    return token
