//! The mapped models every scenario uses (the seed's customers, plus shapes that exercise
//! flush ordering, composite keys and every supported field type).

use athanor::prelude::*;

/// The seed's customer.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "customers")]
pub struct Customer {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// Name.
    pub name: String,
    /// Nullable address.
    pub address: Option<String>,
    /// Unique email.
    #[column(unique, length = 255)]
    pub email: String,
    /// Age.
    pub age: i32,
}

impl Customer {
    /// A new customer without a key.
    pub fn new(name: &str, email: &str, age: i32) -> Self {
        Customer { id: None, name: name.into(), address: None, email: email.into(), age }
    }
}

/// An order of a customer (foreign key, index).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "orders")]
pub struct Order {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// The customer.
    #[column(foreign_key = "customers.id", index)]
    pub customer_id: i64,
    /// Total.
    pub total_cents: i64,
}

/// A parent with an explicit key (flush-order tests add children first).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "parents")]
pub struct Parent {
    /// Explicit key.
    #[column(primary_key)]
    pub id: i64,
    /// Name.
    pub name: String,
}

/// A child of a parent, explicit key.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "children")]
pub struct Child {
    /// Explicit key.
    #[column(primary_key)]
    pub id: i64,
    /// The parent.
    #[column(foreign_key = "parents.id")]
    pub parent_id: i64,
    /// Name.
    pub name: String,
}

/// A composite primary key.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "memberships")]
pub struct Membership {
    /// Key part 1.
    #[column(primary_key)]
    pub group_id: i32,
    /// Key part 2.
    #[column(primary_key, length = 100)]
    pub user_name: String,
    /// Payload.
    pub role: String,
}

/// Every supported field type, nullable and not.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "type_samples")]
pub struct TypeSample {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// bool
    pub b: bool,
    /// i16
    pub small: i16,
    /// i32
    pub int: i32,
    /// i64
    pub big: i64,
    /// f32
    pub real: f32,
    /// f64
    pub double: f64,
    /// String
    pub text: String,
    /// `Vec<u8>`
    pub blob: Vec<u8>,
    /// `Option<bool>`
    pub ob: Option<bool>,
    /// `Option<i16>`
    pub osmall: Option<i16>,
    /// `Option<i32>`
    pub oint: Option<i32>,
    /// `Option<i64>`
    pub obig: Option<i64>,
    /// `Option<f32>`
    pub oreal: Option<f32>,
    /// `Option<f64>`
    pub odouble: Option<f64>,
    /// `Option<String>`
    pub otext: Option<String>,
    /// `Option<Vec<u8>>`
    pub oblob: Option<Vec<u8>>,
}

/// A table written with 64-bit values …
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "wide_values")]
pub struct Wide {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// A 64-bit value.
    pub n: i64,
}

/// … read back through a model that expects 32 bits (a type mismatch when a value does not fit).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "wide_values")]
pub struct Narrow {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// Too narrow for some rows.
    pub n: i32,
}

/// A bank account (ACID workloads).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "accounts")]
pub struct Account {
    /// Explicit key.
    #[column(primary_key)]
    pub id: i64,
    /// Balance in cents.
    pub balance: i64,
}

/// A table whose only column is its generated key.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "tickets")]
pub struct Ticket {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
}

/// Unsigned integers and UUIDs (a UUID primary key: not generated, compared by its bytes).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "gadgets")]
pub struct Gadget {
    /// The key, chosen by the application.
    #[column(primary_key)]
    pub id: uuid::Uuid,
    /// Name.
    #[column(length = 40)]
    pub label: String,
    /// `u8`.
    pub level: u8,
    /// `u16`.
    pub port: u16,
    /// `u32`.
    pub count: u32,
    /// A nullable UUID.
    pub tag: Option<uuid::Uuid>,
    /// A nullable `u32`.
    pub ocount: Option<u32>,
}

/// Instants (`jiff::Timestamp`), one of them nullable.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "events")]
pub struct Event {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// Name.
    #[column(length = 40)]
    pub name: String,
    /// When it starts.
    pub at: jiff::Timestamp,
    /// When it ends, if known.
    pub ends: Option<jiff::Timestamp>,
}

/// Civil dates and times (`jiff::civil`), no time zone.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "shifts")]
pub struct Shift {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// The day.
    pub day: jiff::civil::Date,
    /// When it starts, local time.
    pub starts: jiff::civil::Time,
    /// The local date and time it was planned at.
    pub planned: jiff::civil::DateTime,
    /// A second day, if any.
    pub other: Option<jiff::civil::Date>,
}

