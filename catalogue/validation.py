"""Checks that mirror the database constraints, in words an editor understands.

The database refuses a negative amount or a year 1492 with « constraint violated »; these
checks say what is allowed instead, next to the field. Model `clean()` methods and admin
form fields use the same ranges, so the admin, the CSV import and any ModelForm agree.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _


class Range:
    """Refuses a value outside [low, high] (either bound may be None) with one message.

    The message may use %(value)s (the value typed), %(low)s and %(high)s.
    """

    def __init__(self, low, high, message, code):
        self.low, self.high, self.message, self.code = low, high, message, code

    def __call__(self, value):
        if value is None:
            return
        if (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        ):
            raise ValidationError(
                self.message,
                code=self.code,
                params={"value": _number(value), "low": self.low, "high": self.high},
            )

    def apply_to(self, form_field):
        """Put this range on a form field in place of the model's bare min/max checks
        (PositiveSmallIntegerField's « greater than or equal to 0 » says nothing of 1800)."""
        form_field.validators = [
            v
            for v in form_field.validators
            if not isinstance(v, (MinValueValidator, MaxValueValidator))
        ] + [self]
        attrs = form_field.widget.attrs
        for name, bound in (("min", self.low), ("max", self.high)):
            attrs.pop(name, None)
            if bound is not None:
                attrs[name] = bound


def _number(value):
    """As French readers write it: « 1 200 000 », « 12,5 », « 2150 » (years stay ungrouped)."""
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)
    return number_format(value, force_grouping=abs(value) >= 10000)


YEAR = Range(
    1800,
    2100,
    _("%(value)s is not a plausible year: enter a year between 1800 and 2100."),
    "year_range",
)
LATITUDE = Range(
    -90,
    90,
    _("A latitude is between −90 and 90 degrees (%(value)s is outside)."),
    "latitude_range",
)
LONGITUDE = Range(
    -180,
    180,
    _("A longitude is between −180 and 180 degrees (%(value)s is outside)."),
    "longitude_range",
)
SHARE = Range(
    0,
    100,
    _("A share is a percentage between 0 and 100 %% (%(value)s is outside)."),
    "share_range",
)
AMOUNT = Range(0, None, _("An amount cannot be negative: enter 0 € or more."), "amount_negative")
FIGURE_VALUE = Range(
    0, None, _("A figure cannot be negative: enter a value of 0 or more."), "value_negative"
)


def field_errors(instance, **checks):
    """{field name: ValidationError} for the fields of `instance` that fail their check."""
    errors = {}
    for name, check in checks.items():
        try:
            check(getattr(instance, name))
        except ValidationError as error:
            errors[name] = error
    return errors


def range_order_error(value, value_max):
    """The error for an upper bound below the value, or None."""
    if value is None or value_max is None or value_max >= value:
        return None
    return ValidationError(
        _(
            "The upper bound (%(high)s) must be greater than or equal to the value "
            "(%(low)s); leave it empty when the figure is not a range."
        ),
        code="range_order",
        params={"low": _number(value), "high": _number(value_max)},
    )
