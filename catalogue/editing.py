"""Editors' tools shared by the admin of both apps: history, optimistic locking, workflow.

- History: django-simple-history keeps every version of a record (who, when, what); the
  admin shows a field-level diff of each change, the history of the record's children
  (figures of a place, sections of a case study) on the parent's page, and restores any
  version as a new, recorded change.
- Optimistic locking: every edit form carries the version of the record it was opened on;
  saving checks it against the row, locked with SELECT … FOR UPDATE inside the admin's
  transaction, so that a stale form is refused instead of overwriting a newer save. Saving
  a child (a figure, a section) bumps its parent's version too.
- Workflow: draft → in review → published, or archived. Contributors edit their own drafts
  and send them for review; only users with the publish permission publish or archive.

`casestudies` imports this module; it never imports `casestudies`.
"""

import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.core.exceptions import PermissionDenied
from django.db import models, router, transaction
from django.db.models import Count, F, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Greatest, NullIf
from django.db.models.signals import post_delete, post_save
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper
from simple_history.utils import get_m2m_reverse_field_name

from .models import PUBLIC_STATUSES, EditorialStatus

# The hidden form field holding the version a form was opened on.
VERSION_FIELD = "version_opened"
# Statuses a contributor may set on their own records.
CONTRIBUTOR_STATUSES = [EditorialStatus.DRAFT, EditorialStatus.REVIEW]
# Stands for "no history" inside SQL expressions (SQLite's MAX() of several values is NULL
# as soon as one of them is).
_NO_DATE = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


# Children: records edited inline in a parent (figures of a place, sections of a case study)


# child model → name of its foreign key to the parent
_children = {}


def track_child(model, parent_field):
    """Saving or deleting a ``model`` row changes its parent: bump the parent's version (so
    that a form opened on the parent before is refused) and show the child's history on
    the parent's history page."""
    _children[model] = parent_field
    uid = f"editing-parent-{model._meta.label_lower}"
    post_save.connect(_bump_parent, sender=model, dispatch_uid=uid)
    post_delete.connect(_bump_parent, sender=model, dispatch_uid=f"{uid}-delete")


def children_of(model):
    """[(child model, foreign key field)] of the children tracked for ``model``."""
    found = []
    for child, name in _children.items():
        field = child._meta.get_field(name)
        if field.related_model is model:
            found.append((child, field))
    return found


def parent_field(model):
    """The foreign key from a tracked child model to its parent, or None."""
    name = _children.get(model)
    return model._meta.get_field(name) if name else None


def _bump_parent(sender, instance, **kwargs):
    field = sender._meta.get_field(_children[sender])
    parent_id = getattr(instance, field.attname)
    if parent_id is not None:
        field.related_model._default_manager.filter(pk=parent_id).update(version=F("version") + 1)


# Last modified: from the history of the record and of its children


def _latest_history(history_model, attname):
    return Subquery(
        history_model.objects.filter(**{attname: OuterRef("pk")})
        .order_by("-history_date")
        .values("history_date")[:1]
    )


def last_modified_expression(model):
    """When the record or one of its children last changed, from their history, as one SQL
    expression (correlated subqueries: no query per row); NULL without any history."""
    dates = [_latest_history(model.history.model, model._meta.pk.attname)]
    for child, field in children_of(model):
        if hasattr(child, "history"):
            dates.append(_latest_history(child.history.model, field.attname))
    if len(dates) == 1:
        return dates[0]
    return NullIf(Greatest(*(Coalesce(date, Value(_NO_DATE)) for date in dates)), Value(_NO_DATE))


def with_last_modified(queryset):
    """Annotate ``last_modified`` (see last_modified_expression)."""
    return queryset.annotate(last_modified=last_modified_expression(queryset.model))


# Workflow permissions


def publish_permission(model):
    opts = model._meta
    return f"{opts.app_label}.publish_{opts.model_name}"


def can_publish(user, model):
    return user.has_perm(publish_permission(model))


def has_workflow(model):
    return any(f.name == "editorial_status" for f in model._meta.get_fields())


def can_edit(user, obj):
    """Whether ``user`` may change ``obj`` beyond the model permission: reviewers change
    any record; contributors their own, while it is a draft or in review. A tracked child
    follows its parent."""
    if user.is_superuser:
        return True
    field = parent_field(type(obj))
    if field is not None:
        parent = getattr(obj, field.name)
        if parent is None:
            return can_publish(user, field.related_model)
        return can_edit(user, parent)
    if not has_workflow(type(obj)):
        return True
    if can_publish(user, type(obj)):
        return True
    return obj.created_by_id == user.pk and obj.editorial_status in CONTRIBUTOR_STATUSES


