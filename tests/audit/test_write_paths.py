"""Every state change writes exactly one audit event, in its own transaction.

WRITES lists every public service with the action it must record; a service added to
registry.services (or audit.services, or approvals.services) without an entry here
fails test_every_public_service_is_accounted_for, so nobody can add a write path
that escapes the log.
"""

import importlib
import importlib.util
from types import SimpleNamespace

import pytest
from django.core.files.base import ContentFile
from django.db import transaction

from approvals import services as approvals
from approvals.audit_actions import ApprovalAction
from audit import services as audit_services
from audit.audit_actions import Action as AuditAction
from audit.models import AuditEvent, ChainHead
from audit.verification import chain_check
from registry import services
from registry.audit_actions import Action
from registry.choices import CARD_SECTION_NAMES
from registry.models import ModelCard

pytestmark = pytest.mark.django_db


def _team_member_add(c):
    newcomer = c.users.objects.create_user("newcomer")
    return lambda: services.team_member_add(actor=c.admin, team=c.team, user=newcomer)


def _team_member_remove(c):
    """A member who owns none of the team's models (an owner stays until replaced)."""
    leaver = c.users.objects.create_user("leaver")
    services.team_member_add(actor=c.admin, team=c.team, user=leaver)
    return lambda: services.team_member_remove(actor=c.admin, team=c.team, user=leaver)


def _artifact_download(c):
    """A confidential model's stored artifact: downloading it is recorded."""
    stored = c.make_version(
        c.model, artifact_uri="", artifact=ContentFile(b"weights", name="model.pkl")
    )
    return lambda: services.artifact_download(actor=c.member, version=stored, via="web").close()


def _team_maintainer_remove(c):
    services.team_maintainer_add(actor=c.admin, team=c.team, user=c.member)
    services.team_member_add(
        actor=c.admin, team=c.team, user=c.users.objects.create_user("carol"), role="maintainer"
    )
    return lambda: services.team_maintainer_remove(actor=c.admin, team=c.team, user=c.member)


def _permission_revoke(c):
    services.model_permission_grant(actor=c.member, model=c.model, user=c.outsider)
    return lambda: services.model_permission_revoke(actor=c.member, model=c.model, user=c.outsider)


def _artifact_attach(c):
    bare = c.make_version(c.model, artifact_uri="")
    return lambda: services.artifact_attach(
        actor=c.member, version=bare, artifact_uri="s3://models/fraud/late.pkl"
    )


def _lineage_attach(c):
    child = c.make_version(c.model)
    return lambda: services.lineage_attach(
        actor=c.member, version=child, parents=[(c.version, "derived_from")]
    )


def _card_update(c):
    card = ModelCard.objects.get(version=c.version)
    return lambda: services.card_update(
        actor=c.member, card=card, sections={"intended_use": "Checkout fraud review."}
    )


def _token_revoke(c):
    token, _ = services.token_create(actor=c.member, name="old pipeline")
    return lambda: services.token_revoke(actor=c.member, token=token)


# service name -> (the action it records, a setup returning the call to make)

# --- approvals -------------------------------------------------------------------------

REASON = "Passes every gate on the Q3 hold-out set."


def _approver(c, name="carol", stages=("staging", "production")):
    user = c.users.objects.create_user(name)
    for stage in stages:
        approvals.approver_grant(actor=c.admin, stage=stage, model=c.model, user=user)
    return user


def _fill_card(c, version):
    services.card_update(
        actor=c.member,
        card=version.card,
        sections={name: f"{name} text" for name in CARD_SECTION_NAMES},
    )


def _staging_request(c):
    _fill_card(c, c.version)
    return approvals.transition_request(
        actor=c.member, version=c.version, to_stage="staging", reason=REASON
    )


def _transition_request(c):
    _approver(c)
    _fill_card(c, c.version)
    return lambda: approvals.transition_request(
        actor=c.member, version=c.version, to_stage="staging", reason=REASON
    )


def _transition_withdraw(c):
    _approver(c)
    request = _staging_request(c)
    return lambda: approvals.transition_withdraw(actor=c.member, request=request)


def _review_approve(c):
    """One of the two approvals production needs: the approval alone is recorded."""
    carol, dave = _approver(c), _approver(c, "dave")
    request = _staging_request(c)
    approvals.review_approve(actor=carol, request=request)  # now in staging
    production = approvals.transition_request(
        actor=c.member, version=c.version, to_stage="production", reason=REASON
    )
    return lambda: approvals.review_approve(actor=dave, request=production)