/// `events` read with chrono's instant (the same table as [`Event`]: not registered).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "events")]
pub struct ChronoEvent {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// Name.
    #[column(length = 40)]
    pub name: String,
    /// When it starts.
    pub at: chrono::DateTime<chrono::Utc>,
    /// When it ends, if known.
    pub ends: Option<chrono::DateTime<chrono::Utc>>,
}

/// `shifts` read with chrono's civil types (the same table as [`Shift`]: not registered).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "shifts")]
pub struct ChronoShift {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// The day.
    pub day: chrono::NaiveDate,
    /// When it starts, local time.
    pub starts: chrono::NaiveTime,
    /// The local date and time it was planned at.
    pub planned: chrono::NaiveDateTime,
    /// A second day, if any.
    pub other: Option<chrono::NaiveDate>,
}

/// `events` read with the time crate's instant (the same table as [`Event`]: not registered).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "events")]
pub struct TimeEvent {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// Name.
    #[column(length = 40)]
    pub name: String,
    /// When it starts.
    pub at: time::OffsetDateTime,
    /// When it ends, if known.
    pub ends: Option<time::OffsetDateTime>,
}

/// `shifts` read with the time crate's civil types (the same table as [`Shift`]: not registered).
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "shifts")]
pub struct TimeShift {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// The day.
    pub day: time::Date,
    /// When it starts, local time.
    pub starts: time::Time,
    /// The local date and time it was planned at.
    pub planned: time::PrimitiveDateTime,
    /// A second day, if any.
    pub other: Option<time::Date>,
}

/// A validated email address stored as text: a newtype mapped with one `DbNewtype` impl.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Email(String);

impl Email {
    /// An address with an `@`, or an error.
    ///
    /// # Errors
    /// `InvalidRequest` for text without `@`.
    pub fn parse(s: &str) -> athanor::Result<Email> {
        if s.contains('@') {
            Ok(Email(s.to_string()))
        } else {
            Err(athanor::Error::invalid_request(format!("not an email address: {s:?}")))
        }
    }
}

impl athanor::DbNewtype for Email {
    type Inner = String;
    fn inner(&self) -> &String {
        &self.0
    }
    fn into_inner(self) -> String {
        self.0
    }
    fn from_inner(s: String) -> athanor::Result<Email> {
        Email::parse(&s)
    }
}

/// A ticket's state, stored as text (`rename` for one variant).
#[derive(athanor::DbEnum, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// New.
    Open,
    /// Being worked on.
    #[db_enum(rename = "in_progress")]
    Working,
    /// Done.
    Closed,
}

/// A priority, stored as an integer.
#[derive(athanor::DbEnum, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[db_enum(int)]
pub enum Level {
    /// Low.
    Low = 1,
    /// High.
    High = 10,
    /// Urgent.
    Urgent = 100,
}

/// A task with an enum stored as text and one stored as an integer.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "tasks")]
pub struct Task {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// The stage (indexed: a VARCHAR as long as the longest value).
    #[column(index)]
    pub stage: Stage,
    /// The level, if set.
    pub level: Option<Level>,
}

/// A contact with a newtype field and a nullable one.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "contacts")]
pub struct Contact {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// The address (unique).
    #[column(unique, length = 120)]
    pub email: Email,
    /// A second address.
    pub backup: Option<Email>,
}

/// The catalog of the models above (all but `Narrow` and the chrono and time models, which map
/// other models' tables).
pub fn base() -> Base {
    Base::new()
        .register::<Customer>()
        .register::<Order>()
        .register::<Parent>()
        .register::<Child>()
        .register::<Membership>()
        .register::<TypeSample>()
        .register::<Wide>()
        .register::<Account>()
        .register::<Ticket>()
        .register::<Gadget>()
        .register::<Event>()
        .register::<Shift>()
        .register::<Contact>()
        .register::<Task>()
        .register::<Price>()
        .register::<Doc>()
}

/// Exact decimals (feature `decimal`) and `u64` within `i64`.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "prices")]
pub struct Price {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// Name.
    #[column(length = 40)]
    pub label: String,
    /// Money: 10 digits before the point, 2 after.
    #[column(precision = 12, scale = 2)]
    pub amount: athanor::Decimal,
    /// The widest decimal: 28 digits, 10 after the point.
    #[column(precision = 28, scale = 10)]
    pub rate: Option<athanor::Decimal>,
    /// `u64`, stored within `i64`.
    pub serial: u64,
}

