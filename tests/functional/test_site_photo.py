"""A site's photo (#11): uploaded on the site's form, checked by its content and size, kept on
disk under the instance folder, replaced and removed without leftovers, served with its type."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from booking.models import AuditEvent, Site
from booking.services import site_photos
from booking.services.errors import InvalidRequest


@pytest.fixture
def photos(app, monkeypatch, tmp_path):
    """The folder where this test's photos land (a fresh instance folder)."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    return tmp_path / "uploads" / "sites"


def image(kind: str = "JPEG", size=(64, 48), colour="teal") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, kind)
    return out.getvalue()


def site_form(site: Site, **changes) -> dict:
    form = {
        "name": site.name,
        "kind": site.kind.value,
        "district": site.district,
        "street": site.street,
        "postcode": site.postcode,
        "city": site.city,
        "timezone": site.timezone,
        "active": "y",
    }
    return form | changes


def post_photo(client, site, data: bytes, filename: str, **changes):
    # Encoded here, in memory: the test client would spool a large body to a temporary file
    # that it never closes.
    boundary, body = encode_multipart(
        site_form(site, **changes) | {"photo": FileStorage(io.BytesIO(data), filename)}
    )
    return client.post(
        f"/admin/sites/{site.id}/edit",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def fresh(db, site: Site) -> Site:
    db.session.expire_all()
    return db.session.get(Site, site.id)


@pytest.fixture
def manager(db, make_site, make_user, login_as):
    site = make_site(name="Grundschule Lichtenhof")
    user = login_as(make_user(manages=[site], language="en"))
    return user, site


def test_a_manager_uploads_a_jpeg_that_the_site_page_shows(client, db, photos, manager):
    user, site = manager
    data = image("JPEG")
    response = post_photo(client, site, data, "Schulhof.JPG")
    assert response.status_code == 302, response.get_data(as_text=True)
    site = fresh(db, site)
    assert site.photo.endswith(".jpg") and "Schulhof" not in site.photo
    assert [p.name for p in photos.iterdir()] == [site.photo]
    assert (photos / site.photo).read_bytes() == data
    (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "site_updated"))
    assert event.actor_id == user.id and event.site_id == site.id
    assert event.details["changes"] == {"photo": [None, site.photo]}

    page = client.get(f"/sites/{site.id}").get_data(as_text=True)
    src = f"/sites/{site.id}/photo?v={site.photo}"
    assert f'src="{src}" alt="Grundschule Lichtenhof"' in page
    served = client.get(src)
    assert served.status_code == 200
    assert served.mimetype == "image/jpeg"
    assert served.data == data
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    cache = served.cache_control
    assert cache.public and cache.max_age == 365 * 24 * 3600 and cache.immutable
    # Without the file's name the answer may be kept only a little while.
    plain = client.get(f"/sites/{site.id}/photo")
    assert plain.status_code == 200 and plain.cache_control.max_age == 300
    # The site's form shows the photo and offers to remove it.
    form = client.get(f"/admin/sites/{site.id}/edit").get_data(as_text=True)
    assert f'src="{src}" alt="Grundschule Lichtenhof"' in form
    assert 'name="remove_photo"' in form and 'enctype="multipart/form-data"' in form


@pytest.mark.parametrize(
    ("kind", "name", "media_type", "extension"),
    [
        ("PNG", "plan.png", "image/png", ".png"),
        ("WEBP", "haus.webp", "image/webp", ".webp"),
        ("PNG", "eigentlich-png.jpg", "image/png", ".png"),  # the content decides
    ],
)
def test_png_and_webp_are_kept_as_what_they_are(
    client, db, photos, manager, kind, name, media_type, extension
):
    _user, site = manager
    data = image(kind)
    assert post_photo(client, site, data, name).status_code == 302
    site = fresh(db, site)
    assert site.photo.endswith(extension)
    served = client.get(f"/sites/{site.id}/photo")
    assert served.mimetype == media_type and served.data == data


