from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from ..search import MAX_PER_PAGE

DEFAULT_PER_PAGE = 50


class PageParamsSerializer(serializers.Serializer):
    """?page= and ?per_page=, refused with a 400 when malformed instead of ignored."""

    page = serializers.IntegerField(min_value=1, required=False, help_text="From 1.")
    per_page = serializers.IntegerField(
        min_value=1,
        max_value=MAX_PER_PAGE,
        required=False,
        help_text=f"1-{MAX_PER_PAGE}, default {DEFAULT_PER_PAGE}.",
    )


class PagePagination(PageNumberPagination):
    """Pages with numbers, like the catalog: ?page=2&per_page=50. A page past the last
    is a 404."""

    page_size = DEFAULT_PER_PAGE
    page_size_query_param = "per_page"
    max_page_size = MAX_PER_PAGE

    def paginate_queryset(self, queryset, request, view=None):
        params = PageParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        self.params = params.validated_data
        return super().paginate_queryset(queryset, request, view)

    def get_page_number(self, request, paginator):
        return self.params.get("page", 1)

    def get_page_size(self, request):
        return self.params.get("per_page", self.page_size)

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "page",
                "in": "query",
                "required": False,
                "description": "Page number, from 1. A page past the last is a 404.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": "per_page",
                "in": "query",
                "required": False,
                "description": f"Results per page, 1-{MAX_PER_PAGE} (default {DEFAULT_PER_PAGE}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
            },
        ]

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
