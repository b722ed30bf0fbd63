"""A sweep's --storage URL: masked wherever it is shown or stored, and made ready to connect.

    masked("postgresql://me:secret@db.lan/sweeps")  -> "postgresql://me:***@db.lan/sweeps"   (printed, sweep.json)
    connect_url("postgresql://me:secret@db.lan/sweeps") -> "postgresql+psycopg://me:secret@db.lan/sweeps"

PostgreSQL goes through psycopg 3 (the [postgres] extra) whatever SQLAlchemy's default driver for postgresql://
is. A URL read back from sweep.json has the password masked: connecting with it leaves the password out, so libpq
takes it from PGPASSWORD or ~/.pgpass (or pass --storage with the password again).
"""
from __future__ import annotations

import re

from ..core.extras import require

MASK = "***"
PG_SCHEMES = ("postgresql", "postgres")
_QUERY_PASSWORD = re.compile(r"(?i)([?&]password=)[^&#]*")
_USERINFO_PASSWORD = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/?#@:]*:)[^/?#@]*@")


def _parse(url: str):
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    try:
        return make_url(url)
    except Exception:  # noqa: BLE001 - not a URL SQLAlchemy reads: the caller's regex fallback or its own error
        return None


def masked(url: str | None) -> str | None:
    """The URL with its password (in the user part or a password= query value) as ***: safe to print and store."""
    if not url:
        return url
    out = _USERINFO_PASSWORD.sub(rf"\1{MASK}@", url)
    return _QUERY_PASSWORD.sub(rf"\1{MASK}", out)


def is_postgres(url: str) -> bool:
    return url.split(":", 1)[0].split("+", 1)[0].lower() in PG_SCHEMES


def connect_url(url: str) -> str:
    """The URL to hand SQLAlchemy: postgresql:// (or postgres://) with the psycopg 3 driver, and a masked password
    left out (libpq then reads PGPASSWORD or ~/.pgpass). Other URLs unchanged."""
    u = _parse(url) if is_postgres(url) or MASK in url else None
    if u is None:
        return url
    if u.drivername in PG_SCHEMES:
        u = u.set(drivername="postgresql+psycopg")
    q = {k: v for k, v in u.query.items() if not (k.lower() == "password" and v == MASK)}
    u = u.create(u.drivername, u.username, None if u.password == MASK else u.password, u.host, u.port, u.database, q)
    return u.render_as_string(hide_password=False)


def check_driver(url: str) -> None:
    """A PostgreSQL URL needs psycopg: without it, one line naming the extra (and never the password)."""
    if is_postgres(url) and connect_url(url).startswith("postgresql+psycopg"):
        require(f"--storage {masked(url)}", "postgres", "psycopg")
