"""The <time> elements pages show: machine-readable instant, readable text."""

from datetime import UTC, datetime, timedelta

from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import timezone

from registry.templatetags.registry_tags import ago, timestamp

WHEN = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def test_each_style_shows_the_instant_and_readable_text():
    iso = 'datetime="2026-03-04T05:06:07+00:00"'
    assert timestamp(WHEN) == f"<time {iso}>2026-03-04 05:06</time>"
    assert timestamp(WHEN, "seconds") == f"<time {iso}>2026-03-04 05:06:07</time>"
    assert timestamp(WHEN, "date") == f'<time {iso} title="2026-03-04 05:06 UTC">2026-03-04</time>'


def test_relative_style_says_how_long_ago_with_the_full_time_as_title():
    html = timestamp(timezone.now() - timedelta(hours=3), "relative")
    assert ">3\xa0hours ago</time>" in html and 'title="' in html


def test_no_time_renders_nothing():
    assert timestamp(None) == ""


def test_relative_text_says_what_naturaltime_says_within_a_day():
    now = timezone.now()
    for seconds in (0, 1, 2, 59, 60, 61, 119, 120, 3599, 3600, 3601, 7200, 86399):
        then = now - timedelta(seconds=seconds)
        assert ago(then, now) == naturaltime(then), seconds


def test_relative_text_past_a_day_gives_two_units():
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    assert ago(now - timedelta(days=1), now) == "1\xa0day ago"
    assert ago(now - timedelta(days=2, hours=3), now) == "2\xa0days, 3\xa0hours ago"
    assert ago(now - timedelta(days=9), now) == "1\xa0week, 2\xa0days ago"
    assert ago(now - timedelta(days=400), now) == "1\xa0year, 1\xa0month ago"
    assert ago(now - timedelta(days=3, minutes=5), now) == "3\xa0days ago"
