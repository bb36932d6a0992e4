"""Place images: checks on upload, and the resized copies made once and served.

An upload is judged by what Pillow decodes, never by its name or the browser's content type.
Once a place is saved with a new image (from the admin or anywhere else: a post_save
receiver calls `process_place_image`), the stored original is re-encoded without its
metadata (EXIF with GPS positions, XMP, comments), upright, and resized WebP copies are
written under places/variants/ and recorded in `Place.image_variants`. Pages only ever show
those copies.
"""

import contextlib
import io
import logging
import posixpath
import struct
import threading
import warnings

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageFile, ImageOps

logger = logging.getLogger(__name__)

# Pillow's format names of what is accepted, with the extension each is stored under.
ACCEPTED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
# Widths of the resized copies; an image narrower than one gets a copy at its own width
# instead (never upscaled).
VARIANT_WIDTHS = (320, 640, 1280)
VARIANTS_DIR = "places/variants"
# What a re-encoded image keeps of the original's info: colours and transparency, no metadata.
KEPT_INFO = ("icc_profile", "transparency")
# What Pillow raises on a damaged or hostile file, besides its own decompression-bomb errors.
DECODING_ERRORS = (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError, struct.error)


def max_bytes():
    return getattr(settings, "PLACE_IMAGE_MAX_BYTES", MAX_BYTES)


def max_pixels():
    return getattr(settings, "PLACE_IMAGE_MAX_PIXELS", MAX_PIXELS)


_decoding_lock = threading.Lock()


@contextlib.contextmanager
def strict_decoding():
    """Decode with no tolerance: a truncated file and a decompression bomb are errors.

    Both are process-wide switches in Pillow, and WeasyPrint (the PDF export) turns
    truncated-image tolerance on for the whole process when it is imported.
    """
    with _decoding_lock, warnings.catch_warnings():
        # Past Pillow's own limit, a warning is all it gives: make it an error.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        tolerant = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = tolerant


