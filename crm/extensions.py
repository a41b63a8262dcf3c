"""Bare extension instances, bound to an app in create_app()."""

from __future__ import annotations

from typing import Any

import orjson
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so Alembic migrations are reproducible on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def json_text(value: Any) -> str:
    """Return the JSON text a JSON column stores for a value.

    orjson, not json.dumps: a gap import writes four JSON values per referring
    domain, and json.dumps took about a tenth of an 800,000-domain import. Keys
    that are not strings become strings, as json.dumps makes them; NaN (which
    PostgreSQL's json refuses) becomes null.
    """
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


db = SQLAlchemy(model_class=Base, engine_options={"json_serializer": json_text})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