def test_a_text_file_named_jpg_is_refused_and_nothing_is_saved(client, db, photos, manager):
    _user, site = manager
    response = post_photo(
        client, site, b"Dies ist kein Bild.\n" * 20, "foto.jpg", name="Neuer Name"
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "This file is not a JPEG, PNG or WebP image." in body
    assert 'id="photo-error"' in body
    site = fresh(db, site)
    assert site.photo is None and site.name == "Grundschule Lichtenhof"  # the form's rest too
    assert not photos.exists() or list(photos.iterdir()) == []
    assert db.session.scalar(select(AuditEvent)) is None


def test_a_broken_image_and_a_wrong_extension_are_refused(client, db, photos, manager):
    _user, site = manager
    truncated = image("PNG", size=(400, 400))[:300]
    response = post_photo(client, site, truncated, "kaputt.png")
    assert response.status_code == 422
    assert "This file is not a JPEG, PNG or WebP image." in response.get_data(as_text=True)
    response = post_photo(client, site, image("GIF"), "bild.gif")
    assert response.status_code == 422
    assert "Please choose a JPEG, PNG or WebP image." in response.get_data(as_text=True)
    assert fresh(db, site).photo is None


def test_a_photo_over_the_limit_gets_a_clear_message(client, db, photos, manager):
    _user, site = manager
    big = image("JPEG") + b"\0" * site_photos.PHOTO_MAX_BYTES
    response = post_photo(client, site, big, "gross.jpg")
    assert response.status_code == 422
    assert "The photo is too large: at most 5 MB, please." in response.get_data(as_text=True)
    # Far beyond every form's limit, the upload is refused before it is read.
    huge = b"\xff\xd8" + b"\0" * (16 * 1024 * 1024)
    response = post_photo(client, site, huge, "riesig.jpg")
    assert response.status_code == 413
    assert "A site photo may have at most 5 MB" in response.get_data(as_text=True)
    assert fresh(db, site).photo is None


def test_a_new_photo_replaces_the_old_file_and_remove_deletes_it(client, db, photos, manager):
    _user, site = manager
    assert post_photo(client, site, image("JPEG", colour="red"), "a.jpg").status_code == 302
    first = fresh(db, site).photo
    assert post_photo(client, site, image("PNG", colour="blue"), "b.png").status_code == 302
    second = fresh(db, site).photo
    assert second != first
    assert [p.name for p in photos.iterdir()] == [second]  # the old file is gone

    # Saving the form without a file keeps the photo.
    response = client.post(f"/admin/sites/{site.id}/edit", data=site_form(site, city="Hemer"))
    assert response.status_code == 302
    assert fresh(db, site).photo == second

    response = client.post(f"/admin/sites/{site.id}/edit", data=site_form(site, remove_photo="y"))
    assert response.status_code == 302
    assert fresh(db, site).photo is None
    assert list(photos.iterdir()) == []
    assert client.get(f"/sites/{site.id}/photo").status_code == 404
    assert "/photo" not in client.get(f"/sites/{site.id}").get_data(as_text=True)
    changes = [
        e.details["changes"]["photo"]
        for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "site_updated").order_by(AuditEvent.id)
        )
        if "photo" in e.details["changes"]
    ]
    assert changes == [[None, first], [first, second], [second, None]]


def test_a_rolled_back_change_leaves_the_old_photo_and_no_new_file(
    db, photos, make_site, make_user
):
    admin = make_user(is_admin=True)
    site = make_site()
    site_photos.change_photo(admin, site.id, photos, data=image("JPEG"))
    db.session.commit()
    old = site.photo
    site_photos.change_photo(admin, site.id, photos, data=image("PNG"))
    assert len(list(photos.iterdir())) == 2  # written, not yet committed
    db.session.rollback()
    assert [p.name for p in photos.iterdir()] == [old]
    assert fresh(db, site).photo == old
    with pytest.raises(InvalidRequest) as caught:
        site_photos.change_photo(admin, site.id, photos, data=b"")
    assert caught.value.field == "photo"


def test_an_administrator_creates_a_site_with_a_photo(client, db, photos, make_user, login_as):
    login_as(make_user(is_admin=True))
    response = client.post(
        "/admin/sites/new",
        data={
            "name": "Stadtpark",
            "kind": "park",
            "district": "Mitte",
            "timezone": "Europe/Berlin",
            "photo": (io.BytesIO(image("WEBP")), "park.webp"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    site = db.session.scalar(select(Site).where(Site.name == "Stadtpark"))
    assert site.photo.endswith(".webp") and (photos / site.photo).is_file()


def test_no_photo_is_a_404(client, db, photos, make_site):
    site = make_site()
    assert client.get(f"/sites/{site.id}/photo").status_code == 404
    assert client.get("/sites/424242/photo").status_code == 404


def test_an_inactive_sites_photo_is_for_its_managers_only(
    client, db, photos, make_site, make_user, new_client, login_as
):
    site = make_site(active=False)
    admin = make_user(is_admin=True)
    site_photos.change_photo(admin, site.id, photos, data=image("JPEG"))
    db.session.commit()
    assert new_client().get(f"/sites/{site.id}/photo").status_code == 404
    login_as(make_user(manages=[site]))
    served = client.get(f"/sites/{site.id}/photo")
    assert served.status_code == 200
    assert served.cache_control.private and served.cache_control.no_cache
