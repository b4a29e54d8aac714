"""SQLAlchemy 2.x makes a table of every generic column type it offers on the database of an
Athanor URL (argv[1]), writes rows, and prints them as SQLAlchemy reads them back (common.py's
JSON form). Types left out, and why (docs/types.md, "Schemas other tools made"):
  Interval   PostgreSQL INTERVAL has no portable type; elsewhere SQLAlchemy stores a DATETIME
             relative to 1970, which Athanor reads as that date-time, not as a duration
  PickleType the tool's answer is the unpickled object; the column is a LargeBinary (covered)
  ARRAY      PostgreSQL only
"""
import datetime
import decimal
import sys
import uuid

import sqlalchemy as sa

from common import cell, emit, sqlalchemy_engine


md = sa.MetaData()
types = sa.Table(
    "sa_types",
    md,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("small", sa.SmallInteger),
    sa.Column("big", sa.BigInteger),
    sa.Column("flag", sa.Boolean),
    sa.Column("name", sa.String(40)),
    sa.Column("body", sa.Text),
    sa.Column("uname", sa.Unicode(40)),
    sa.Column("utext", sa.UnicodeText),
    sa.Column("amount", sa.Numeric(10, 2)),
    sa.Column("ratio", sa.Float),
    sa.Column("dbl", sa.Double),
    sa.Column("day", sa.Date),
    sa.Column("at", sa.DateTime),
    sa.Column("at_tz", sa.DateTime(timezone=True)),
    sa.Column("clock", sa.Time),
    sa.Column("data", sa.LargeBinary),
    sa.Column("uid", sa.Uuid),
    sa.Column("doc", sa.JSON),
    sa.Column("mood", sa.Enum("happy", "sad", name="sa_mood")),
)
utc = datetime.timezone.utc
rows = [
    dict(id=1, small=7, big=9007199254740993, flag=True, name="plain", body="a longer text\nwith a line",
         uname="Ωmega ✓", utext="ünïcödé text", amount=decimal.Decimal("12.50"), ratio=1.5, dbl=0.1,
         day=datetime.date(2024, 2, 29), at=datetime.datetime(2009, 1, 2, 3, 4, 5),
         at_tz=datetime.datetime(2021, 6, 30, 23, 59, 58, tzinfo=utc), clock=datetime.time(13, 14, 15),
         data=b"\x00\x01\xfe\xff", uid=uuid.UUID("12345678-1234-5678-1234-567812345678"),
         doc={"a": 1, "list": [1, 2.5, "x"], "nested": {"b": None}}, mood="happy"),
    dict(id=2, small=-32768, big=-1, flag=False, name="", body="", uname="", utext="",
         amount=decimal.Decimal("-99999999.99"), ratio=-2.25, dbl=-1e-300, day=datetime.date(1969, 12, 31),
         at=datetime.datetime(1999, 12, 31, 23, 59, 59), at_tz=datetime.datetime(1970, 1, 1, tzinfo=utc),
         clock=datetime.time(0, 0), data=b"", uid=uuid.UUID(int=0), doc=[], mood="sad"),
    dict(id=3, small=None, big=None, flag=None, name=None, body=None, uname=None, utext=None, amount=None,
         ratio=None, dbl=None, day=None, at=None, at_tz=None, clock=None, data=None, uid=None, doc=None,
         mood=None),
]

engine = sqlalchemy_engine(sys.argv[1])
md.create_all(engine)
with engine.begin() as conn:
    conn.execute(types.insert(), rows)
with engine.connect() as conn:
    got = conn.execute(sa.select(types).order_by(types.c.id)).all()
emit({"sa_types": {"columns": [c.name for c in types.columns], "rows": [[cell(v) for v in r] for r in got]}})
engine.dispose()
