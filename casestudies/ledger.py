"""What the corpus loader wrote, and whether someone changed it since.

For every record it writes, `load_corpus` keeps the values of the fields the corpus owns
(a CorpusRecord). On the next load, a record whose current values no longer match was
changed by someone else: the ledger leaves it alone and reports a conflict, unless told to
force. Records an editor created are never touched; records an editor deleted are never
brought back. DESIGN §8: what a person saved is never overwritten silently.
"""

import datetime
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from .models import CorpusRecord

CHANGE_REASON = "load_corpus"


class InvalidRecord(Exception):
    """The corpus asks for a value the model refuses."""


class Conflict:
    """A record the load left alone (or overwrote, with --force)."""

    EDITED = "edited"  # changed in the database since the last load; corpus unchanged
    BOTH = "both"  # changed in the database and in the corpus
    DELETED = "deleted"  # deleted in the database, still in the corpus
    REMOVED = "removed"  # gone from the corpus, but changed in the database since
    UNOWNED = "unowned"  # in the database but never written by the loader, and different
    BLOCKED = "blocked"  # could not be written without breaking a record an editor made

    EXPLANATIONS = {
        EDITED: "changed in the database since the last load",
        BOTH: "changed in the database since the last load, and changed in the corpus too",
        DELETED: "deleted in the database, still in the corpus",
        REMOVED: "removed from the corpus, but changed in the database since the last load",
        UNOWNED: "already in the database, not written by the loader, and different",
        BLOCKED: "would clash with a record changed in the database",
    }

    def __init__(self, reason, model, key, label, fields=(), detail=""):
        self.reason = reason
        self.model = model
        self.key = key
        self.label = label
        self.fields = list(fields)  # (name, loaded, now, corpus)
        self.detail = detail

    def describe(self, forced=False):
        name = self.model._meta.verbose_name
        action = "overwritten (--force)" if forced else "left as it is"
        lines = [
            f"{name} « {self.label} » [{self.key}]: {self.EXPLANATIONS[self.reason]}; {action}"
        ]
        if self.detail:
            lines.append(f"    {self.detail}")
        for field_name, loaded, now, corpus in self.fields:
            lines.append(f"    {field_name}:")
            if isinstance(loaded, str) and isinstance(now, str) and len(loaded + now) > 160:
                lines.append(f"      ~ {inline_diff(loaded, now)}")
            else:
                if loaded is not _MISSING:
                    lines.append(f"      - last loaded: {short(loaded)}")
                if now is not _MISSING:
                    lines.append(f"      + now:         {short(now)}")
            if corpus is not _MISSING and corpus != loaded:
                lines.append(f"      > corpus says: {short(corpus)}")
        return "\n".join(lines)


_MISSING = object()


def inline_diff(old, new, context=40):
    """The part of a long text that changed, with context: « …before [-old-]{+new+} after… »."""
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end = 0
    while end < min(len(old), len(new)) - start and old[-1 - end] == new[-1 - end]:
        end += 1
    before = old[max(0, start - context) : start]
    after = old[len(old) - end : len(old) - end + context]
    removed, added = old[start : len(old) - end], new[start : len(new) - end]
    return (
        f"{'…' if start > context else ''}{before}[-{removed}-]{{+{added}+}}{after}"
        f"{'…' if end > context else ''}"
    )


def short(value, limit=160):
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class Outcome:
    created: list = field(default_factory=list)
    updated: list = field(default_factory=list)  # (model, label, [field names])
    deleted: list = field(default_factory=list)
    adopted: int = 0
    conflicts: list = field(default_factory=list)
    forced: list = field(default_factory=list)