def can_preview(user, model):
    """Staff with the view permission see drafts at their public URL."""
    opts = model._meta
    return user.is_staff and user.has_perm(f"{opts.app_label}.view_{opts.model_name}")


def visible_or_404(request, obj):
    """Drafts and records in review exist only for staff who may preview them. Reading
    ``request.user`` only for those keeps public pages free of session lookups."""
    if obj.editorial_status not in PUBLIC_STATUSES and not can_preview(request.user, type(obj)):
        raise Http404
    return obj


def change_url(obj):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def changed_since(obj, version):
    """The names of the fields of ``obj`` changed since its version ``version`` (from its
    history; empty when that version is not recorded or only its children changed)."""
    history = getattr(type(obj), "history", None)
    if history is None:
        return []
    records = obj.history.all()
    opened = records.filter(version=version).first()
    latest = records.first()
    if opened is None or latest is None or opened.pk == latest.pk:
        return []
    excluded = {"version"}
    names = []
    for change in latest.diff_against(opened, excluded_fields=excluded).changes:
        field = type(obj)._meta.get_field(change.field)
        names.append(f"« {field.verbose_name} »")
    return names


def history_url(obj):
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[obj.pk])


def latest_change(obj):
    """The most recent history record of ``obj`` or of one of its children."""
    model = type(obj)
    candidates = []
    if hasattr(model, "history"):
        record = (
            model.history.filter(**{model._meta.pk.attname: obj.pk})
            .select_related("history_user")
            .order_by("-history_date")
            .first()
        )
        candidates.append(record)
    for child, field in children_of(model):
        if hasattr(child, "history"):
            candidates.append(
                child.history.filter(**{field.attname: obj.pk})
                .select_related("history_user")
                .order_by("-history_date")
                .first()
            )
    candidates = [c for c in candidates if c is not None]
    return max(candidates, key=lambda c: c.history_date) if candidates else None


def user_label(user):
    if user is None:
        return gettext("someone (a script or an import)")
    return user.get_full_name() or user.get_username()


# Forms


class EditorialFormMixin:
    """Mixed into each admin form (see VersionLockAdminMixin.get_form).

    Class attributes set per request: ``editing_user``, ``allowed_statuses`` (None: all);
    when the form restores an old version, ``revert_record`` (that version) and
    ``opened_version`` (the current version, which the form carries).
    """

    editing_user = None
    allowed_statuses = None
    opened_version = None
    revert_record = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.revert_record is not None:
            # The historical instance reads its many-to-many relations from the live
            # tables: offer the values of the version being restored instead.
            for field in self.revert_record._history_m2m_fields:
                if field.name in self.fields:
                    related = get_m2m_reverse_field_name(field)
                    self.initial[field.name] = [
                        getattr(row, f"{related}_id")
                        for row in getattr(self.revert_record, field.name).all()
                    ]
        if VERSION_FIELD in self.fields and self.instance.pk is not None:
            self.initial.setdefault(
                VERSION_FIELD,
                self.opened_version if self.opened_version is not None else self.instance.version,
            )
        status = self.fields.get("editorial_status")
        if status is not None and self.allowed_statuses is not None:
            status.choices = [c for c in status.choices if c[0] in self.allowed_statuses]
            status.error_messages["invalid_choice"] = _(
                "Only a reviewer can publish or archive. Choose « Draft » or « In review »."
            )

    def clean(self):
        cleaned_data = super().clean()
        self._check_parent()
        if VERSION_FIELD in self.fields and self.instance.pk is not None:
            self._check_version(cleaned_data.get(VERSION_FIELD))
        return cleaned_data

    def _check_parent(self):
        """A contributor may add children only to records they may edit."""
        field = parent_field(self._meta.model)
        user = self.editing_user
        if field is None or user is None or field.name not in self.fields:
            return
        parent = self.cleaned_data.get(field.name)
        if parent is not None and not can_edit(user, parent):
            self.add_error(
                field.name,
                _("You may only change what belongs to your own drafts or records in review."),
            )

    def _check_version(self, opened):
        """Refuse the form if the record changed since it was opened. The row stays locked
        until the admin's transaction ends, so two simultaneous saves cannot both pass."""
        model = type(self.instance)
        rows = model._default_manager.filter(pk=self.instance.pk)
        if transaction.get_connection(router.db_for_write(model)).in_atomic_block:
            rows = rows.select_for_update()
        current = rows.values_list("version", flat=True).first()
        if current is None:
            raise forms.ValidationError(
                _("This record was deleted since you opened it: your changes were not saved.")
            )
        if opened == current:
            self.instance.version = current  # saving increments the locked value
            return
        # The form keeps the version it was opened on: saving it again is refused again, so
        # fields the other person changed and this form still shows as they were can never
        # overwrite their work unseen. The editor opens the record as it is now and makes
        # their changes there.
        change = latest_change(self.instance)
        if change is not None:
            saved = gettext("%(who)s saved this record on %(when)s, after you opened it.") % {
                "who": user_label(change.history_user),
                "when": formats.date_format(
                    timezone.localtime(change.history_date), "DATETIME_FORMAT"
                ),
            }
        else:
            saved = gettext("This record was saved by someone else after you opened it.")
        fields = changed_since(self.instance, opened)
        if fields:
            saved += " " + gettext("They changed: %(fields)s.") % {"fields": ", ".join(fields)}
        raise forms.ValidationError(
            format_html(
                '{} {} <a href="{}">{}</a> {} <a href="{}">{}</a>',
                saved,
                gettext("Your changes were not saved: they are still in the form below."),
                history_url(self.instance),
                gettext("See what changed in the history,"),
                gettext("then"),
                change_url(self.instance),
                gettext("open the record as it is now and make your changes there."),
            ),
            code="stale",
        )


