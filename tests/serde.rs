//! Feature `serde` (docs/serde.md): models with relationship fields as JSON (loaded relationships
//! nested, unloaded ones `null` or left out, back-references cut so cycles end), read back as new
//! objects the session adds with their owner, `#[db_enum(serde)]`, and `Detached<T>`: a loaded
//! graph as a `Send + Sync` value serialized on another thread to the same JSON, made back into
//! models there. SQLite in memory, and the exact JSON once per backend (decimals, instants).
#![cfg(feature = "serde")]
#![allow(clippy::unwrap_used)] // a test: a failed unwrap is a failed test

use athanor::prelude::*;
use athanor::serialization::is_unloaded;
use athanor::{Decimal, Detached, Json, ObjectState};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as JsonValue};

/// Stored as text; serialized as stored (`"in_print"`, not `"InPrint"`).
#[derive(DbEnum, Debug, Clone, Copy, PartialEq, Default)]
#[db_enum(serde)]
pub enum Status {
    /// Available.
    #[default]
    #[db_enum(rename = "in_print")]
    InPrint,
    /// Not any more.
    #[db_enum(rename = "out_of_print")]
    OutOfPrint,
}

/// Stored as an integer; serialized as that integer.
#[derive(DbEnum, Debug, Clone, Copy, PartialEq, Default)]
#[db_enum(int, serde)]
pub enum Shelf {
    /// By the door.
    #[default]
    Front = 1,
    /// In the back.
    Back = 7,
}

/// An author: the books are left out of the JSON when not loaded (or a back-reference).
#[derive(Model, Serialize, Deserialize, Debug, Clone, Default)]
#[model(table = "sd_authors")]
pub struct Author {
    /// Key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// Name.
    pub name: String,
    /// Books.
    #[serde(skip_serializing_if = "athanor::serialization::is_unloaded")]
    #[relationship(back_populates = "author", order_by = "id")]
    pub books: HasMany<Book>,
}

/// A book: its author and tags are `null` when not loaded.
#[derive(Model, Serialize, Deserialize, Debug, Clone, Default)]
#[model(table = "sd_books")]
pub struct Book {
    /// Key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// Author's key.
    #[column(foreign_key = "sd_authors.id")]
    pub author_id: Option<i64>,
    /// Title.
    pub title: String,
    /// Price.
    #[column(precision = 10, scale = 2)]
    pub price: Decimal,
    /// Published.
    pub published: jiff::Timestamp,
    /// Status.
    pub status: Status,
    /// Shelf.
    pub shelf: Option<Shelf>,
    /// Labels.
    pub labels: Json<Vec<String>>,
    /// Author.
    #[relationship(back_populates = "books")]
    pub author: BelongsTo<Author>,
    /// Tags.
    #[relationship(secondary = "sd_book_tags", back_populates = "books")]
    pub tags: ManyToMany<Tag>,
}

/// A tag.
#[derive(Model, Serialize, Deserialize, Debug, Clone, Default)]
#[model(table = "sd_tags")]
pub struct Tag {
    /// Key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// Name.
    pub name: String,
    /// Books.
    #[relationship(secondary = "sd_book_tags", back_populates = "tags")]
    pub books: ManyToMany<Book>,
}

fn base() -> Base {
    Base::new().register::<Author>().register::<Book>().register::<Tag>()
}

fn memory() -> Engine {
    let engine = create_engine("sqlite::memory:").unwrap();
    base().metadata().create_all(&engine).unwrap();
    engine
}

fn at(s: &str) -> jiff::Timestamp {
    s.parse().unwrap()
}