def _review_reject(c):
    carol = _approver(c)
    request = _staging_request(c)
    return lambda: approvals.review_reject(actor=carol, request=request, comment="Not yet.")


def _transition_apply(c):
    """A policy that needs no approval, blocked by an empty card until it is filled."""
    approvals.policy_publish(
        actor=c.admin,
        stage="staging",
        model=c.model,
        rules={"required_approvals": 0, "required_sections": ["model_details"]},
        reason="Staging this model needs no approval.",
    )
    request = approvals.transition_request(
        actor=c.member, version=c.version, to_stage="staging", reason=REASON
    )
    _fill_card(c, c.version)
    return lambda: approvals.transition_apply(actor=c.member, request=request)


def _rollback_emergency(c):
    from django.contrib.auth.models import Group

    approvals.policy_publish(
        actor=c.admin,
        stage="production",
        model=c.model,
        rules={"required_approvals": 0, "allow_skip_staging": True},
        reason="Production for this model in the test needs no approval.",
    )
    for _ in range(2):
        version = c.make_version(c.model)
        approvals.transition_request(
            actor=c.member, version=version, to_stage="production", reason=REASON
        )
    breaker = c.users.objects.create_user("bree")
    breaker.groups.add(Group.objects.get(name="Break-glass"))
    breaker = c.users.objects.get(pk=breaker.pk)
    return lambda: approvals.rollback_emergency(actor=breaker, model=c.model, reason=REASON)


def _approver_revoke_stage(c):
    user = _approver(c, stages=("production",))
    return lambda: approvals.approver_revoke(
        actor=c.admin, stage="production", model=c.model, user=user
    )


def _deployment_target(c):
    target, _ = services.deployment_target_create(
        actor=c.admin,
        name="argo-prod",
        environment="production",
        url="https://93.184.215.14/hooks",
        events=["version.promoted.production"],
    )
    return target


def _target_rotation_end(c):
    target, _ = services.deployment_target_rotate_secret(
        actor=c.admin, target=_deployment_target(c)
    )
    return lambda: services.deployment_target_rotation_end(actor=c.admin, target=target)


def _target_rotate(c):
    target = _deployment_target(c)
    return lambda: services.deployment_target_rotate_secret(actor=c.admin, target=target)


def _target_update(c):
    target = _deployment_target(c)
    return lambda: services.deployment_target_update(
        actor=c.admin,
        target=target,
        name="argo-prod",
        environment="production",
        url="https://93.184.215.14/hooks/v2",
        events=["version.promoted.production"],
        scope="all",
    )


def _deployment_report(c):
    target = _deployment_target(c)
    return lambda: services.deployment_report_record(
        actor=c.member, target=target, version=c.version, state="serving"
    )


def _target_test(c):
    target = _deployment_target(c)
    return lambda: services.deployment_target_test(actor=c.admin, target=target)


def _delivery_redeliver(c):
    """A test event that failed for good (a receiver that refused it, say)."""
    target = _deployment_target(c)
    delivery = services.deployment_target_test(actor=c.admin, target=target)
    type(delivery).objects.filter(pk=delivery.pk).update(state="failed")
    return lambda: services.delivery_redeliver(actor=c.admin, delivery=delivery)


def _alias_delete(c):
    services.alias_set(actor=c.member, model=c.model, name="challenger", version=c.version)
    return lambda: services.alias_delete(actor=c.member, model=c.model, name="challenger")


ALIAS_REASON = "Beats the current champion on the Q3 hold-out set."

