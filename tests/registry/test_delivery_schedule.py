"""The retry schedule of webhook deliveries (registry/deployments/schedule.py)."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from registry.deployments.schedule import parse_retry_after, retry_delay

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def defaults(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    settings.WEBHOOK_MAX_ATTEMPTS = 10
    settings.WEBHOOK_RETRY_AFTER_MAX_SECONDS = 3600
    return settings


class Middle:
    """No jitter: uniform() returns the middle of its range."""

    @staticmethod
    def uniform(a, b):
        return (a + b) / 2


def test_the_default_schedule_doubles_and_spans_hours(defaults):
    delays = [retry_delay(n, rng=Middle).total_seconds() for n in range(1, 10)]
    assert delays == [30, 60, 120, 240, 480, 960, 1920, 3840, 7680]
    assert 4 * 3600 < sum(delays) < 5 * 3600  # the 10th attempt comes ~4 h 15 min later


def test_jitter_stays_within_a_fifth(defaults):
    rng = random.Random(7)
    for _ in range(200):
        assert 24 <= retry_delay(1, rng=rng).total_seconds() <= 36


def test_retry_after_lengthens_the_wait_but_is_bounded(defaults):
    assert retry_delay(1, retry_after=600, rng=Middle) == timedelta(seconds=600)
    assert retry_delay(1, retry_after=5, rng=Middle) == timedelta(seconds=30)
    assert retry_delay(1, retry_after=10**9, rng=Middle) == timedelta(seconds=3600)


@pytest.mark.parametrize(
    "header, seconds",
    [
        ("120", 120),
        ("Wed, 02 Dec 2026 12:05:00 GMT", 300),
        ("Wed, 02 Dec 2026 11:00:00 GMT", 0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_seconds_or_a_date(header, seconds):
    assert parse_retry_after(header, now=NOW) == seconds
