from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """Stable cursor pages, newest first; ids are unique and monotonic, unlike timestamps."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 500