WRITES = {
    "alias_set": (
        Action.ALIAS_SET,
        lambda c: (
            lambda: services.alias_set(
                actor=c.member, model=c.model, name="challenger", version=c.version
            )
        ),
    ),
    "alias_delete": (Action.ALIAS_DELETED, _alias_delete),
    # An unprotected alias is set at once; a protected one files a request.
    "alias_assign": (
        Action.ALIAS_SET,
        lambda c: (
            lambda: approvals.alias_assign(
                actor=c.member, model=c.model, name="shadow", version=c.version
            )
        ),
    ),
    "alias_request": (
        ApprovalAction.REQUESTED,
        lambda c: (
            lambda: approvals.alias_request(
                actor=c.member, version=c.version, alias="champion", reason=ALIAS_REASON
            )
        ),
    ),
    "deployment_report_record": (Action.DEPLOYMENT_REPORTED, _deployment_report),
    "delivery_redeliver": (Action.DELIVERY_REDELIVERED, _delivery_redeliver),
    "deployment_target_test": (Action.TARGET_TESTED, _target_test),
    "deployment_target_create": (
        Action.TARGET_CREATED,
        lambda c: lambda: _deployment_target(c),
    ),
    "deployment_target_update": (Action.TARGET_UPDATED, _target_update),
    "deployment_target_rotate_secret": (Action.TARGET_SECRET_ROTATED, _target_rotate),
    "deployment_target_rotation_end": (Action.TARGET_ROTATION_ENDED, _target_rotation_end),
    "team_create": (
        Action.TEAM_CREATED,
        lambda c: lambda: services.team_create(actor=c.admin, name="Credit Risk"),
    ),
    "team_member_add": (Action.TEAM_MEMBER_ADDED, _team_member_add),
    "team_member_remove": (Action.TEAM_MEMBER_REMOVED, _team_member_remove),
    "team_maintainer_add": (
        Action.TEAM_MAINTAINER_ADDED,
        lambda c: lambda: services.team_maintainer_add(actor=c.admin, team=c.team, user=c.member),
    ),
    "team_maintainer_remove": (Action.TEAM_MAINTAINER_REMOVED, _team_maintainer_remove),
    "model_create": (
        Action.MODEL_CREATED,
        lambda c: lambda: c.make_model(name="churn-predictor"),
    ),
    "model_update": (
        Action.MODEL_UPDATED,
        lambda c: (
            lambda: services.model_update(
                actor=c.member, model=c.model, description="Scores every card payment."
            )
        ),
    ),
    "model_permission_grant": (
        Action.PERMISSION_GRANTED,
        lambda c: (
            lambda: services.model_permission_grant(actor=c.member, model=c.model, user=c.outsider)
        ),
    ),
    "model_permission_revoke": (Action.PERMISSION_REVOKED, _permission_revoke),
    "version_register": (Action.VERSION_REGISTERED, lambda c: lambda: c.make_version(c.model)),
    "version_update": (
        Action.VERSION_UPDATED,
        lambda c: (
            lambda: services.version_update(
                actor=c.member, version=c.version, release_notes="Retrained on Q4."
            )
        ),
    ),
    "artifact_attach": (Action.ARTIFACT_UPLOADED, _artifact_attach),
    "artifact_download": (Action.ARTIFACT_DOWNLOADED, _artifact_download),
    "metrics_attach": (
        Action.METRICS_ATTACHED,
        lambda c: (
            lambda: services.metrics_attach(
                actor=c.member, version=c.version, metrics=[{"name": "f1", "value": 0.7}]
            )
        ),
    ),
    "params_attach": (
        Action.PARAMS_ATTACHED,
        lambda c: (
            lambda: services.params_attach(
                actor=c.member, version=c.version, hyperparameters={"learning_rate": 0.05}
            )
        ),
    ),
    "lineage_attach": (Action.LINEAGE_ATTACHED, _lineage_attach),
    "data_versions_attach": (
        Action.DATA_VERSIONS_ATTACHED,
        lambda c: (
            lambda: services.data_versions_attach(
                actor=c.member,
                version=c.version,
                data_versions=[
                    {
                        "dataset": "payments",
                        "version_or_uri": "s3://data/payments/2024-10",
                        "classification": "confidential",
                    }
                ],
            )
        ),
    ),
    "card_update": (Action.CARD_UPDATED, _card_update),
    "token_create": (
        Action.TOKEN_CREATED,
        lambda c: lambda: services.token_create(actor=c.member, name="training pipeline"),
    ),
    "token_revoke": (Action.TOKEN_REVOKED, _token_revoke),
    "export_record": (
        AuditAction.AUDIT_EXPORTED,
        lambda c: (
            lambda: audit_services.export_record(
                actor=c.auditor, kind="events-csv", filters={"action": "registry.model.updated"}
            )
        ),
    ),
    "transition_request": (ApprovalAction.REQUESTED, _transition_request),
    "transition_withdraw": (ApprovalAction.WITHDRAWN, _transition_withdraw),
    "review_approve": (ApprovalAction.APPROVED, _review_approve),
    "review_reject": (ApprovalAction.REJECTED, _review_reject),
    "transition_apply": (ApprovalAction.APPLIED, _transition_apply),
    "rollback_emergency": (ApprovalAction.ROLLED_BACK, _rollback_emergency),
    "policy_publish": (
        ApprovalAction.POLICY_PUBLISHED,
        lambda c: (
            lambda: approvals.policy_publish(
                actor=c.admin,
                stage="production",
                risk_tier="high",
                rules={"required_approvals": 3},
                reason="High-risk models need a third approver.",
            )
        ),
    ),
    "approver_grant": (
        ApprovalAction.APPROVER_GRANTED,
        lambda c: (
            lambda: approvals.approver_grant(
                actor=c.admin, stage="production", team=c.team, user=c.outsider
            )
        ),
    ),
    "approver_revoke": (ApprovalAction.APPROVER_REVOKED, _approver_revoke_stage),
    "model_risk_tier_set": (
        Action.MODEL_RISK_TIER_CHANGED,
        lambda c: (
            lambda: services.model_risk_tier_set(
                actor=c.admin, model=c.model, risk_tier="high", reason="It now blocks payments."
            )
        ),
    ),
    "verification_start": (
        AuditAction.AUDIT_VERIFICATION_STARTED,
        lambda c: lambda: audit_services.verification_start(actor=c.auditor),
    ),
}

