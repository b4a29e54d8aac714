//! What serde costs (feature `serde`, docs/serde.md): 1000 books, each with its author and two
//! tags loaded, serialized from the handles, captured as `Detached` values and serialized from
//! those, against a hand-written DTO copy (what a handler did before). Medians of 30 runs.
//!
//! ```text
//! cargo run --release --example serde_cost
//! ```
#![allow(missing_docs)] // a program, not a library
use athanor::prelude::*;
use athanor::{Decimal, Detached};
use serde::{Deserialize, Serialize};
use std::time::Instant;

#[derive(Model, Serialize, Deserialize, Debug, Clone, Default)]
#[model(table = "authors")]
pub struct Author {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub name: String,
    #[serde(skip_serializing_if = "athanor::serialization::is_unloaded")]
    #[relationship(back_populates = "author")]
    pub books: HasMany<Book>,
}

#[derive(Model, Serialize, Deserialize, Debug, Clone, Default)]
#[model(table = "books")]
pub struct Book {
    #[column(primary_key)]
    pub id: Option<i64>,
    #[column(foreign_key = "authors.id")]
    pub author_id: Option<i64>,
    pub title: String,
    #[column(precision = 10, scale = 2)]
    pub price: Decimal,
    #[relationship(back_populates = "books")]
    pub author: BelongsTo<Author>,
    #[relationship(secondary = "book_tags", back_populates = "books")]
    pub tags: ManyToMany<Tag>,
}

#[derive(Model, Serialize, Deserialize, Debug, Clone, Default)]
#[model(table = "tags")]
pub struct Tag {
    #[column(primary_key)]
    pub id: Option<i64>,
    pub name: String,
    #[serde(skip_serializing_if = "athanor::serialization::is_unloaded")]
    #[relationship(secondary = "book_tags", back_populates = "tags")]
    pub books: ManyToMany<Book>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> athanor::Result<()> {
    let engine = create_engine("sqlite::memory:")?;
    Base::new().register::<Author>().register::<Book>().register::<Tag>().metadata().create_all(&engine)?;
    {
        let s = sessionmaker(&engine).session();
        let tags: Vec<_> = (0..20).map(|i| s.add(Tag { name: format!("tag{i}"), ..Default::default() })).collect();
        let authors: Vec<_> =
            (0..100).map(|i| s.add(Author { name: format!("author{i}"), ..Default::default() })).collect();
        for i in 0..1000 {
            s.add(Book {
                title: format!("book {i}"),
                price: Decimal::new(1000 + i, 2),
                author: BelongsTo::to(&authors[i as usize % 100]),
                tags: ManyToMany::of([&tags[i as usize % 20], &tags[(i as usize + 7) % 20]]),
                ..Default::default()
            });
        }
        s.commit()?;
    }
    let s = sessionmaker(&engine).session();
    let rows = s.query::<Book>().options(selectinload(Book::author)).options(selectinload(Book::tags)).all()?;
    let json = serde_json::to_vec(&rows).expect("books serialize");
    println!("1000 books, each with its author and 2 tags: {} bytes of JSON", json.len());
    let (mut direct, mut capture, mut ser_detached, mut dto) = (vec![], vec![], vec![], vec![]);
    for _ in 0..30 {
        let t = Instant::now();
        let a = serde_json::to_vec(&rows).expect("books serialize");
        direct.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let d = Detached::from_handles(&rows)?;
        capture.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let b = serde_json::to_vec(&d).expect("detached books serialize");
        ser_detached.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(a, b);
        // A hand-written DTO copy, what the issue's user wrote instead.
        #[derive(Serialize)]
        struct TagDto {
            id: Option<i64>,
            name: String,
        }
        #[derive(Serialize)]
        struct AuthorDto {
            id: Option<i64>,
            name: String,
        }
        #[derive(Serialize)]
        struct BookDto {
            id: Option<i64>,
            author_id: Option<i64>,
            title: String,
            price: Decimal,
            author: Option<AuthorDto>,
            tags: Vec<TagDto>,
        }
        let t = Instant::now();
        let dtos: Vec<BookDto> = rows
            .iter()
            .map(|h| {
                let b = h.get();
                BookDto {
                    id: b.id,
                    author_id: b.author_id,
                    title: b.title.clone(),
                    price: b.price,
                    author: b.author.get().map(|a| {
                        let a = a.get();
                        AuthorDto { id: a.id, name: a.name.clone() }
                    }),
                    tags: b
                        .tags
                        .iter()
                        .map(|t| {
                            let t = t.get();
                            TagDto { id: t.id, name: t.name.clone() }
                        })
                        .collect(),
                }
            })
            .collect();
        let c = serde_json::to_vec(&dtos).expect("DTOs serialize");
        dto.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(c.len(), a.len());
    }
    println!("serialize the handles:           {:.2} ms", median(direct));
    println!("Detached::from_handles:          {:.2} ms", median(capture));
    println!("serialize the Vec<Detached>:     {:.2} ms", median(ser_detached));
    println!("DTO copy + serialize (baseline): {:.2} ms", median(dto));
    Ok(())
}