/// Ann (Dune: classic + scifi, Emma: classic), Bob (no books), a book with no author; tags made
/// first so that their keys are known.
fn seed(engine: &Engine) -> Result<()> {
    let s = sessionmaker(engine).session();
    let classic = s.add(Tag { name: "classic".into(), ..Default::default() });
    let scifi = s.add(Tag { name: "scifi".into(), ..Default::default() });
    s.flush()?;
    let ann = s.add(Author { name: "Ann".into(), ..Default::default() });
    s.add(Author { name: "Bob".into(), ..Default::default() });
    s.flush()?;
    s.add(Book {
        title: "Dune".into(),
        price: Decimal::new(1250, 2),
        published: at("1965-08-01T00:00:00Z"),
        labels: Json(vec!["sf".into()]),
        shelf: Some(Shelf::Back),
        author: BelongsTo::to(&ann),
        tags: ManyToMany::of([&classic, &scifi]),
        ..Default::default()
    });
    s.add(Book {
        title: "Emma".into(),
        price: Decimal::new(799, 2),
        published: at("1815-12-23T10:30:00.25Z"),
        status: Status::OutOfPrint,
        author: BelongsTo::to(&ann),
        tags: ManyToMany::of([&classic]),
        ..Default::default()
    });
    s.add(Book {
        title: "Anon".into(),
        price: Decimal::new(1, 0),
        published: at("2000-01-01T00:00:00Z"),
        ..Default::default()
    });
    s.commit()
}

/// The books with their authors and tags, as JSON: what every backend must produce.
fn expected_books() -> JsonValue {
    json!([
        {
            "id": 1, "author_id": 1, "title": "Dune", "price": "12.50", "published": "1965-08-01T00:00:00Z",
            "status": "in_print", "shelf": 7, "labels": ["sf"],
            "author": {"id": 1, "name": "Ann"},
            "tags": [{"id": 1, "name": "classic", "books": null}, {"id": 2, "name": "scifi", "books": null}]
        },
        {
            "id": 2, "author_id": 1, "title": "Emma", "price": "7.99", "published": "1815-12-23T10:30:00.25Z",
            "status": "out_of_print", "shelf": null, "labels": [],
            "author": {"id": 1, "name": "Ann"},
            "tags": [{"id": 1, "name": "classic", "books": null}]
        },
        {
            "id": 3, "author_id": null, "title": "Anon", "price": "1.00", "published": "2000-01-01T00:00:00Z",
            "status": "in_print", "shelf": null, "labels": [],
            "author": null,
            "tags": []
        }
    ])
}

fn books_with_authors_and_tags(s: &Session) -> Result<Vec<Handle<Book>>> {
    s.query::<Book>()
        .options(selectinload(Book::author))
        .options(selectinload(Book::tags))
        .order_by(Book::id.asc())
        .all()
}

/// The exact JSON of the graph, from the handles, from each borrowed model, and from the
/// `Detached` values serialized on another thread.
fn graph_as_json(engine: &Engine) -> Result<()> {
    seed(engine)?;
    let s = sessionmaker(engine).session();
    let books = books_with_authors_and_tags(&s)?;
    assert_eq!(serde_json::to_value(&books).unwrap(), expected_books());
    for (h, expected) in books.iter().zip(expected_books().as_array().unwrap()) {
        assert_eq!(&serde_json::to_value(&*h.get()).unwrap(), expected);
    }
    let owned = Detached::from_handles(&books)?;
    let there = std::thread::spawn(move || serde_json::to_value(&owned).unwrap()).join().unwrap();
    assert_eq!(there, expected_books());
    Ok(())
}

#[test]
fn a_loaded_graph_serializes_as_nested_json() -> Result<()> {
    graph_as_json(&memory())
}

// Decimals and instants come back from each database in its own form: the JSON is the same.
#[athanor::test(backends(sqlite, postgres, mysql), base = base)]
fn the_json_is_the_same_on_every_database(engine: Engine) -> Result<()> {
    graph_as_json(&engine)
}