def check_upload(upload):
    """Pillow's format name of a valid upload; ValidationError (in words) otherwise.

    Refuses files over the size limit, anything Pillow does not decode as JPEG, PNG or WebP,
    images over the pixel limit (before decoding them: decompression bombs never get
    decoded), and truncated or corrupt files (decoded in full to find out).
    """
    if upload.size is not None and upload.size > max_bytes():
        raise ValidationError(
            _("This file weighs %(size)s; images are limited to %(limit)s."),
            code="file_too_large",
            params={"size": filesizeformat(upload.size), "limit": filesizeformat(max_bytes())},
        )
    with strict_decoding():
        try:
            image = Image.open(_readable(upload))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise ValidationError(
                _("This image declares too many pixels to be decoded safely."),
                code="too_many_pixels",
            ) from error
        except DECODING_ERRORS as error:
            raise ValidationError(
                _(
                    "This file is not an image that can be read (JPEG, PNG or WebP expected), "
                    "whatever its name says."
                ),
                code="not_an_image",
            ) from error
        try:
            if image.format not in ACCEPTED_FORMATS:
                raise ValidationError(
                    _("%(format)s images are not accepted: use JPEG, PNG or WebP."),
                    code="format",
                    params={"format": image.format},
                )
            width, height = image.size
            if width * height > max_pixels():
                raise ValidationError(
                    _(
                        "This image has %(width)s × %(height)s pixels; the limit is "
                        "%(limit)s megapixels. Reduce it before uploading it."
                    ),
                    code="too_many_pixels",
                    params={"width": width, "height": height, "limit": max_pixels() // 10**6},
                )
            try:
                image.verify()
                image = Image.open(_readable(upload))
                if image.format == "JPEG":
                    # Decoding at an eighth of the size still reads every byte of the file.
                    image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                image.load()
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
                raise ValidationError(
                    _("This image declares too many pixels to be decoded safely."),
                    code="too_many_pixels",
                ) from error
            except DECODING_ERRORS as error:
                raise ValidationError(
                    _(
                        "This image is damaged or incomplete (truncated file): "
                        "it cannot be decoded."
                    ),
                    code="corrupt",
                ) from error
            return image.format
        finally:
            image.close()
            upload.seek(0)


def _readable(upload):
    upload.seek(0)
    if hasattr(upload, "temporary_file_path"):
        return upload.temporary_file_path()
    return io.BytesIO(upload.read())


def storage_name(upload_name, image_format):
    """A tidy file name whose extension says what the file really is."""
    stem = slugify(posixpath.splitext(posixpath.basename(upload_name or ""))[0])[:80]
    return f"{stem or 'image'}.{ACCEPTED_FORMATS[image_format]}"


class PlaceImageField(forms.ImageField):
    """An image upload field whose Pillow checks are left to `check_upload`.

    Django's own ImageField refuses anything Pillow cannot open with one vague message, and
    lets a truncated JPEG through; the form's clean_image says precisely what is wrong.
    """

    def to_python(self, data):
        return forms.FileField.to_python(self, data)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        if isinstance(widget, forms.FileInput) and "accept" not in widget.attrs:
            attrs["accept"] = "image/jpeg,image/png,image/webp"
        return attrs


class PlaceImageFormMixin:
    """Image checks for the place form in the admin (mixed into its ModelForm)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("image")
        if field is not None and not isinstance(field, PlaceImageField):
            self.fields["image"] = PlaceImageField(
                label=field.label,
                help_text=field.help_text
                or _("JPEG, PNG or WebP, up to %(size)s and %(pixels)s megapixels.")
                % {"size": filesizeformat(max_bytes()), "pixels": max_pixels() // 10**6},
                required=field.required,
                widget=field.widget,
                disabled=field.disabled,
                max_length=field.max_length,
            )

    def clean_image(self):
        image = self.cleaned_data.get("image")
        if isinstance(image, UploadedFile):
            image_format = check_upload(image)
            image.name = storage_name(image.name, image_format)
        return image

    def clean(self):
        cleaned_data = super().clean()
        if "image" in self.fields:
            if self.has_error("image"):
                return cleaned_data
            image = cleaned_data.get("image")
        else:
            image = self.instance.image
        if "image_alt" in self.fields:
            alt = (cleaned_data.get("image_alt") or "").strip()
        else:
            alt = self.instance.image_alt.strip()
        if image and not alt and not self.has_error("image_alt"):
            self.add_error(
                "image_alt" if "image_alt" in self.fields else "image",
                ValidationError(
                    _(
                        "Describe what the image shows for readers who cannot see it: "
                        "a description is required with an image."
                    ),
                    code="alt_required",
                ),
            )
        return cleaned_data


def variant_prefix(image_name):
    """Where the copies of one original go: a folder named after it."""
    relative = image_name.removeprefix("places/")
    return f"{VARIANTS_DIR}/{relative.replace('/', '-').replace('.', '-')}/"


def variants_are_current(place):
    variants = place.image_variants or {}
    if not place.image:
        return not variants
    prefix = variant_prefix(place.image.name)
    return bool(variants) and all(
        isinstance(entry, dict) and str(entry.get("name", "")).startswith(prefix)
        for entry in variants.values()
    )


def variant_widths(width):
    return sorted({min(target, width) for target in VARIANT_WIDTHS})


def _encode(image, image_format, **options):
    kept = {key: image.info[key] for key in KEPT_INFO if key in image.info}
    # Saving never copies EXIF or XMP unless asked to; clearing the info makes sure of it.
    image.info = kept
    if "icc_profile" in kept:
        options["icc_profile"] = kept["icc_profile"]
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def _has_alpha(image):
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def _clean_original(image, image_format):
    """The original upright and without metadata, in its own format."""
    if image_format == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        return _encode(image, "JPEG", quality=90, optimize=True)
    if image_format == "WEBP":
        return _encode(image, "WEBP", quality=90)
    return _encode(image, "PNG", optimize=True)


def _web_copy(image, width, height):
    """``image`` (RGB or RGBA) at this size, and its WebP bytes."""
    if (width, height) != image.size:
        image = image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return image, _encode(image.copy(), "WEBP", quality=80, method=4)


def process_place_image(place, force=False):
    """Strip the stored original's metadata and make its resized copies, once per image.

    Does nothing while the recorded copies belong to the current image (so saving a place
    again, or showing it, costs no image work). When the image is replaced or removed, the
    old copies are deleted; replaced originals stay in storage, because the place's history
    may bring them back. Writes the result with a queryset update: no new version, no
    history entry, no signals. Returns True when something was written.
    """
    if not force and variants_are_current(place):
        return False
    storage = place._meta.get_field("image").storage
    # The old copies belong to another image (or to none): they go first, so that copies
    # made again for the same image get the same names.
    for entry in (place.image_variants or {}).values():
        if isinstance(entry, dict) and entry.get("name"):
            storage.delete(entry["name"])
    values = {"image_variants": {}}
    if place.image:
        try:
            values = _make_variants(place, storage)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning, *DECODING_ERRORS):
            # Reached for a file put in place without the form's checks: show no image
            # rather than fail the save.
            logger.warning("Place %s: image %s cannot be processed", place.pk, place.image.name)
    else:
        values.update(image_width=None, image_height=None)
    type(place)._default_manager.filter(pk=place.pk).update(**values)
    for field, value in values.items():
        setattr(place, field, value)
    return True


def _make_variants(place, storage):
    name = place.image.name
    with storage.open(name, "rb") as stored:
        data = stored.read()
    with strict_decoding():
        image = Image.open(io.BytesIO(data))
        image_format = image.format
        if image_format not in ACCEPTED_FORMATS or image.width * image.height > max_pixels():
            raise ValueError(f"{image_format} image of {image.size} not accepted")
        image.load()
    try:
        image = ImageOps.exif_transpose(image)
    except DECODING_ERRORS:
        # Unreadable EXIF: the pixels are fine, only their orientation is unknown.
        image = image.copy()
    # Rewrite the original under the same name, so that the history's record of it holds.
    storage.delete(name)
    saved = storage.save(name, ContentFile(_clean_original(image, image_format)))
    prefix = variant_prefix(saved)
    variants = {}
    # Resampling works in RGB(A): a palette image would otherwise be resized pixel by pixel.
    source = image.convert("RGBA" if _has_alpha(image) else "RGB")
    for width in sorted(variant_widths(image.width), reverse=True):
        # Each copy is made from the next larger one: as sharp, and much faster.
        # Heights from the original's proportions: rounding errors don't add up.
        height = max(1, round(image.height * width / image.width))
        source, content = _web_copy(source, width, height)
        variant_name = storage.save(f"{prefix}{width}.webp", ContentFile(content))
        variants[str(width)] = {
            "name": variant_name,
            "width": source.width,
            "height": source.height,
        }
    values = {
        "image_variants": dict(sorted(variants.items(), key=lambda item: int(item[0]))),
        "image_width": image.width,
        "image_height": image.height,
    }
    if saved != name:
        values["image"] = saved
    return values


def place_saved(sender, instance, raw=False, update_fields=None, **kwargs):
    """post_save receiver: process a new or removed image (fixtures loaded raw are left alone)."""
    if raw or (update_fields is not None and "image" not in update_fields):
        return
    process_place_image(instance)


def place_deleted(sender, instance, **kwargs):
    """post_delete receiver: the copies go with the place (the original stays for its history)."""
    storage = sender._meta.get_field("image").storage
    for entry in (instance.image_variants or {}).values():
        if isinstance(entry, dict) and entry.get("name"):
            storage.delete(entry["name"])


def sorted_variants(place):
    """The place's resized copies, narrowest first, with their URLs."""
    storage = place._meta.get_field("image").storage
    variants = []
    for entry in (place.image_variants or {}).values():
        if isinstance(entry, dict) and entry.get("name"):
            variants.append({**entry, "url": storage.url(entry["name"])})
    return sorted(variants, key=lambda entry: entry["width"])


def image_tag(place, sizes="100vw", max_width=None, lazy=True, css_class=""):
    """An <img> of the place's copies with srcset, width, height and alt; empty without copies.

    Reads only the place's own columns: no query. ``max_width`` leaves out larger copies
    (small cards); `src` is the largest copy kept, for browsers without srcset.
    """
    variants = sorted_variants(place)
    if max_width:
        variants = [v for v in variants if v["width"] <= max_width] or variants[:1]
    if not variants:
        return ""
    largest = variants[-1]
    srcset = format_html_join(", ", "{} {}w", ((v["url"], v["width"]) for v in variants))
    return format_html(
        '<img src="{}" srcset="{}" sizes="{}" width="{}" height="{}" alt="{}"{}{}>',
        largest["url"],
        srcset,
        sizes,
        largest["width"],
        largest["height"],
        place.image_alt,
        format_html(' class="{}"', css_class) if css_class else "",
        mark_safe(' loading="lazy" decoding="async"') if lazy else "",
    )