# Admin


class UnixNewlinesField(forms.CharField):
    """Browsers send a textarea's line breaks as CRLF: keep LF, so that a text saved
    unchanged compares equal to what was stored (no spurious change in the history, no
    conflict with the corpus at its next load)."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n") if value else value


class PlainNewlinesMixin:
    """Form fields that read what people type: long texts (TextField) through
    UnixNewlinesField, and numbers in the French way too (« 12,5 », shown as typed) rather
    than through a number input, which some browsers silently turn into « 125 »."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.TextField) and not db_field.choices:
            kwargs.setdefault("form_class", UnixNewlinesField)
        if isinstance(db_field, models.DecimalField):
            kwargs.setdefault("localize", True)
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class VersionLockAdminMixin(PlainNewlinesMixin, admin.ModelAdmin):
    """Optimistic locking for a Versioned model's admin."""

    def _editing_target(self, request, obj):
        """The record permissions are checked on (the current one when reverting)."""
        revert = getattr(request, "_editing_revert", None)
        return revert["current"] if revert else obj

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (name, {**options, "fields": [f for f in options["fields"] if f != VERSION_FIELD]})
            for name, options in super().get_fieldsets(request, obj)
        ]
        target = self._editing_target(request, obj)
        if target is not None and self.has_change_permission(request, target):
            fieldsets.append((None, {"fields": [VERSION_FIELD], "classes": ["hidden"]}))
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        if "fields" in kwargs:
            fields = kwargs.pop("fields")
        else:
            fields = flatten_fieldsets(self.get_fieldsets(request, obj))
        # The version travels with the form only where the page renders it (see
        # get_fieldsets); fields=None asks for every field, the version included.
        locked = fields is None or VERSION_FIELD in fields
        if fields is not None:
            fields = [f for f in fields if f != VERSION_FIELD]
        form = super().get_form(request, obj, change=change, fields=fields, **kwargs)
        attrs = {
            "editing_user": request.user,
            "allowed_statuses": self.allowed_statuses(request),
        }
        if locked:
            attrs[VERSION_FIELD] = forms.IntegerField(
                required=False, min_value=0, widget=forms.HiddenInput
            )
        revert = getattr(request, "_editing_revert", None)
        if revert:
            attrs["opened_version"] = revert["opened_version"]
            attrs["revert_record"] = revert["record"]
        return type(form.__name__, (EditorialFormMixin, form), attrs)

    def allowed_statuses(self, request):
        return None


