"""Every state change of the catalog. Each function runs in one transaction, checks
permissions and state, writes its audit event with the change, and raises a domain
error (ValidationError, PermissionDenied, RegistryError) that leaves nothing changed."""

from .aliases import (
    alias_clean_name,
    alias_delete,
    alias_is_protected,
    alias_set,
    aliases_protected,
)
from .cards import card_update
from .deliveries import (
    deliveries_claim,
    deliveries_due,
    deliveries_enqueue,
    delivery_redeliver,
    delivery_send,
    deployment_target_test,
)
from .deployment_reports import deployment_report_record
from .deployments import (
    deployment_target_create,
    deployment_target_rotate_secret,
    deployment_target_rotation_end,
    deployment_target_update,
)
from .downloads import artifact_download
from .models import (
    model_create,
    model_permission_grant,
    model_permission_revoke,
    model_risk_tier_set,
    model_update,
)
from .teams import (
    team_create,
    team_maintainer_add,
    team_maintainer_remove,
    team_member_add,
    team_member_remove,
)
from .tokens import token_authenticate, token_create, token_revoke
from .versions import (
    artifact_attach,
    data_versions_attach,
    lineage_attach,
    metrics_attach,
    params_attach,
    parse_parent_ref,
    version_register,
    version_update,
)

__all__ = [
    "alias_clean_name",
    "alias_delete",
    "alias_is_protected",
    "alias_set",
    "aliases_protected",
    "artifact_attach",
    "artifact_download",
    "card_update",
    "data_versions_attach",
    "deliveries_claim",
    "deliveries_due",
    "deliveries_enqueue",
    "delivery_redeliver",
    "delivery_send",
    "deployment_report_record",
    "deployment_target_create",
    "deployment_target_rotate_secret",
    "deployment_target_rotation_end",
    "deployment_target_test",
    "deployment_target_update",
    "lineage_attach",
    "metrics_attach",
    "model_create",
    "model_permission_grant",
    "model_permission_revoke",
    "model_risk_tier_set",
    "model_update",
    "params_attach",
    "parse_parent_ref",
    "team_create",
    "team_maintainer_add",
    "team_maintainer_remove",
    "team_member_add",
    "team_member_remove",
    "token_authenticate",
    "token_create",
    "token_revoke",
    "version_register",
    "version_update",
]
