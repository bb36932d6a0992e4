"""Reviewers' side of the proposals from the public."""

from django.contrib import admin, messages
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import Proposal


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["subject", "kind", "created_at", "status", "draft_link", "reviewed_by"]
    list_filter = ["status", "kind"]
    search_fields = ["place_name", "commune", "message", "place__name"]
    list_select_related = ["place", "draft_place", "reviewed_by"]
    autocomplete_fields = ["place"]
    date_hierarchy = "created_at"
    actions = ["accept", "reject"]
    fields = [
        ("kind", "status"),
        "place_link",
        "draft_link",
        ("place_name", "commune"),
        "website",
        "message",
        "evidence",
        ("contact_name", "contact_email"),
        "created_at",
        ("reviewed_by", "reviewed_at"),
        "reviewer_note",
    ]
    readonly_fields = [
        "kind",
        "place_link",
        "draft_link",
        "place_name",
        "commune",
        "website",
        "message",
        "evidence",
        "contact_name",
        "contact_email",
        "created_at",
        "reviewed_by",
        "reviewed_at",
    ]

    def get_readonly_fields(self, request, obj=None):
        # An editor may record a proposal received by e-mail; once received, what the
        # sender wrote stays as it was sent.
        if obj is None:
            return ["place_link", "draft_link", "created_at", "reviewed_by", "reviewed_at"]
        return self.readonly_fields

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is None:
            fields = [("kind", "status"), "place", *fields[3:]]
        return fields

    @admin.display(description=_("proposal"), ordering="place_name")
    def subject(self, proposal):
        if proposal.place_id:
            return proposal.place.name
        return proposal.place_name or "—"

    @admin.display(description=_("place concerned"))
    def place_link(self, proposal):
        return self._change_link(proposal.place)

    @admin.display(description=_("draft created"))
    def draft_link(self, proposal):
        return self._change_link(proposal.draft_place)

    def _change_link(self, place):
        if place is None:
            return "—"
        url = reverse("admin:catalogue_place_change", args=[place.pk])
        return format_html('<a href="{}">{}</a>', url, place.name)

    def save_model(self, request, obj, form, change):
        if "status" in form.changed_data:
            self._mark_reviewed(obj, obj.status, request.user)
        super().save_model(request, obj, form, change)

    @staticmethod
    def _mark_reviewed(proposal, status, user):
        proposal.status = status
        if status == Proposal.Status.PENDING:
            proposal.reviewed_by = proposal.reviewed_at = None
        else:
            proposal.reviewed_by = user
            proposal.reviewed_at = timezone.now()

    def _review(self, request, queryset, status):
        now = timezone.now()
        count = queryset.filter(status=Proposal.Status.PENDING).update(
            status=status, reviewed_by=request.user, reviewed_at=now
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d proposal marked « %(status)s ».",
                "%(count)d proposals marked « %(status)s ».",
                count,
            )
            % {"count": count, "status": Proposal.Status(status).label},
            messages.SUCCESS,
        )

    @admin.action(description=_("Accept the selected proposals"), permissions=["change"])
    def accept(self, request, queryset):
        self._review(request, queryset, Proposal.Status.ACCEPTED)

    @admin.action(description=_("Reject the selected proposals"), permissions=["change"])
    def reject(self, request, queryset):
        self._review(request, queryset, Proposal.Status.REJECTED)
