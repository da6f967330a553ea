"""Links to models' and versions' pages, built without a URL reversal each.

A model page links to dozens of versions of other models (lineage, history); Django's
reverse() costs more than the rest of such a row's rendering. The pages' URL shapes are
read once per URL configuration and script prefix (by reversing a placeholder), so a
link is what reverse() would give.
"""

import functools
from urllib.parse import quote

from django.urls import get_script_prefix, get_urlconf, reverse
from django.urls.resolvers import RFC3986_SUBDELIMS

_NAME, _NUMBER = "MODELGATE-NAME-PLACEHOLDER", 987654321
_SAFE = RFC3986_SUBDELIMS + "/~:@"  # what reverse() leaves unquoted


@functools.lru_cache(maxsize=16)
def _shapes(script_prefix: str, urlconf) -> tuple[list[str], list[str]]:
    model = reverse("registry:model_detail", args=[_NAME], urlconf=urlconf)
    version = reverse("registry:version_detail", args=[_NAME, _NUMBER], urlconf=urlconf)
    return model.split(_NAME), version.split(_NAME)


def model_url(name: str) -> str:
    """reverse("registry:model_detail", args=[name])"""
    before, after = _shapes(get_script_prefix(), get_urlconf())[0]
    return f"{before}{quote(name, safe=_SAFE)}{after}"


def version_url(name: str, number: int) -> str:
    """reverse("registry:version_detail", args=[name, number])"""
    before, after = _shapes(get_script_prefix(), get_urlconf())[1]
    return f"{before}{quote(name, safe=_SAFE)}{after.replace(str(_NUMBER), str(int(number)))}"
