"""The landing page's facets scan every model, so they are cached for a minute and
dropped by this process's own writes (`catalog_changed`, called by `search_refresh`)."""

from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.db import transaction

T = TypeVar("T")

UNFILTERED_FACETS_SECONDS = 60
UNFILTERED_FACETS_KEY = "catalog:unfiltered-facets:v2"  # v2: with distinct-value totals


def unfiltered_facets(compute: Callable[[], T]) -> T:
    """The unfiltered catalog's facets, from the cache or computed and cached."""
    return cache.get_or_set(UNFILTERED_FACETS_KEY, compute, UNFILTERED_FACETS_SECONDS)


def catalog_changed() -> None:
    """Drop cached catalog-wide facet counts once the current transaction commits.

    Robust: a cache that fails after the commit is logged; it must not turn a saved
    change into an error (the cached counts expire on their own)."""
    transaction.on_commit(lambda: cache.delete(UNFILTERED_FACETS_KEY), robust=True)
