"""Place images, end to end with real files: upload in the admin, checks, copies, public pages."""

import io
import os
import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import ExifTags, Image, ImageDraw, ImageFile

from catalogue.images import process_place_image
from catalogue.models import Place

RED, BLUE = (220, 30, 30), (30, 60, 200)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploads go to a temporary directory, never into the repository."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def editor(client, django_user_model, corpus):
    user = django_user_model.objects.create_superuser("imager", "imager@example.org", "pw")
    client.force_login(user)
    return client


@pytest.fixture
def place(corpus):
    return Place.objects.get(slug="fab-lab-crest")


def stored_files(root):
    return sorted(
        os.path.relpath(os.path.join(folder, name), root)
        for folder, _dirs, names in os.walk(root)
        for name in names
    )


def photo_with_gps(width=1600, height=1000):
    """A JPEG as a phone takes it: stored sideways (orientation 6), with a GPS position.

    Its top-left quarter is red: once turned upright, red is at the top right.
    """
    image = Image.new("RGB", (width, height), BLUE)
    ImageDraw.Draw(image).rectangle([0, 0, width // 2, height // 2], fill=RED)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "Téléphone"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (44.0, 44.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (5.0, 1.0, 30.0)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, quality=92)
    return buffer.getvalue()


def image_bytes(image_format, size=(800, 600), mode="RGB", **options):
    buffer = io.BytesIO()
    image = Image.new(mode, size, 1 if mode == "1" else BLUE)
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def change_form_data(client, place):
    """What the admin's change form of ``place`` posts back unchanged."""
    response = client.get(reverse("admin:catalogue_place_change", args=[place.pk]))
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        if name == "image":
            continue
        value = form[name].value()
        if value is None or value is False:
            continue
        data[name] = "on" if value is True else value
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[f"{inline.formset.prefix}-{name}"] = management[name].value()
        for index, inline_form in enumerate(inline.formset.forms):
            for name in inline_form.fields:
                value = inline_form[name].value()
                if value is None or value is False:
                    continue
                data[f"{inline.formset.prefix}-{index}-{name}"] = "on" if value is True else value
    return data


def upload(client, place, content, name="photo.jpg", alt="La façade du fab lab", **extra):
    data = change_form_data(client, place)
    data["image"] = SimpleUploadedFile(name, content, content_type="image/jpeg")
    data["image_alt"] = alt
    data.update(extra)
    return client.post(reverse("admin:catalogue_place_change", args=[place.pk]), data)


def open_url(url, settings):
    """The file behind a media URL, read from the storage the site serves media from."""
    from django.core.files.storage import default_storage

    assert url.startswith("/" + settings.MEDIA_URL.lstrip("/"))
    name = url.removeprefix("/" + settings.MEDIA_URL.lstrip("/"))
    with default_storage.open(name) as stored:
        return Image.open(io.BytesIO(stored.read()))


def test_an_uploaded_photo_is_shown_upright_resized_and_without_its_gps_position(
    editor, place, client, settings
):
    response = upload(
        editor, place, photo_with_gps(), image_credit="Photo : Fab lab de Crest, 2024"
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    place.refresh_from_db()
    # Stored upright (1000 wide, 1600 high); copies never wider than the original.
    assert (place.image_width, place.image_height) == (1000, 1600)
    assert {w: (v["width"], v["height"]) for w, v in place.image_variants.items()} == {
        "320": (320, 512),
        "640": (640, 1024),
        "1000": (1000, 1600),
    }

    client.logout()
    page = client.get(place.get_absolute_url()).content.decode()
    img = re.search(r"<figure class=\"place-figure\">\s*(<img [^>]+>)", page).group(1)
    assert 'alt="La façade du fab lab"' in img
    assert 'width="1000" height="1600"' in img
    assert "Photo : Fab lab de Crest, 2024" in page
    srcset = re.search(r'srcset="([^"]+)"', img).group(1)
    candidates = dict(reversed(c.rsplit(" ", 1)) for c in srcset.split(", "))
    assert sorted(candidates) == ["1000w", "320w", "640w"]

    small = open_url(candidates["640w"], settings)
    assert small.format == "WEBP"
    assert small.size == (640, 1024)
    assert not small.getexif()
    # Upright: the red corner of the sideways photo is now at the top right.
    small = small.convert("RGB")
    assert small.getpixel((600, 20))[0] > 180
    assert small.getpixel((20, 20))[2] > 150

    original = Image.open(place.image.path)
    assert original.format == "JPEG"
    assert original.size == (1000, 1600)
    assert not original.getexif()
    assert not original.getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert "exif" not in original.info


def test_the_place_image_appears_in_the_directory_card_and_on_the_monograph(
    editor, place, client, make_case_study, settings
):
    assert upload(editor, place, image_bytes("PNG", (900, 300))).status_code == 302
    place.refresh_from_db()
    small = place.image_variants["320"]
    assert (small["width"], small["height"]) == (320, 107)
    client.logout()

    directory = client.get(reverse("catalogue:place-list"), {"q": place.name}).content.decode()
    card = re.search(r'<img src="[^"]*"[^>]*class="card-thumb"[^>]*>', directory).group(0)
    assert small["name"] in card
    assert 'width="320" height="107"' in card
    assert 'alt="La façade du fab lab"' in card
    assert 'loading="lazy"' in card
    assert open_url(re.search(r'src="([^"]+)"', card).group(1), settings).size == (320, 107)

    case = make_case_study(places=[place])
    monograph = client.get(case.get_absolute_url()).content.decode()
    assert place.image_variants["640"]["name"] in monograph
    assert 'alt="La façade du fab lab"' in monograph


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        pytest.param(
            lambda: photo_with_gps()[:9000],
            "photo.jpg",
            "Cette image est endommagée ou incomplète (fichier tronqué)",
            id="truncated-jpeg",
        ),
        pytest.param(
            lambda: b"Compte rendu de visite du fab lab, a lire avant jeudi.\n" * 40,
            "photo.jpg",
            "Ce fichier n’est pas une image lisible (JPEG, PNG ou WebP attendu), "
            "quel que soit son nom.",
            id="text-named-jpg",
        ),
        pytest.param(
            lambda: b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n",
            "plan.jpg",
            "Ce fichier n’est pas une image lisible",
            id="pdf-named-jpg",
        ),
        pytest.param(
            lambda: image_bytes("GIF", (200, 100)),
            "anim.gif",
            "Les images au format GIF ne sont pas acceptées : utilisez JPEG, PNG ou WebP.",
            id="gif",
        ),
        pytest.param(
            lambda: image_bytes("PNG", (9000, 9000), mode="1"),
            "panorama.png",
            "Cette image fait 9000 × 9000 pixels ; la limite est de 40 mégapixels.",
            id="over-the-pixel-limit",
        ),
        pytest.param(
            lambda: image_bytes("PNG", (20000, 20000), mode="1"),
            "bombe.png",
            "Cette image annonce trop de pixels pour être décodée sans risque.",
            id="decompression-bomb",
        ),
        pytest.param(
            lambda: os.urandom(10 * 1024 * 1024 + 200_000),
            "enorme.jpg",
            "les images sont limitées à 10,0\xa0Mio",
            id="over-the-size-limit",
        ),
    ],
)
def test_a_bad_upload_gets_a_french_error_next_to_the_field_and_saves_nothing(
    editor, place, media_root, content, name, message, monkeypatch
):
    # As in a process that has made a PDF: WeasyPrint makes Pillow tolerate truncated files.
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    version = place.version
    response = upload(editor, place, content(), name=name)
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert any(message in error for error in form.errors["image"]), form.errors
    assert message in response.content.decode()
    place.refresh_from_db()
    assert place.version == version
    assert not place.image
    assert stored_files(media_root) == []


def test_an_image_without_a_description_is_refused(editor, place, media_root):
    response = upload(editor, place, image_bytes("JPEG"), alt="  ")
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["image_alt"] == [
        "Décrivez ce que montre l’image pour les lecteurs qui ne la voient pas : "
        "une description est obligatoire avec une image."
    ]
    place.refresh_from_db()
    assert not place.image
    assert stored_files(media_root) == []


def test_replacing_then_removing_the_image_deletes_the_old_copies(editor, place, media_root):
    assert upload(editor, place, image_bytes("JPEG", (1400, 700))).status_code == 302
    place.refresh_from_db()
    first = [v["name"] for v in place.image_variants.values()]
    assert len(first) == 3
    assert all((media_root / name).exists() for name in first)

    assert upload(editor, place, image_bytes("WEBP", (500, 500)), name="b.webp").status_code == 302
    place.refresh_from_db()
    assert place.image.name.endswith(".webp")
    second = [v["name"] for v in place.image_variants.values()]
    assert sorted(place.image_variants) == ["320", "500"]
    assert not any((media_root / name).exists() for name in first)
    assert all((media_root / name).exists() for name in second)

    data = change_form_data(editor, place)
    data["image-clear"] = "on"
    response = editor.post(reverse("admin:catalogue_place_change", args=[place.pk]), data)
    assert response.status_code == 302
    place.refresh_from_db()
    assert not place.image
    assert place.image_variants == {}
    assert not any((media_root / name).exists() for name in second)
    assert "place-figure" not in editor.get(place.get_absolute_url()).content.decode()


def test_a_place_saved_outside_the_admin_gets_its_copies_once(place, media_root):
    place.image = ContentFile(photo_with_gps(800, 600), name="terrain.jpg")
    place.image_alt = "Le terrain"
    place.save()
    place.refresh_from_db()
    assert sorted(place.image_variants) == ["320", "600"]
    assert not Image.open(place.image.path).getexif()
    copy = media_root / place.image_variants["320"]["name"]
    made_at = copy.stat().st_mtime_ns

    # Saving again, or showing the place, makes nothing again.
    place.summary += " Modifié."
    place.save()
    assert process_place_image(Place.objects.get(pk=place.pk)) is False
    assert copy.stat().st_mtime_ns == made_at
    assert stored_files(media_root) == sorted(
        [place.image.name, *(v["name"] for v in place.image_variants.values())]
    )
