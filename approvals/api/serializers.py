"""Serializers of the approvals API: the request bodies it accepts (checked for shape
only; the services decide what is allowed) and the answers it gives (for the schema)."""

from django.conf import settings
from rest_framework import serializers

from registry.api.fields import StrictInputMixin
from registry.api.serializers.models import api_reverse
from registry.services import alias_is_protected
from registry.stages import Stage

from ..models import TARGET_STAGE_CHOICES, RequestKind, RequestState

REASON_HELP = (
    f"Why, in at least {settings.APPROVAL_REASON_MIN_CHARS} characters and three words; "
    "it is kept for ever in the audit log."
)

# --- Bodies and parameters ------------------------------------------------------------


class TransitionRequestCreateSerializer(StrictInputMixin, serializers.Serializer):
    to_stage = serializers.ChoiceField(choices=TARGET_STAGE_CHOICES)
    reason = serializers.CharField(
        min_length=settings.APPROVAL_REASON_MIN_CHARS,
        max_length=settings.APPROVAL_REASON_MAX_CHARS,
        help_text=REASON_HELP,
        # The service's words (it also counts the words, which no schema can state).
        error_messages={
            "min_length": "Say why in at least {min_length} characters and three words; "
            "it is kept for ever."
        },
    )


class CommentSerializer(StrictInputMixin, serializers.Serializer):
    comment = serializers.CharField(
        max_length=settings.APPROVAL_REASON_MAX_CHARS,
        required=False,
        allow_blank=True,
        default="",
        help_text="Optional; shown on the request and kept in the audit log.",
    )


class RejectSerializer(StrictInputMixin, serializers.Serializer):
    comment = serializers.CharField(
        max_length=settings.APPROVAL_REASON_MAX_CHARS,
        help_text="Why you reject it; the requester reads this.",
    )


class GatesParamsSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(
        choices=TARGET_STAGE_CHOICES, help_text="The stage a request would ask for."
    )


# --- Answers ----------------------------------------------------------------------------


class GateSerializer(serializers.Serializer):
    check = serializers.CharField(help_text="What is checked, e.g. 'Threshold: auc on holdout'.")
    required = serializers.CharField(help_text="What the policy requires.")
    actual = serializers.CharField(help_text="What the version has.")
    passed = serializers.BooleanField()


class PolicyRuleSerializer(serializers.Serializer):
    rule = serializers.CharField()
    requirement = serializers.CharField()


class PolicySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField(help_text="Policies are versioned; this is the version.")
    where = serializers.CharField(help_text="Where it is set: organisation, team or model.")
    why = serializers.CharField(help_text="Why this policy applies.")
    required_approvals = serializers.IntegerField()
    separation_of_duties = serializers.BooleanField(
        help_text="Whether the requester and the version's author are kept from approving."
    )
    rules = PolicyRuleSerializer(many=True)


class RequestRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField()