def normalize(value):
    """A JSON-able, comparable form of a field value."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(normalize(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [normalize(v) for v in value]
    return value


def digest(values):
    text = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def label_of(model):
    return model._meta.label_lower


def snapshot(obj, names):
    """The current values of ``names`` on ``obj``, normalised (many-to-many as sorted pks)."""
    values = {}
    for name in names:
        model_field = obj._meta.get_field(name)
        if model_field.many_to_many:
            if obj.pk is None:
                values[name] = []
            else:
                values[name] = sorted(getattr(obj, name).values_list("pk", flat=True))
        else:
            values[name] = normalize(getattr(obj, model_field.attname))
    return values


def m2m_names(model, values):
    return [name for name in values if model._meta.get_field(name).many_to_many]


class Ledger:
    """Applies the corpus's wanted values record by record, minding editors' changes."""

    def __init__(self, force=False):
        self.force = force
        self.outcome = Outcome()
        self.records = {
            (r.model, r.key): r for r in CorpusRecord.objects.all().order_by("model", "key")
        }
        # label → {object id: key}: which record owns a row.
        self.owners = defaultdict(dict)
        for (label, key), record in self.records.items():
            self.owners[label][record.object_id] = key
        self.seen = set()

    # -- public ----------------------------------------------------------------------------

    def write(self, model, key, values, *, lookup=None, match=None):
        """Make the record named ``key`` hold ``values`` (field name → value; many-to-many
        as an iterable of pks), unless someone changed it since the last load.

        ``lookup`` finds an existing row (e.g. ``{"slug": ...}``); without it, the row is the
        one the ledger recorded under ``key``. Returns the row (None when it was deleted in
        the database and is left deleted). ``match`` (filters) names rows among which one
        with exactly these values may be taken over when the ledger has no record of it: a
        row written by dump_corpus from the admin, or by a loader that kept no records.
        """
        label = label_of(model)
        self.seen.add((label, key))
        record = self.records.get((label, key))
        wanted = {name: normalize(value) for name, value in values.items()}
        obj = None
        if lookup is not None:
            obj = model.objects.filter(**lookup).first()
        elif record is not None:
            obj = model.objects.filter(pk=record.object_id).first()
        elif match is not None:
            obj = self.identical(model, match, wanted)

        if obj is None:
            if record is not None and not self.force:
                self.conflict(Conflict.DELETED, model, key, self.describe_key(values, key))
                return None
            if record is not None:
                self.outcome.forced.append(
                    Conflict(Conflict.DELETED, model, key, self.describe_key(values, key))
                )
            obj = model(**(lookup or {}))
            return self.apply(obj, model, key, values, wanted, created=True)

        current = snapshot(obj, wanted)
        if record is None:
            if current == wanted:
                self.remember(model, key, obj, wanted)
                self.outcome.adopted += 1
                return obj
            return self.clash(Conflict.UNOWNED, obj, model, key, values, wanted, current, {})
        loaded = record.values
        edited = [n for n in wanted if n in loaded and current[n] != loaded[n]]
        if not edited:
            if current != wanted:
                return self.apply(obj, model, key, values, wanted, created=False, current=current)
            if loaded != wanted:
                self.remember(model, key, obj, wanted)
            return obj
        if current == wanted:
            # The corpus caught up with the edit (e.g. after dump_corpus): adopt it.
            self.remember(model, key, obj, wanted)
            self.outcome.adopted += 1
            return obj
        corpus_changed = any(wanted[n] != loaded.get(n, wanted[n]) for n in wanted)
        reason = Conflict.BOTH if corpus_changed else Conflict.EDITED
        return self.clash(reason, obj, model, key, values, wanted, current, loaded)

    def identical(self, model, match, wanted):
        """A row holding exactly ``wanted`` that no record of this run has claimed yet.

        A row recorded under another key whose record this run has not reached is taken
        over too: its content changed in the database and the corpus now says the same
        (after dump_corpus), so its old key goes away.
        """
        label = label_of(model)
        owners = self.owners[label]
        for candidate in model.objects.filter(**match).order_by("pk"):
            key = owners.get(candidate.pk)
            if key is not None and (label, key) in self.seen:
                continue
            if snapshot(candidate, wanted) == wanted:
                if key is not None:
                    self.records.pop((label, key)).delete()
                    del owners[candidate.pk]
                return candidate
        return None

    def finish_group(self, model, prefix):
        """Rows the loader wrote under ``prefix`` that the corpus no longer has: delete the
        untouched ones, keep (and report) those someone changed since."""
        label = label_of(model)
        for (record_label, key), record in list(self.records.items()):
            if record_label != label or not key.startswith(prefix) or (label, key) in self.seen:
                continue
            self.retire(model, key, record)

    def retire(self, model, key, record):
        label = label_of(model)
        self.seen.add((label, key))
        obj = model.objects.filter(pk=record.object_id).first()
        if obj is None:
            record.delete()
            del self.records[(label, key)]
            return
        current = snapshot(obj, record.values)
        if current != record.values and not self.force:
            fields = [
                (n, record.values[n], current[n], _MISSING)
                for n in record.values
                if current[n] != record.values[n]
            ]
            self.conflict(Conflict.REMOVED, model, key, str(obj), fields)
            return
        obj._change_reason = CHANGE_REASON
        obj.delete()
        record.delete()
        del self.records[(label, key)]
        self.outcome.deleted.append((model, str(obj)))

    def reconcile(self, model, prefix, wanted):
        """Before writing the rows of one group (``wanted``: key → values), pair each new
        key with a row the loader wrote under a key the corpus no longer has and that nobody
        changed since: that row is updated in place (its history goes on) instead of being
        deleted and created again. Unpaired old rows go now, so that a headline that moves
        never meets its old self."""
        label = label_of(model)
        stale = {
            key: record
            for (record_label, key), record in self.records.items()
            if record_label == label and key.startswith(prefix) and key not in wanted
        }
        rows = {r.pk: r for r in model.objects.filter(pk__in=[r.object_id for r in stale.values()])}
        untouched = {}
        normal = {
            key: {name: normalize(value) for name, value in values.items()}
            for key, values in wanted.items()
        }
        for key, record in stale.items():
            row = rows.get(record.object_id)
            if row is None:
                continue
            current = snapshot(row, record.values)
            if current == record.values:
                untouched[key] = record
                continue
            # Changed in the database, and the corpus now says the same (after dump_corpus).
            for new_key, values in normal.items():
                if (label, new_key) not in self.records and snapshot(row, values) == values:
                    self.move(label, key, new_key)
                    break
        for key, values in wanted.items():
            if (label, key) in self.records or not untouched:
                continue
            normal = {name: normalize(value) for name, value in values.items()}

            def likeness(item, normal=normal):
                loaded = item[1].values
                return sum(loaded.get(name) == value for name, value in normal.items())

            old_key, record = max(untouched.items(), key=likeness)
            if likeness((old_key, record)) * 2 < len(normal):
                continue
            del untouched[old_key]
            self.move(label, old_key, key)
        for key, record in stale.items():
            if (label, key) in self.records and self.records[(label, key)] is record:
                self.retire(model, key, record)

    def move(self, label, old_key, new_key):
        record = self.records.pop((label, old_key))
        record.key = new_key
        self.records[(label, new_key)] = record
        self.owners[label][record.object_id] = new_key

    def skip(self, model, prefix):
        """Leave the rows recorded under ``prefix`` as they are (their parent is gone)."""
        label = label_of(model)
        for record_label, key in self.records:
            if record_label == label and key.startswith(prefix):
                self.seen.add((label, key))

    def unseen(self, model):
        label = label_of(model)
        return [
            (key, record)
            for (record_label, key), record in self.records.items()
            if record_label == label and (label, key) not in self.seen
        ]

    # -- internals -------------------------------------------------------------------------

    def clash(self, reason, obj, model, key, values, wanted, current, loaded):
        fields = [
            (n, loaded.get(n, _MISSING), current[n], wanted[n])
            for n in wanted
            if current[n] != wanted[n] or current[n] != loaded.get(n, current[n])
        ]
        conflict = Conflict(reason, model, key, str(obj), fields)
        if not self.force:
            self.conflict(conflict)
            return obj
        self.outcome.forced.append(conflict)
        return self.apply(obj, model, key, values, wanted, created=False, current=current)

    def conflict(self, reason_or_conflict, model=None, key=None, label=None, fields=()):
        if isinstance(reason_or_conflict, Conflict):
            self.outcome.conflicts.append(reason_or_conflict)
        else:
            self.outcome.conflicts.append(Conflict(reason_or_conflict, model, key, label, fields))

    def apply(self, obj, model, key, values, wanted, *, created, current=None):
        many = m2m_names(model, values)
        for name, value in values.items():
            if name in many:
                continue
            model_field = model._meta.get_field(name)
            if model_field.is_relation and not isinstance(value, models.Model):
                setattr(obj, model_field.attname, value)
            else:
                setattr(obj, name, value)
        try:
            obj.full_clean(validate_unique=False, validate_constraints=False)
        except ValidationError as error:
            raise InvalidRecord(f"{model._meta.model_name} {key}: {error.messages}") from error
        obj._change_reason = CHANGE_REASON
        try:
            with transaction.atomic():
                obj.save()
                for name in many:
                    getattr(obj, name).set(wanted[name])
        except IntegrityError as error:
            if created:
                obj.pk = None
            self.conflict(
                Conflict(
                    Conflict.BLOCKED,
                    model,
                    key,
                    self.describe_key(values, key),
                    detail=f"the database refused it ({error}): a record changed there is in "
                    "the way",
                )
            )
            return None if created else model.objects.get(pk=obj.pk)
        self.remember(model, key, obj, wanted)
        if created:
            self.outcome.created.append((model, str(obj)))
        else:
            changed = [n for n in wanted if current is None or current[n] != wanted[n]]
            self.outcome.updated.append((model, str(obj), changed))
        return obj

    def remember(self, model, key, obj, wanted):
        label = label_of(model)
        record = self.records.get((label, key))
        if record is None:
            record = CorpusRecord(model=label, key=key)
            self.records[(label, key)] = record
        record.object_id = obj.pk
        self.owners[label][obj.pk] = key
        record.values = wanted
        record.digest = digest(wanted)
        record.save()

    @staticmethod
    def describe_key(values, key):
        for name in ("name", "title", "heading", "label", "text"):
            if values.get(name):
                return str(values[name])[:80]
        return key
