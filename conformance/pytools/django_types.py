"""Django makes a table of every common model field type it offers on the database of an
Athanor URL (argv[1]) with its schema editor, writes rows with the ORM, and prints them as
Django reads them back (common.py's JSON form). On MariaDB it uses PyMySQL as MySQLdb (Django's
backend wants mysqlclient, a C extension). Fields left out, and why (docs/types.md, "Schemas
other tools made"):
  DurationField          PostgreSQL INTERVAL has no portable type (elsewhere a BIGINT of
                         microseconds, which Athanor reads as that number)
  GenericIPAddressField  PostgreSQL INET has no portable type (elsewhere CHAR(39) text)
  FileField, ImageField  CharFields holding a path (CharField is covered)
"""
import datetime
import decimal
import sys
import uuid

import django
from django.conf import settings

from common import cell, emit, parts

kind, host, port, user, password, db = parts(sys.argv[1])
if kind == "sqlite":
    database = {"ENGINE": "django.db.backends.sqlite3", "NAME": db}
elif kind == "postgres":
    database = {"ENGINE": "django.db.backends.postgresql", "NAME": db, "HOST": host, "PORT": port,
                "USER": user, "PASSWORD": password}
else:
    import pymysql

    pymysql.install_as_MySQLdb()
    database = {"ENGINE": "django.db.backends.mysql", "NAME": db, "HOST": host, "PORT": port, "USER": user,
                "PASSWORD": password, "OPTIONS": {"charset": "utf8mb4"}}
settings.configure(DATABASES={"default": database}, INSTALLED_APPS=[], USE_TZ=True, TIME_ZONE="UTC",
                   DEFAULT_AUTO_FIELD="django.db.models.AutoField")
django.setup()

from django.db import connection, models  # noqa: E402  (after settings)


class DjTypes(models.Model):
    id = models.AutoField(primary_key=True)
    small = models.SmallIntegerField(null=True)
    integer = models.IntegerField(null=True)
    big = models.BigIntegerField(null=True)
    psmall = models.PositiveSmallIntegerField(null=True)
    pint = models.PositiveIntegerField(null=True)
    pbig = models.PositiveBigIntegerField(null=True)
    flag = models.BooleanField(null=True)
    name = models.CharField(max_length=40, null=True)
    slug = models.SlugField(null=True)
    email = models.EmailField(null=True)
    url = models.URLField(null=True)
    body = models.TextField(null=True)
    amount = models.DecimalField(max_digits=10, decimal_places=2, null=True)
    ratio = models.FloatField(null=True)
    day = models.DateField(null=True)
    at = models.DateTimeField(null=True)
    clock = models.TimeField(null=True)
    data = models.BinaryField(null=True)
    uid = models.UUIDField(null=True)
    doc = models.JSONField(null=True)
    parent = models.ForeignKey("self", null=True, on_delete=models.CASCADE)

    class Meta:
        app_label = "pytools"
        db_table = "dj_types"


utc = datetime.timezone.utc
rows = [
    dict(id=1, small=7, integer=2147483647, big=9007199254740993, psmall=32767, pint=4000000000 % 2147483648,
         pbig=9223372036854775807, flag=True, name="Ωmega ✓", slug="a-slug", email="a@example.com",
         url="https://example.com/x?y=1", body="a longer text\nwith a line", amount=decimal.Decimal("12.50"),
         ratio=0.1, day=datetime.date(2024, 2, 29), at=datetime.datetime(2021, 6, 30, 23, 59, 58, 123456, tzinfo=utc),
         clock=datetime.time(13, 14, 15, 500000), data=b"\x00\x01\xfe\xff",
         uid=uuid.UUID("12345678-1234-5678-1234-567812345678"), doc={"a": 1, "list": [1, 2.5, "x"]}, parent=None),
    dict(id=2, small=-32768, integer=-2147483648, big=-1, psmall=0, pint=0, pbig=0, flag=False, name="", slug="",
         email="", url="", body="", amount=decimal.Decimal("-99999999.99"), ratio=-1e-300,
         day=datetime.date(1969, 12, 31), at=datetime.datetime(1970, 1, 1, tzinfo=utc), clock=datetime.time(0, 0),
         data=b"", uid=uuid.UUID(int=0), doc=[], parent_id=1),
    dict(id=3, parent_id=1),
]
with connection.schema_editor() as editor:
    editor.create_model(DjTypes)
for r in rows:
    DjTypes.objects.create(**r)
names = [f.column for f in DjTypes._meta.concrete_fields]
fields = [f.attname for f in DjTypes._meta.concrete_fields]
got = DjTypes.objects.order_by("id").values_list(*fields)
emit({"dj_types": {"columns": names, "rows": [[cell(v) for v in r] for r in got]}})