/// What a [`Doc`]'s typed document holds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Meta {
    /// Tags.
    pub tags: Vec<String>,
    /// An optional score.
    pub score: Option<i32>,
}

/// JSON documents (feature `json`): any `serde_json::Value`, and a typed one.
#[derive(Model, Debug, Clone, PartialEq)]
#[model(table = "docs")]
pub struct Doc {
    /// Generated key.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// Name.
    #[column(length = 40)]
    pub name: String,
    /// Any document.
    pub body: athanor::serde_json::Value,
    /// A typed document.
    pub meta: Option<athanor::Json<Meta>>,
}

/// The blog graph of the relationships scenarios: users → posts → comments, tags through an
/// association table, a self-referential category tree, and reviews whose NOT NULL key has no
/// delete cascade.
pub mod blog {
    use athanor::prelude::*;

    /// A user and their posts (deleted with the user; a post removed from `posts` is deleted).
    #[derive(Model, Debug, Clone, Default)]
    #[model(table = "users")]
    pub struct User {
        /// Generated key.
        #[column(primary_key)]
        pub id: Option<i64>,
        /// Name.
        pub name: String,
        /// One-to-many through `posts.user_id`.
        #[relationship(back_populates = "author", cascade = "all, delete-orphan", order_by = "id")]
        pub posts: HasMany<Post>,
    }

    /// A post.
    #[derive(Model, Debug, Clone, Default)]
    #[model(table = "posts")]
    pub struct Post {
        /// Generated key.
        #[column(primary_key)]
        pub id: Option<i64>,
        /// The author.
        #[column(foreign_key = "users.id", index)]
        pub user_id: Option<i64>,
        /// The category.
        #[column(foreign_key = "categories.id")]
        pub category_id: Option<i64>,
        /// Title.
        pub title: String,
        /// Score.
        pub score: i32,
        /// Many-to-one through `user_id`.
        #[relationship(back_populates = "posts")]
        pub author: BelongsTo<User>,
        /// Many-to-one through `category_id`.
        #[relationship(back_populates = "posts")]
        pub category: BelongsTo<Category>,
        /// Many-to-many through `post_tags`.
        #[relationship(secondary = "post_tags", back_populates = "posts")]
        pub tags: ManyToMany<Tag>,
        /// One-to-many through `comments.post_id`.
        #[relationship(back_populates = "post", cascade = "all, delete-orphan")]
        pub comments: HasMany<Comment>,
        /// One-to-many through `reviews.post_id` (NOT NULL, no delete cascade).
        #[relationship(back_populates = "post")]
        pub reviews: HasMany<Review>,
    }

    /// A comment on a post.
    #[derive(Model, Debug, Clone, Default)]
    #[model(table = "comments")]
    pub struct Comment {
        /// Generated key.
        #[column(primary_key)]
        pub id: Option<i64>,
        /// The post.
        #[column(foreign_key = "posts.id", index)]
        pub post_id: Option<i64>,
        /// Text.
        pub body: String,
        /// Many-to-one through `post_id`.
        #[relationship(back_populates = "comments")]
        pub post: BelongsTo<Post>,
    }

    /// A tag.
    #[derive(Model, Debug, Clone, Default)]
    #[model(table = "tags")]
    pub struct Tag {
        /// Generated key.
        #[column(primary_key)]
        pub id: Option<i64>,
        /// Unique name.
        #[column(unique, length = 50)]
        pub name: String,
        /// Many-to-many through `post_tags`, ordered by title.
        #[relationship(secondary = "post_tags", back_populates = "tags", order_by = "title, id")]
        pub posts: ManyToMany<Post>,
    }

    /// A node of the category tree.
    #[derive(Model, Debug, Clone, Default)]
    #[model(table = "categories")]
    pub struct Category {
        /// Generated key.
        #[column(primary_key)]
        pub id: Option<i64>,
        /// The parent node (NULL for a root).
        #[column(foreign_key = "categories.id")]
        pub parent_id: Option<i64>,
        /// Name.
        pub name: String,
        /// Many-to-one through `parent_id`.
        #[relationship(back_populates = "children")]
        pub parent: BelongsTo<Category>,
        /// One-to-many through `parent_id` (no delete cascade: children of a deleted node
        /// become roots).
        #[relationship(back_populates = "parent", order_by = "id")]
        pub children: HasMany<Category>,
        /// The posts filed here.
        #[relationship(back_populates = "category")]
        pub posts: HasMany<Post>,
    }