# Reads: public, but they change nothing a person would audit.
READS = {
    "aliases_protected": lambda c: lambda: services.aliases_protected(),
    "alias_is_protected": lambda c: lambda: services.alias_is_protected(c.model, "champion"),
    "alias_clean_name": lambda c: lambda: services.alias_clean_name("challenger"),
    "token_authenticate": lambda c: lambda: services.token_authenticate(c.secret),
    "parse_parent_ref": lambda c: (
        lambda: services.parse_parent_ref(
            {"model": c.model.name, "version": 1, "relation": "derived_from"}
        )
    ),
}
# The primitive every write path calls, tested on its own in test_event_record.py, and
# its parts for a write that appends its event in its own statement (registration).
WRITER = {"event_record", "event_fields", "event_append_sql", "event_appended"}
# The webhook outbox: rows written inside a promotion's transaction (its event records
# the promotion) and the sending's own attempt log, shown on the delivery pages rather
# than in the audit log (tests/registry/test_deliveries.py). A receiver's 410, which
# disables a target, is audited there.
OUTBOX = {"deliveries_enqueue", "deliveries_claim", "deliveries_due", "delivery_send"}

SERVICE_MODULES = ["registry.services", "audit.services", "approvals.services"]


def _public_services() -> set[str]:
    names = set()
    for module_name in SERVICE_MODULES:
        if importlib.util.find_spec(module_name) is None:
            continue  # the approvals app has no services yet
        module = importlib.import_module(module_name)
        names |= set(module.__all__)
    return names


@pytest.fixture
def c(
    django_user_model, admin_user, team, member, outsider, model, version, make_model, make_version
):
    return SimpleNamespace(
        users=django_user_model,
        admin=admin_user,
        team=team,
        member=member,
        outsider=outsider,
        model=model,
        version=version,
        make_model=make_model,
        make_version=make_version,
    )


@pytest.fixture
def ctx(c, auditor):
    c.auditor = auditor
    _, c.secret = services.token_create(actor=c.member, name="reader")
    return c


def _last_sequence() -> int:
    return AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0


def test_every_public_service_is_accounted_for():
    unlisted = _public_services() - set(WRITES) - set(READS) - WRITER - OUTBOX
    assert not unlisted, f"add these services to WRITES (with their action) or READS: {unlisted}"
    assert set(WRITES) | set(READS) <= _public_services(), "the table lists a removed service"


@pytest.mark.parametrize("name", sorted(WRITES))
def test_each_write_records_exactly_one_event_with_its_action(ctx, name):
    action, setup = WRITES[name]
    call = setup(ctx)
    before = _last_sequence()
    call()
    new = list(AuditEvent.objects.filter(sequence__gt=before))
    assert [e.action for e in new] == [action]
    assert new[0].sequence == before + 1
    assert chain_check().ok


@pytest.mark.parametrize("name", sorted(WRITES))
def test_a_write_that_rolls_back_leaves_no_event(ctx, name):
    _, setup = WRITES[name]
    call = setup(ctx)
    before, head = _last_sequence(), ChainHead.objects.get().hash

    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned), transaction.atomic():
        call()
        raise Abandoned

    assert _last_sequence() == before
    assert ChainHead.objects.get().hash == head
    # The next write continues the chain without a gap.
    services.team_create(actor=ctx.admin, name="After Rollback")
    assert _last_sequence() == before + 1
    assert chain_check().ok


@pytest.mark.parametrize("name", sorted(READS))
def test_reads_record_nothing(ctx, name):
    call = READS[name](ctx)
    before = _last_sequence()
    call()
    assert _last_sequence() == before


def test_a_refused_write_records_nothing(ctx):
    before = _last_sequence()
    with pytest.raises(Exception, match="Only members"):
        services.model_update(actor=ctx.outsider, model=ctx.model, description="Hijacked")
    assert _last_sequence() == before
