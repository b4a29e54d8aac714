// Context of docs/testing.md's snippets: the application's catalog.
use athanor::prelude::*;

pub fn base() -> Base {
    Base::new()
}