class HistoryAdminMixin(VersionLockAdminMixin, SimpleHistoryAdmin):
    """History with field-level diffs, the children's history, and recorded reverts."""

    object_history_template = "admin/editing/object_history.html"
    object_history_list_template = "admin/editing/object_history_list.html"
    history_list_per_page = 50
    # History view: reviewers (view permission on the historical model) and whoever may
    # change the record (a contributor on their own draft).
    enforce_history_permissions = True

    def _history_permission(self, request, action):
        opts = self.model.history.model._meta
        return request.user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}")

    def has_view_history_permission(self, request, obj=None):
        if self._history_permission(request, "view"):
            return True
        return obj is not None and self.has_change_permission(request, obj)

    def has_change_history_permission(self, request, obj=None):
        return self.has_change_permission(request, self._editing_target(request, obj))

    def history_view(self, request, object_id, extra_context=None):
        context = {"child_histories": self.child_histories(request, unquote(object_id))}
        context.update(extra_context or {})
        return super().history_view(request, object_id, extra_context=context)

    def child_histories(self, request, object_id, limit=100):
        """For each kind of child: its latest changes, each with its field-level diff."""
        sections = []
        for child, field in children_of(self.model):
            history = getattr(child, "history", None)
            if history is None:
                continue
            fks = [f.name for f in history.model.tracked_fields if f.is_relation]
            records = list(
                history.filter(**{field.attname: object_id})
                .select_related("history_user", *fks)
                .order_by(child._meta.pk.attname, "history_date", "history_id")
            )
            previous = {}
            for record in records:
                key = getattr(record, child._meta.pk.attname)
                before = previous.get(key)
                record.editing_changes = []
                if before is not None:
                    delta = record.diff_against(before, foreign_keys_are_objs=True)
                    helper = HistoricalRecordContextHelper(child, record)
                    record.editing_changes = helper.context_for_delta_changes(delta)
                previous[key] = record
                record.editing_label = self._child_label(record, fks)
                record.editing_links = self._child_links(child, key, record.history_id)
            records.sort(key=lambda r: r.history_date, reverse=True)
            sections.append(
                {
                    "title": child._meta.verbose_name_plural,
                    "records": records[:limit],
                    "total": len(records),
                }
            )
        return sections

    @staticmethod
    def _child_label(record, fks):
        instance = record.history_object
        # The historical record fetched the related rows: lend them to the instance so that
        # its __str__ costs no query.
        for name in fks:
            if name in record._state.fields_cache:
                instance._state.fields_cache[name] = record._state.fields_cache[name]
        return str(instance)

    def _child_links(self, child, object_id, history_id):
        opts = child._meta
        if child not in self.admin_site._registry:
            return {}
        try:
            return {
                "history": reverse(
                    f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_history",
                    args=[object_id],
                ),
                "version": reverse(
                    f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_simple_history",
                    args=[object_id, history_id],
                ),
            }
        except NoReverseMatch:
            return {}

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        """Show an earlier version; saving it restores it as a new change, recorded in the
        history with the version it restores, and checked against newer saves."""
        current = self.get_object(request, unquote(object_id))
        if current is None:
            raise Http404
        if request.method == "POST" and not self.has_change_permission(request, current):
            raise PermissionDenied
        record = self.model.history.filter(
            **{self.model._meta.pk.attname: current.pk, "history_id": version_id}
        ).first()
        if record is None:
            raise Http404
        request._editing_revert = {
            "current": current,
            "record": record,
            "opened_version": current.version,
        }
        with transaction.atomic(using=router.db_for_write(self.model)):
            # The library's submit row reads an `onclick_attrib` it sets only in its popup.
            extra_context = {"onclick_attrib": "", **(extra_context or {})}
            response = super().history_form_view(
                request, object_id, version_id, extra_context=extra_context
            )
            form = request._editing_revert.get("form")
            if request.method == "POST" and response.status_code == 302 and form is not None:
                # What the admin runs after a save (search reindexing…); the revert view
                # saves the record and its many-to-many values only.
                self.save_related(request, form, [], True)
        return response

    def save_model(self, request, obj, form, change):
        revert = getattr(request, "_editing_revert", None)
        if revert:
            revert["form"] = form
            obj._change_reason = gettext("Restored the version of %(date)s") % {
                "date": formats.date_format(
                    timezone.localtime(revert["record"].history_date), "DATETIME_FORMAT"
                )
            }
        super().save_model(request, obj, form, change)

    # The changelist's "last modified" column: one correlated subquery per kind of history.

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if self._is_changelist(request):
            queryset = self.annotate_changelist(request, queryset)
        return queryset

    def _is_changelist(self, request):
        match = getattr(request, "resolver_match", None)
        opts = self.model._meta
        return bool(match) and match.url_name == f"{opts.app_label}_{opts.model_name}_changelist"

    def annotate_changelist(self, request, queryset):
        if "last_modified" in self.get_list_display(request):
            queryset = with_last_modified(queryset)
        return queryset

    @admin.display(description=_("last modified"), ordering="last_modified")
    def last_modified(self, obj):
        value = getattr(obj, "last_modified", None)
        return (
            formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
            if value
            else "—"
        )


class CreatedByMeFilter(admin.SimpleListFilter):
    """A contributor's own records, in one click."""

    title = _("author of the record")
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("1", _("Me"))]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.filter(created_by=request.user)
        return queryset


