from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from ..selectors import MAX_PER_PAGE


class PagePagination(PageNumberPagination):
    """Pages with numbers, like the catalog: ?page=2&per_page=50."""

    page_size = 50
    page_size_query_param = "per_page"
    max_page_size = MAX_PER_PAGE

    def get_paginated_response(self, data):
        page = self.page
        return Response(
            {
                "count": page.paginator.count,
                "page": page.number,
                "num_pages": page.paginator.num_pages,
                "next": page.next_page_number() if page.has_next() else None,
                "previous": page.previous_page_number() if page.has_previous() else None,
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        number = {"type": "integer", "nullable": True}
        return {
            "type": "object",
            "required": ["count", "page", "num_pages", "next", "previous", "results"],
            "properties": {
                "count": {"type": "integer"},
                "page": {"type": "integer"},
                "num_pages": {"type": "integer"},
                "next": number,
                "previous": number,
                "results": schema,
            },
        }
