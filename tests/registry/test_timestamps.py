"""The <time> elements pages show: machine-readable instant, readable text."""

from datetime import UTC, datetime, timedelta

from django.utils import timezone

from registry.templatetags.registry_tags import timestamp

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