    /// A review: its key to the post is NOT NULL and has no delete cascade.
    #[derive(Model, Debug, Clone, Default)]
    #[model(table = "reviews")]
    pub struct Review {
        /// Generated key.
        #[column(primary_key)]
        pub id: Option<i64>,
        /// The post.
        #[column(foreign_key = "posts.id")]
        pub post_id: i64,
        /// Stars.
        pub stars: i32,
        /// Many-to-one through `post_id`.
        #[relationship(back_populates = "reviews")]
        pub post: BelongsTo<Post>,
    }

    /// A team and its players; its captain is one of them: the two tables reference each other.
    #[derive(Model, Debug, Clone, Default)]
    #[model(table = "teams")]
    pub struct Team {
        /// Generated key.
        #[column(primary_key)]
        pub id: Option<i64>,
        /// Name.
        pub name: String,
        /// The captain (a player).
        #[column(foreign_key = "players.id")]
        pub captain_id: Option<i64>,
        /// Many-to-one through `captain_id`.
        pub captain: BelongsTo<Player>,
        /// One-to-many through `players.team_id`.
        #[relationship(back_populates = "team")]
        pub players: HasMany<Player>,
    }

    /// A player of a team.
    #[derive(Model, Debug, Clone, Default)]
    #[model(table = "players")]
    pub struct Player {
        /// Generated key.
        #[column(primary_key)]
        pub id: Option<i64>,
        /// Name.
        pub name: String,
        /// The team.
        #[column(foreign_key = "teams.id")]
        pub team_id: Option<i64>,
        /// Many-to-one through `team_id`.
        #[relationship(back_populates = "players")]
        pub team: BelongsTo<Team>,
    }

    /// A shelf whose books load with it (`lazy = "selectin"`).
    #[derive(Model, Debug, Clone, Default)]
    #[model(table = "shelves")]
    pub struct Shelf {
        /// Generated key.
        #[column(primary_key)]
        pub id: Option<i64>,
        /// Name.
        pub name: String,
        /// One-to-many, selectin by default.
        #[relationship(back_populates = "shelf", lazy = "selectin")]
        pub books: HasMany<Book>,
    }

    /// A book whose shelf is joined by default and whose labels are lazy.
    #[derive(Model, Debug, Clone, Default)]
    #[model(table = "books")]
    pub struct Book {
        /// Generated key.
        #[column(primary_key)]
        pub id: Option<i64>,
        /// The shelf.
        #[column(foreign_key = "shelves.id")]
        pub shelf_id: Option<i64>,
        /// Title.
        pub title: String,
        /// Many-to-one, joined by default.
        #[relationship(back_populates = "books", lazy = "joined")]
        pub shelf: BelongsTo<Shelf>,
        /// One-to-many, lazy.
        #[relationship(back_populates = "book")]
        pub labels: HasMany<Label>,
    }

    /// A label on a book, whose book must never be loaded on demand (`lazy = "raise"`).
    #[derive(Model, Debug, Clone, Default)]
    #[model(table = "labels")]
    pub struct Label {
        /// Generated key.
        #[column(primary_key)]
        pub id: Option<i64>,
        /// The book.
        #[column(foreign_key = "books.id")]
        pub book_id: Option<i64>,
        /// Text.
        pub text: String,
        /// Many-to-one, raise by default.
        #[relationship(back_populates = "labels", lazy = "raise")]
        pub book: BelongsTo<Book>,
    }

    /// Shelves, books and labels: relationships with default strategies.
    pub fn shelf_base() -> Base {
        Base::new().register::<Shelf>().register::<Book>().register::<Label>()
    }

    /// Teams and players: a foreign-key cycle between two tables.
    pub fn cycle_base() -> Base {
        Base::new().register::<Team>().register::<Player>()
    }

    /// The blog's declarative base (the association table comes with `Post`).
    pub fn base() -> Base {
        Base::new()
            .register::<User>()
            .register::<Category>()
            .register::<Post>()
            .register::<Comment>()
            .register::<Tag>()
            .register::<Review>()
    }
}