#[test]
fn unloaded_relationships_are_null_or_left_out() -> Result<()> {
    let engine = memory();
    seed(&engine)?;
    let s = sessionmaker(&engine).session();
    let dune = s.get::<Book>(1)?.unwrap();
    let v = serde_json::to_value(&*dune.get()).unwrap();
    assert_eq!(v["author"], JsonValue::Null, "not loaded: null");
    assert_eq!(v["tags"], JsonValue::Null);
    assert!(is_unloaded(&dune.get().author) && is_unloaded(&dune.get().tags));
    // A loaded many-to-one that holds nothing is null too, but is not "unloaded".
    let anon = s.query::<Book>().filter(Book::id.eq(3)).options(selectinload(Book::author)).one()?;
    assert!(anon.get().author.is_loaded() && !is_unloaded(&anon.get().author));
    assert_eq!(serde_json::to_value(&*anon.get()).unwrap()["author"], JsonValue::Null);
    // `skip_serializing_if = is_unloaded`: left out.
    let ann = s.get::<Author>(1)?.unwrap();
    assert_eq!(serde_json::to_value(&ann).unwrap(), json!({"id": 1, "name": "Ann"}));
    // raiseload: not loaded either.
    let raised = s.query::<Author>().filter(Author::id.eq(2)).options(raiseload(Author::books)).one()?;
    assert_eq!(serde_json::to_value(&raised).unwrap(), json!({"id": 2, "name": "Bob"}));
    // Loaded and empty: an empty array.
    let bob = s.query::<Author>().filter(Author::id.eq(2)).options(selectinload(Author::books)).one()?;
    assert!(bob.get().books.is_loaded());
    assert_eq!(serde_json::to_value(&bob).unwrap(), json!({"id": 2, "name": "Bob", "books": []}));
    Ok(())
}

#[test]
fn back_references_are_cut_so_cycles_end() -> Result<()> {
    let engine = memory();
    seed(&engine)?;
    let s = sessionmaker(&engine).session();
    // Both sides of both relationships loaded: ann.books ↔ book.author, book.tags ↔ tag.books.
    let _tags = s.query::<Tag>().options(selectinload(Tag::books)).all()?;
    let ann = s
        .query::<Author>()
        .filter(Author::id.eq(1))
        .options(selectinload(Author::books).selectinload(Book::tags))
        .one()?;
    let dune = ann.get().books.iter().next().cloned().unwrap();
    assert!(dune.get().author.get().is_some_and(|a| Handle::ptr_eq(a, &ann)), "the cycle is there");
    assert!(dune.get().tags.iter().all(|t| t.get().books.contains(&dune)), "and the many-to-many one");

    let from_author = json!({
        "id": 1, "name": "Ann",
        "books": [
            {
                "id": 1, "author_id": 1, "title": "Dune", "price": "12.50", "published": "1965-08-01T00:00:00Z",
                "status": "in_print", "shelf": 7, "labels": ["sf"],
                "author": null,
                "tags": [{"id": 1, "name": "classic", "books": null}, {"id": 2, "name": "scifi", "books": null}]
            },
            {
                "id": 2, "author_id": 1, "title": "Emma", "price": "7.99", "published": "1815-12-23T10:30:00.25Z",
                "status": "out_of_print", "shelf": null, "labels": [],
                "author": null,
                "tags": [{"id": 1, "name": "classic", "books": null}]
            }
        ]
    });
    assert_eq!(serde_json::to_value(&*ann.get()).unwrap(), from_author);
    assert_eq!(serde_json::to_value(&ann).unwrap(), from_author);

    // From a book: its author's books hold the book being serialized, so they are left out;
    // each tag's books hold it too (null: Tag does not skip).
    let from_book = serde_json::to_value(&*dune.get()).unwrap();
    assert_eq!(from_book["author"], json!({"id": 1, "name": "Ann"}));
    assert_eq!(from_book["tags"][0], json!({"id": 1, "name": "classic", "books": null}));

    // From a tag: classic → its books (Dune, Emma) → each book's tags hold classic: null; each
    // book's author is loaded and not an ancestor, so it is written, and its books hold the
    // book being serialized: left out.
    let classic = s.get::<Tag>(1)?.unwrap();
    let from_tag = serde_json::to_value(&classic).unwrap();
    assert_eq!(from_tag["books"][1]["tags"], JsonValue::Null);
    assert_eq!(from_tag["books"][1]["author"], json!({"id": 1, "name": "Ann"}));

    // The same through Detached, on another thread.
    let owned = ann.to_owned_tree()?;
    let there = std::thread::spawn(move || serde_json::to_value(&owned).unwrap()).join().unwrap();
    assert_eq!(there, from_author);
    let owned = classic.to_owned_tree()?;
    let there = std::thread::spawn(move || serde_json::to_value(&owned).unwrap()).join().unwrap();
    assert_eq!(there, from_tag);
    Ok(())
}