class _RequestFields(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField()
    web_url = serializers.URLField(help_text="The request's page, with the review buttons.")
    kind = serializers.ChoiceField(choices=RequestKind.choices)
    alias = serializers.CharField(
        help_text="The protected alias a request of kind 'alias' points at the version "
        "(its to_stage is Production, whose policy and approvers judge it); empty otherwise."
    )
    state = serializers.ChoiceField(
        choices=RequestState.choices,
        help_text="open: waiting for approvals; blocked: approved but a gate fails; "
        "applied, rejected, withdrawn: closed.",
    )
    model = serializers.CharField()
    version = serializers.IntegerField()
    from_stage = serializers.ChoiceField(choices=Stage.choices)
    to_stage = serializers.ChoiceField(choices=TARGET_STAGE_CHOICES)
    reason = serializers.CharField()
    requester = serializers.CharField()
    created_at = serializers.DateTimeField()
    gates_passed = serializers.BooleanField(help_text="At the last evaluation of the gates.")
    blocked_reason = serializers.CharField(help_text="Why an approved request has not applied.")
    closed_at = serializers.DateTimeField(allow_null=True)
    closed_by = serializers.CharField(allow_null=True)
    close_comment = serializers.CharField()


class TransitionRequestSerializer(_RequestFields):
    """A transition request as lists show it: its stored state, without re-evaluation."""

    url = serializers.SerializerMethodField()
    web_url = serializers.SerializerMethodField(
        help_text="The request's page, with the review buttons."
    )
    model = serializers.CharField(source="model.name")
    version = serializers.IntegerField(source="version.number")
    requester = serializers.CharField(source="requester.username")
    closed_by = serializers.CharField(source="closed_by.username", allow_null=True)

    def get_url(self, request) -> str:
        return api_reverse(self.context, "approvals_api:request-detail", request.pk)

    def get_web_url(self, request) -> str:
        return api_reverse(self.context, "approvals:request", request.pk)


class ApprovalSerializer(serializers.Serializer):
    reviewer = serializers.CharField()
    at = serializers.DateTimeField()
    comment = serializers.CharField()
    counts = serializers.BooleanField(
        allow_null=True,
        help_text="Whether it still counts towards the quorum (false once what it approved "
        "changed); null once the request is closed (its audit event, event_hash, lists the "
        "approvals that counted).",
    )
    stale = serializers.ListField(
        child=serializers.CharField(),
        help_text="What changed since it was given, e.g. 'the metrics'; empty while it counts.",
    )


class RejectionSerializer(serializers.Serializer):
    reviewer = serializers.CharField()
    at = serializers.DateTimeField()
    comment = serializers.CharField()


class YourActionsSerializer(serializers.Serializer):
    """What the caller may do with the request now."""

    approve = serializers.BooleanField()
    reject = serializers.BooleanField()
    withdraw = serializers.BooleanField()
    apply = serializers.BooleanField(help_text="Check an approved, blocked request again.")


class RequestLinksSerializer(serializers.Serializer):
    version = serializers.URLField()
    model = serializers.URLField()
    approve = serializers.URLField()
    reject = serializers.URLField()
    withdraw = serializers.URLField()
    apply = serializers.URLField()


class TransitionRequestDetailSerializer(_RequestFields):
    """A request with its policy, gates and approvals: evaluated now while it is pending,
    as recorded once it is closed."""

    policy = PolicySerializer()
    gates = GateSerializer(many=True)
    gates_checked_at = serializers.DateTimeField(allow_null=True)
    replaces_version = serializers.IntegerField(
        allow_null=True, help_text="The production version it would archive, if any."
    )
    approvals_required = serializers.IntegerField()
    approvals_missing = serializers.IntegerField(
        allow_null=True, help_text="How many more approvals it needs; null once closed."
    )
    approvals = ApprovalSerializer(many=True)
    rejections = RejectionSerializer(many=True)
    approvers = serializers.ListField(
        child=serializers.CharField(), help_text="The named approvers for this stage."
    )
    may_still_approve = serializers.ListField(
        child=serializers.CharField(),
        help_text="Named approvers who may approve it now: not the requester, not the "
        "version's author under separation of duties, not those whose approval counts.",
    )
    you = YourActionsSerializer()
    event_hash = serializers.CharField(
        help_text="The chain hash of the audit event that closed it; empty while pending."
    )
    links = RequestLinksSerializer()


class GatesPreviewSerializer(serializers.Serializer):
    """The dry run: what a request would be judged on if filed now. Files nothing."""

    model = serializers.CharField()
    version = serializers.IntegerField()
    from_stage = serializers.ChoiceField(choices=Stage.choices)
    to_stage = serializers.ChoiceField(choices=TARGET_STAGE_CHOICES)
    policy = PolicySerializer()
    gates = GateSerializer(many=True)
    gates_passed = serializers.BooleanField()
    replaces_version = serializers.IntegerField(
        allow_null=True, help_text="The production version it would archive, if any."
    )
    approvals_required = serializers.IntegerField()
    approvers = serializers.ListField(
        child=serializers.CharField(), help_text="The named approvers for this stage."
    )
    eligible_approvers = serializers.ListField(
        child=serializers.CharField(),
        help_text="Who could approve a request you file: the named approvers except you "
        "and, under separation of duties, the version's author.",
    )
    can_request = serializers.BooleanField(help_text="Whether you may file this request.")
    pending_request = RequestRefSerializer(
        allow_null=True, help_text="A request for this move already waiting."
    )
    problems = serializers.ListField(
        child=serializers.CharField(),
        help_text="Everything that keeps the version from reaching the stage, in sentences: "
        "failing gates, a move the state machine refuses, too few eligible approvers, a "
        "request already waiting, not being allowed to request. Empty when nothing does.",
    )


# --- Aliases ------------------------------------------------------------------------------


class AliasSetSerializer(StrictInputMixin, serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text="The version number to point at.")
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=settings.APPROVAL_REASON_MAX_CHARS,
        help_text="Required for a protected alias (a request is filed): "
        + REASON_HELP
        + " Ignored for others.",
    )


class AliasSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="As first set; names ignore case.")
    version = serializers.IntegerField(source="version.number")
    version_url = serializers.SerializerMethodField()
    protected = serializers.SerializerMethodField(
        help_text="Whether setting it needs an approved request (MODELGATE_PROTECTED_ALIASES)."
    )
    set_by = serializers.CharField(source="set_by.username")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField(help_text="When it was last set or moved.")
    url = serializers.SerializerMethodField()

    def get_version_url(self, alias) -> str:
        return api_reverse(
            self.context, "api:version-detail", alias.model.name, alias.version.number
        )

    def get_protected(self, alias) -> bool:
        return alias_is_protected(alias.model, alias.name)

    def get_url(self, alias) -> str:
        return api_reverse(self.context, "approvals_api:alias-detail", alias.model.name, alias.name)


class AliasRequestRefSerializer(RequestRefSerializer):
    web_url = serializers.URLField(help_text="The request's page, where approvers review it.")


class AliasRequestedSerializer(serializers.Serializer):
    """A protected alias: nothing is set yet, a request waits for approval."""

    detail = serializers.CharField()
    request = AliasRequestRefSerializer()
