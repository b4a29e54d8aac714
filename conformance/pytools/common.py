"""What the other tools' scripts share: a database URL in each tool's form, and a cell as the
JSON value the Rust test compares (cli/tests/other_tools.rs):

    None -> null, bool, int, float as they are; Decimal -> its digits without trailing zeros
    ("1.5"); date -> "YYYY-MM-DD"; naive datetime -> "YYYY-MM-DDTHH:MM:SS.ffffff"; aware
    datetime -> the same in UTC; time -> "HH:MM:SS.ffffff"; bytes -> lowercase hex; UUID ->
    32 lowercase hex digits; dict/list (JSON) -> as they are; str -> as it is.
"""
import datetime
import decimal
import json
import sys
import uuid
from urllib.parse import urlsplit


def parts(url):
    """(kind, host, port, user, password, database or sqlite path) of an Athanor URL."""
    if url.startswith("sqlite://"):
        return ("sqlite", None, None, None, None, url[len("sqlite://"):].split("?")[0])
    u = urlsplit(url)
    kind = "postgres" if u.scheme in ("postgres", "postgresql") else "mysql"
    port = u.port or (5432 if kind == "postgres" else 3306)
    return (kind, u.hostname, port, u.username or "", u.password or "", u.path.lstrip("/"))


def decimal_text(d):
    s = format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def cell(v):
    if v is None or isinstance(v, (bool, int, float, str, dict, list)):
        return v
    if isinstance(v, decimal.Decimal):
        return decimal_text(v)
    if isinstance(v, datetime.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return v.strftime("%Y-%m-%dT%H:%M:%S.%f")
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, datetime.time):
        return v.strftime("%H:%M:%S.%f")
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).hex()
    if isinstance(v, uuid.UUID):
        return v.hex
    raise TypeError(f"no JSON form for {type(v).__name__}: {v!r}")


def emit(tables):
    """Print {table: [[cell, ...] per row in key order]} with the columns' names."""
    json.dump(tables, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")


def sqlalchemy_engine(url):
    """A SQLAlchemy engine on the database of an Athanor URL, with pure-Python drivers
    (pg8000, PyMySQL)."""
    import sqlalchemy as sa

    kind, host, port, user, password, db = parts(url)
    if kind == "sqlite":
        return sa.create_engine(f"sqlite:///{db}")
    auth = f"{user}:{password}@" if password else f"{user}@"
    if kind == "postgres":
        return sa.create_engine(f"postgresql+pg8000://{auth}{host}:{port}/{db}")
    return sa.create_engine(f"mysql+pymysql://{auth}{host}:{port}/{db}?charset=utf8mb4")