/// `Detached<T>` is `Send + Sync + 'static`, `Clone` and `Debug`, for any model.
#[test]
fn detached_is_send_sync_static_clone_debug() {
    fn check<T: Send + Sync + 'static + Clone + std::fmt::Debug>() {}
    check::<Detached<Book>>();
    check::<Detached<Author>>();
    check::<Vec<Detached<Tag>>>();
}

#[test]
fn a_detached_graph_becomes_models_on_another_thread() -> Result<()> {
    let engine = memory();
    seed(&engine)?;
    let s = sessionmaker(&engine).session();
    let ann = s
        .query::<Author>()
        .filter(Author::id.eq(1))
        .options(selectinload(Author::books).selectinload(Book::tags))
        .one()?;
    let owned = ann.to_owned_tree()?;
    assert_eq!(
        format!("{:?}", Detached::from_handles(&s.query::<Tag>().filter(Tag::id.eq(2)).all()?)?),
        r#"[Detached(Tag { id: 2, name: "scifi", books: <not loaded> })]"#
    );
    let copy = owned.clone();
    let (names, states) = std::thread::spawn(move || {
        let model = owned.into_model().unwrap();
        let books: Vec<Handle<Book>> = model.books.iter().cloned().collect();
        let names: Vec<String> = books
            .iter()
            .map(|b| {
                let b = b.get();
                let tags: Vec<String> = b.tags.iter().map(|t| t.get().name.clone()).collect();
                format!("{} [{}] author loaded: {}", b.title, tags.join(", "), b.author.is_loaded())
            })
            .collect();
        let states: Vec<ObjectState> = books.iter().map(Handle::state).collect();
        (names, states)
    })
    .join()
    .unwrap();
    assert_eq!(
        names,
        ["Dune [classic, scifi] author loaded: false", "Emma [classic] author loaded: false"],
        "the back-reference book.author is not rebuilt: the rebuilt graph is a tree"
    );
    assert_eq!(states, [ObjectState::Detached, ObjectState::Detached]);

    // Made into a handle: detached; attached to a session, its edits are written, and its
    // relationships read as not loaded (their objects are not in that session).
    drop(s);
    let h = std::thread::spawn(move || copy).join().unwrap().into_handle()?;
    assert_eq!(h.state(), ObjectState::Detached);
    assert!(h.get().books.is_loaded());
    h.edit(|a| a.name = "Ann B.".into())?;
    let s = sessionmaker(&engine).session();
    s.add_handle(&h)?;
    assert!(!h.get().books.is_loaded());
    s.commit()?;
    let s = sessionmaker(&engine).session();
    assert_eq!(s.get::<Author>(1)?.unwrap().get().name, "Ann B.");
    Ok(())
}