class EditorialAdminMixin(HistoryAdminMixin):
    """Places and case studies: their authors, workflow, bulk actions and list columns."""

    def allowed_statuses(self, request):
        if can_publish(request.user, self.model):
            return None
        return CONTRIBUTOR_STATUSES

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or can_edit(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and can_delete(request.user, obj, self)

    def has_publish_permission(self, request):
        return can_publish(request.user, self.model)

    def save_model(self, request, obj, form, change):
        if not change and obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def annotate_changelist(self, request, queryset):
        queryset = super().annotate_changelist(request, queryset)
        if "figure_count" in self.get_list_display(request):
            figures = self.model._meta.get_field("figures").related_model
            queryset = queryset.annotate(
                figure_count=Coalesce(
                    Subquery(
                        figures.objects.filter(place=OuterRef("pk"))
                        .order_by()
                        .values("place")
                        .annotate(n=Count("pk"))
                        .values("n")
                    ),
                    0,
                    output_field=IntegerField(),
                )
            )
        return queryset

    @admin.display(description=_("figures"), ordering="figure_count")
    def figure_count(self, obj):
        return obj.figure_count

    def _save_each(self, request, queryset, change, reason):
        """Save each record (so that its history and version follow); returns how many
        were changed and how many the user may not change."""
        changed = refused = 0
        with transaction.atomic(using=router.db_for_write(self.model)):
            for obj in queryset:
                if not self.has_change_permission(request, obj):
                    refused += 1
                    continue
                if not change(obj):
                    continue
                obj._history_user = request.user
                obj._change_reason = reason
                obj.save()
                self.log_change(request, obj, reason)
                changed += 1
        return changed, refused

    def _report(self, request, changed, refused, done):
        self.message_user(request, done % {"count": changed}, messages.SUCCESS)
        if refused:
            self.message_user(
                request,
                ngettext(
                    "%(count)d record left unchanged: you may not change it.",
                    "%(count)d records left unchanged: you may not change them.",
                    refused,
                )
                % {"count": refused},
                messages.WARNING,
            )

    def _set_status(self, request, queryset, status, reason, done):
        def change(obj):
            if obj.editorial_status == status:
                return False
            obj.editorial_status = status
            return True

        changed, refused = self._save_each(request, queryset, change, reason)
        self._report(request, changed, refused, done(changed))

    @admin.action(description=_("Publish"), permissions=["publish"])
    def publish(self, request, queryset):
        self._set_status(
            request,
            queryset,
            EditorialStatus.PUBLISHED,
            gettext("Published (bulk action)"),
            lambda n: ngettext("%(count)d record published.", "%(count)d records published.", n),
        )

    @admin.action(description=_("Archive"), permissions=["publish"])
    def archive(self, request, queryset):
        self._set_status(
            request,
            queryset,
            EditorialStatus.ARCHIVED,
            gettext("Archived (bulk action)"),
            lambda n: ngettext("%(count)d record archived.", "%(count)d records archived.", n),
        )

    @admin.action(description=_("Mark checked against sources today"), permissions=["change"])
    def mark_checked_today(self, request, queryset):
        today = timezone.localdate()

        def change(obj):
            if obj.checked_on == today:
                return False
            obj.checked_on = today
            return True

        changed, refused = self._save_each(
            request, queryset, change, gettext("Checked against its sources (bulk action)")
        )
        self._report(
            request,
            changed,
            refused,
            ngettext(
                "%(count)d record marked as checked today.",
                "%(count)d records marked as checked today.",
                changed,
            ),
        )


class ChildAdminMixin(HistoryAdminMixin):
    """Admin of a tracked child (a figure, a funding, a lesson, a section): whoever may
    change its parent may change it."""

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or can_edit(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and can_delete(request.user, obj, self)


def can_delete(user, obj, model_admin):
    """Deleting follows editing: contributors delete their own drafts and their rows; the
    list's bulk deletion, which cannot check each record first, is left to reviewers."""
    if obj is not None:
        return can_edit(user, obj)
    field = parent_field(model_admin.model)
    return user.is_superuser or can_publish(
        user, field.related_model if field is not None else model_admin.model
    )


class EditorialInlineMixin(PlainNewlinesMixin):
    """Inline children are editable when their parent is."""

    def get_queryset(self, request):
        # Each row's label names its related rows (a figure's place and indicator): fetch
        # them with the rows rather than one query per row.
        related = [f.name for f in self.model._meta.fields if f.many_to_one]
        return super().get_queryset(request).select_related(*related)

    def _parent_editable(self, request, obj):
        if obj is None:
            return True
        return can_edit(request.user, obj)

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._parent_editable(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._parent_editable(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._parent_editable(request, obj)
