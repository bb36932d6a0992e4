"""Proposals from the public: a new place or a correction, kept for reviewers.

A proposal never changes the catalogue by itself: a new place becomes a draft (not public),
a correction stays a request attached to its place. Spam is held off by a honeypot field and
a per-address rate limit kept in the cache (the address is hashed there and never stored in
the database); contact details are erased by `purge_proposals` once they are no longer needed.
"""

import datetime
import hashlib
import ipaddress
import secrets

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.core.validators import MaxLengthValidator
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .models import EditorialStatus, Place, Proposal

RATE_LIMIT = 5  # proposals per address...
RATE_WINDOW = 3600  # ...per this many seconds
HONEYPOT = "homepage"
REVIEWED_STATUSES = [Proposal.Status.ACCEPTED, Proposal.Status.REJECTED]


def contact_days():
    """Days a pending proposal keeps its sender's contact details."""
    return getattr(settings, "PROPOSAL_CONTACT_DAYS", 90)


def reviewed_contact_days():
    """Days a reviewed proposal keeps them: time enough to answer the sender."""
    return getattr(settings, "PROPOSAL_REVIEWED_CONTACT_DAYS", 14)


class ProposalForm(forms.ModelForm):
    # A field people never see (hidden with CSS, and from screen readers): robots fill it.
    homepage = forms.CharField(
        label=_("Leave this field empty"), required=False, widget=forms.TextInput()
    )
    website = forms.URLField(
        label=_("Website"), max_length=300, required=False, assume_scheme="https"
    )

    class Meta:
        model = Proposal
        fields = [
            "place_name",
            "commune",
            "website",
            "message",
            "evidence",
            "contact_name",
            "contact_email",
        ]
        labels = {
            "place_name": _("Name of the place"),
            "commune": _("Town"),
            "evidence": _("Where does the information come from?"),
            "contact_name": _("Your name"),
            "contact_email": _("Your e-mail address"),
        }
        help_texts = {
            "evidence": _("A document, a web page, an interview… (optional)"),
            "contact_email": _("Optional: only to ask you a question or tell you the outcome."),
        }
        widgets = {
            "message": forms.Textarea(attrs={"rows": 6, "maxlength": 5000}),
            "evidence": forms.Textarea(attrs={"rows": 3, "maxlength": 2000}),
        }

    def __init__(self, *args, place=None, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.place = place
        for name, limit in (("message", 5000), ("evidence", 2000)):
            self.fields[name].validators.append(MaxLengthValidator(limit))
        self.fields[HONEYPOT].widget.attrs.update(tabindex="-1", autocomplete="off")
        if place is None:
            self.fields["place_name"].required = True
            self.fields["message"].label = _("What is this place, what does it offer?")
        else:
            for name in ("place_name", "commune", "website"):
                del self.fields[name]
            self.fields["message"].label = _("What is wrong, and what should the page say?")

    @property
    def is_spam(self):
        return bool(self.data.get(HONEYPOT, "").strip())

    def save(self, commit=True):
        proposal = super().save(commit=False)
        if self.place is None:
            proposal.kind = Proposal.Kind.NEW_PLACE
        else:
            proposal.kind = Proposal.Kind.CORRECTION
            proposal.place = self.place
        if commit:
            with transaction.atomic():
                if proposal.kind == Proposal.Kind.NEW_PLACE:
                    proposal.draft_place = create_draft_place(proposal.place_name)
                proposal.save()
        return proposal


def create_draft_place(name):
    """A draft place with the proposed name only: nothing the public wrote gets published.

    Reviewers complete it from the proposal, then publish it (or delete it).
    """
    base = slugify(name)[:100] or "lieu-propose"
    candidates = [base, *(f"{base}-{n}" for n in range(2, 20))]
    taken = set(Place.objects.filter(slug__in=candidates).values_list("slug", flat=True))
    slug = next((c for c in candidates if c not in taken), f"{base}-{secrets.token_hex(3)}")
    try:
        with transaction.atomic():
            return Place.objects.create(
                name=name, slug=slug, editorial_status=EditorialStatus.DRAFT
            )
    except IntegrityError:
        # Someone took the slug in the meantime.
        slug = f"{base}-{secrets.token_hex(3)}"
        return Place.objects.create(name=name, slug=slug, editorial_status=EditorialStatus.DRAFT)


def client_key(request):
    """A hash of the sender's address (its /64 network for IPv6) for the rate limit.

    Behind the TLS proxy (BEHIND_TLS_PROXY), the address is the last one the proxy appended
    to X-Forwarded-For; anything before it could be made up by the client.
    """
    address = request.META.get("REMOTE_ADDR", "")
    if settings.SECURE_PROXY_SSL_HEADER:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded.strip():
            address = forwarded.split(",")[-1].strip()
    try:
        ip = ipaddress.ip_address(address)
        if ip.version == 6:
            address = str(ipaddress.ip_network(f"{ip}/64", strict=False))
    except ValueError:
        pass
    digest = hashlib.sha256(f"{settings.SECRET_KEY}|{address}".encode()).hexdigest()
    return f"proposal-rate:{digest[:32]}"


def rate_limited(key):
    return (cache.get(key) or 0) >= RATE_LIMIT


def count_submission(key):
    # The window starts with the first proposal and lasts RATE_WINDOW seconds.
    if not cache.add(key, 1, RATE_WINDOW):
        try:
            cache.incr(key)
        except ValueError:  # expired between the two calls
            cache.add(key, 1, RATE_WINDOW)


@never_cache
@require_http_methods(["GET", "POST"])
def proposal_create(request):
    slug = request.GET.get("lieu", "").strip()
    if "\x00" in slug:  # PostgreSQL refuses it in a query: no such place
        raise Http404
    place = get_object_or_404(Place.objects.public(), slug=slug) if slug else None
    status = 200
    if request.method == "POST":
        form = ProposalForm(request.POST, place=place)
        key = client_key(request)
        if rate_limited(key):
            status = 429
        elif form.is_spam:
            # Robots get the same answer as people, and nothing is stored.
            count_submission(key)
            return redirect("catalogue:proposal-thanks")
        elif form.is_valid():
            form.save()
            count_submission(key)
            return redirect("catalogue:proposal-thanks")
    else:
        form = ProposalForm(place=place)
    context = {
        "form": form,
        "place": place,
        "rate_limited": status == 429,
        "contact_days": contact_days(),
        "reviewed_contact_days": reviewed_contact_days(),
    }
    return render(request, "catalogue/proposal_form.html", context, status=status)


def proposal_thanks(request):
    return render(request, "catalogue/proposal_thanks.html")


def pending_count():
    return Proposal.objects.filter(status=Proposal.Status.PENDING).count()


def purge_contact_data(now=None):
    """Erase the senders' names and e-mail addresses once they are no longer needed.

    Kept PROPOSAL_CONTACT_DAYS days after receipt at most, and PROPOSAL_REVIEWED_CONTACT_DAYS
    days after a reviewer accepted or rejected the proposal. Returns how many were erased.
    """
    now = now or timezone.now()
    received_before = now - datetime.timedelta(days=contact_days())
    reviewed_before = now - datetime.timedelta(days=reviewed_contact_days())
    return (
        Proposal.objects.filter(
            Q(created_at__lt=received_before)
            | Q(reviewed_at__lt=reviewed_before, status__in=REVIEWED_STATUSES)
        )
        .exclude(contact_name="", contact_email="")
        .update(contact_name="", contact_email="")
    )
