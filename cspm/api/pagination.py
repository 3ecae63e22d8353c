"""Pagination: pages of 50 by default, ``page_size`` up to 500.

Lists use page numbers (``?page=2&page_size=200``) and report a total ``count``. Findings, of
which there may be millions, use a cursor instead (``next``/``previous`` links, no count): a
deep page costs the same as the first, and rows written by a running scan never shift a page.
"""

from __future__ import annotations

from rest_framework.pagination import CursorPagination, PageNumberPagination

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


class PagePagination(PageNumberPagination):
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


class IdCursorPagination(CursorPagination):
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    ordering = "-id"
