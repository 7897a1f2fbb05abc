from __future__ import annotations

from flask import render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from booking.extensions import db
from booking.models import Room, Site
from booking.web import bp


@bp.get("/")
def home():
    sites = db.session.scalars(
        select(Site)
        .where(Site.active)
        .options(selectinload(Site.rooms).selectinload(Room.feature_rows))
        .order_by(Site.district, Site.name)
    ).all()
    return render_template("home.html", sites=sites)
