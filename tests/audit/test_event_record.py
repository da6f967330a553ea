"""What event_record writes: the fields, the chain link, masked secrets, and a hash that
still verifies after the values have been through the database."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.test import RequestFactory

from audit.context import RequestContextMiddleware, set_token
from audit.models import ActorKind, AuditEvent
from audit.services import (
    GENESIS_HASH,
    MASK,
    AuditError,
    event_hash,
    event_record,
    hashed_fields_of,
)
from audit.verification import chain_check
from registry.audit_actions import Action
from tests.audit.sample_actions import SampleAction

pytestmark = pytest.mark.django_db


def _within_request(func, **meta):
    """Run `func` as a view would: inside the middleware that records who is asking."""
    request = RequestFactory().get("/", **meta)
    return RequestContextMiddleware(lambda request: func())(request)


def test_events_are_numbered_from_one_and_linked_to_the_previous_hash(admin_user):
    first = event_record(actor=admin_user, action=Action.TEAM_CREATED, object_type="team")
    second = event_record(actor=None, action=Action.TEAM_CREATED, object_type="team")
    assert (first.sequence, second.sequence) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash
    assert first.created_at <= second.created_at
    assert (second.actor_kind, second.actor_name, second.actor_id) == ("system", "system", None)


def test_the_stored_event_rehashes_to_its_hash(version, member):
    event = AuditEvent.objects.filter(action=Action.VERSION_REGISTERED).get()
    fresh = AuditEvent.objects.get(pk=event.pk)
    assert event_hash(hashed_fields_of(fresh), fresh.prev_hash) == fresh.hash
    assert (fresh.model_name, fresh.version_number, fresh.actor_name) == (
        version.model.name,
        version.number,
        member.username,
    )


def test_awkward_values_still_verify_after_the_database_round_trip(admin_user):
    """jsonb turns 1e16 into an integer, inet compresses IPv6, Decimals and dates are
    not JSON: the chain must verify anyway, on PostgreSQL and on SQLite."""
    changes = {
        "big": 1e16,
        "huge": 1.5e300,
        "small": 1e-7,
        "whole": 2.0,
        "price": Decimal("19.90"),
        "when": dt.date(2024, 2, 29),
        "nan": float("nan"),
        "text": 'Grüße, 日本語, emoji 🚀, quote " and backslash \\',
        "nested": {"b": [1, 2.5, None, True], "a": {}},
    }
    _within_request(
        lambda: event_record(
            actor=admin_user, action=SampleAction.MEASURED, reason="Ünïcode", changes=changes
        ),
        REMOTE_ADDR="::FFFF:10.1.2.3",
        HTTP_USER_AGENT="pytest/1.0",
    )
    _within_request(
        lambda: event_record(actor=admin_user, action=Action.MODEL_UPDATED),
        REMOTE_ADDR="2001:0DB8:0000:0000:0000:0000:0000:0001",
    )
    result = chain_check()
    assert result.ok, result.summary()
    assert result.events_checked == 2
    stored = AuditEvent.objects.get(sequence=1)
    assert stored.ip_address == "::ffff:10.1.2.3"
    assert stored.user_agent == "pytest/1.0"
    assert stored.changes["price"] == "19.90"
    assert stored.changes["nan"] == "nan"


def test_secret_values_are_masked_but_ordinary_keys_are_not(admin_user):
    event = event_record(
        actor=admin_user,
        action=Action.PARAMS_ATTACHED,
        changes={
            "hyperparameters": {
                "tokenizer": "bert-base",
                "max_tokens": 512,
                "api_key": "abc",
                "webhookSecret": "s3cr3t",
                "DB_PASSWORD": "hunter2",
                "note": "pasted mg_0123abcd_" + "x" * 43 + " by mistake",
            }
        },
    )
    params = AuditEvent.objects.get(pk=event.pk).changes["hyperparameters"]
    assert params["tokenizer"] == "bert-base"
    assert params["max_tokens"] == 512
    assert params["api_key"] == params["webhookSecret"] == params["DB_PASSWORD"] == MASK
    assert params["note"] == f"pasted {MASK} by mistake"


def test_an_api_token_actor_is_recorded_as_a_token(member):
    def call():
        set_token("0123abcd")
        return event_record(actor=member, action=Action.MODEL_UPDATED)

    event = _within_request(call)
    assert event.actor_kind == ActorKind.TOKEN
    assert event.actor_name == member.username
    assert event.changes["_via_token"] == "0123abcd"


@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_write_outside_a_transaction(admin_user):
    with pytest.raises(AuditError, match="inside the transaction"):
        event_record(actor=admin_user, action=Action.TEAM_CREATED)
    assert AuditEvent.objects.count() == 0


def test_a_service_that_fails_after_recording_leaves_no_event_and_no_gap(admin_user):
    @transaction.atomic
    def fails_after_recording():
        event_record(actor=admin_user, action=Action.TEAM_CREATED, object_type="team")
        raise RuntimeError("the change failed after its event was written")

    event_record(actor=admin_user, action=Action.TEAM_CREATED, object_type="team")
    with pytest.raises(RuntimeError):
        fails_after_recording()
    after = event_record(actor=admin_user, action=Action.TEAM_CREATED, object_type="team")
    assert list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True)) == [
        1,
        2,
    ]
    assert after.prev_hash == AuditEvent.objects.get(sequence=1).hash
    assert chain_check().ok
