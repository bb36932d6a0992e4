"""Pagination and content negotiation that answer 400, with the reason, to a malformed
page, page size or format instead of guessing or answering 404."""

from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation

MAX_PAGE_DIGITS = 9


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 20
    page_size_query_param = "per_page"
    max_page_size = 100

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or len(raw) > MAX_PAGE_DIGITS or not 1 <= int(raw) <= 100:
            raise ValidationError(
                {"per_page": [_("Give a whole number from 1 to %(max)d.") % {"max": 100}]}
            )
        return int(raw)

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param, "1")
        if not raw.isdigit() or len(raw) > MAX_PAGE_DIGITS or int(raw) < 1:
            raise ValidationError({"page": [_("Give a whole number from 1.")]})
        page_size = self.get_page_size(request)
        paginator = self.django_paginator_class(queryset, page_size)
        if int(raw) > paginator.num_pages:
            raise ValidationError(
                {
                    "page": [
                        ngettext(
                            "There is only %(pages)d page of results.",
                            "There are only %(pages)d pages of results.",
                            paginator.num_pages,
                        )
                        % {"pages": paginator.num_pages}
                    ]
                }
            )
        self.page = paginator.page(int(raw))
        self.request = request
        return list(self.page)

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["required"] = ["count", "results"]
        return response


class StrictNegotiation(DefaultContentNegotiation):
    """The API speaks JSON only: `?format=xml` is refused with a reason, not a 404."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except Http404:
            raise ValidationError(
                {"format": [_("The API answers in JSON only: leave out « format ».")]}
            ) from None