#[test]
fn json_reads_back_as_new_objects_the_session_adds() -> Result<()> {
    let engine = memory();
    seed(&engine)?;
    // A round trip: JSON → models → the same JSON.
    let s = sessionmaker(&engine).session();
    let books = books_with_authors_and_tags(&s)?;
    let json = serde_json::to_value(&books).unwrap();
    let back: Vec<Book> = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), json);
    let detached: Vec<Detached<Book>> = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(serde_json::to_value(&detached).unwrap(), json);
    // Nested values are new objects; absent or null relationships are not loaded.
    assert_eq!(back[0].author.get().map(Handle::state), Some(ObjectState::Transient));
    let bare: Book = serde_json::from_value(json!({
        "id": null, "author_id": 2, "title": "Bare", "price": "3", "published": "2001-01-01T00:00:00Z",
        "status": "in_print", "shelf": 1, "labels": [], "tags": null
    }))
    .unwrap();
    assert!(!bare.author.is_loaded() && !bare.tags.is_loaded());
    assert_eq!(bare.shelf, Some(Shelf::Front));

    // A new book with a new author and a new tag: adding the book adds them (save-update).
    let new: Book = serde_json::from_value(json!({
        "id": null, "author_id": null, "title": "Solaris", "price": "9.5", "published": "1961-06-01T00:00:00Z",
        "status": "in_print", "shelf": null, "labels": ["pl"],
        "author": {"id": null, "name": "Stanisław"},
        "tags": [{"id": null, "name": "translated"}]
    }))
    .unwrap();
    drop(s); // its read transaction would keep SQLite's writer waiting
    let s = sessionmaker(&engine).session();
    let h = s.add(new);
    s.add(bare);
    s.commit()?;
    let id = h.get().id.unwrap();
    let s = sessionmaker(&engine).session();
    let solaris = s
        .query::<Book>()
        .filter(Book::id.eq(id))
        .options(selectinload(Book::author))
        .options(selectinload(Book::tags))
        .one()?;
    assert_eq!(
        serde_json::to_value(&solaris).unwrap(),
        json!({
            "id": 4, "author_id": 3, "title": "Solaris", "price": "9.50", "published": "1961-06-01T00:00:00Z",
            "status": "in_print", "shelf": null, "labels": ["pl"],
            "author": {"id": 3, "name": "Stanisław"},
            "tags": [{"id": 3, "name": "translated", "books": null}]
        })
    );
    assert_eq!(s.query::<Book>().filter(Book::title.eq("Bare")).one()?.get().author_id, Some(2));
    Ok(())
}

#[test]
fn db_enums_serialize_as_stored() {
    assert_eq!(serde_json::to_string(&Status::OutOfPrint).unwrap(), r#""out_of_print""#);
    assert_eq!(serde_json::to_string(&Shelf::Back).unwrap(), "7");
    assert_eq!(serde_json::from_str::<Status>(r#""in_print""#).unwrap(), Status::InPrint);
    assert_eq!(serde_json::from_str::<Shelf>("1").unwrap(), Shelf::Front);
    let e = serde_json::from_str::<Status>(r#""InPrint""#).unwrap_err().to_string();
    assert!(e.contains("unknown variant `InPrint`, expected `in_print` or `out_of_print`"), "{e}");
    let e = serde_json::from_str::<Shelf>("2").unwrap_err().to_string();
    assert!(e.contains("invalid value: integer `2`, expected one of 1, 7"), "{e}");
}

#[test]
fn a_new_graph_is_captured_as_it_would_be_stored() -> Result<()> {
    // A plain value (in no session) holding a pending author.
    let ann = Author { id: None, name: "Ann".into(), ..Default::default() };
    let engine = memory();
    let s = sessionmaker(&engine).session();
    let ann = s.add(ann);
    let book = Book {
        title: "Draft".into(),
        price: Decimal::new(15, 1),
        published: at("2024-03-01T12:00:00.123456789Z"),
        author: BelongsTo::to(&ann),
        ..Default::default()
    };
    let d = Detached::of(&book)?;
    let v = serde_json::to_value(&d).unwrap();
    // As the flush would store it: the decimal at its column's scale, the instant to the µs.
    assert_eq!(v["price"], json!("1.50"));
    assert_eq!(v["published"], json!("2024-03-01T12:00:00.123456Z"));
    assert_eq!(v["author"], json!({"id": null, "name": "Ann", "books": []}), "a new object's collections are loaded");
    // The pending author comes back transient: adding the book would insert it.
    let back = d.into_model()?;
    assert_eq!(back.author.get().map(Handle::state), Some(ObjectState::Transient));
    Ok(())
}
