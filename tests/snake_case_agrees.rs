//! The derive and core each turn a model's name into snake case: `#[derive(Model)]` for the
//! default columns of a `secondary` association table (`<snake case>_id`), core for
//! `Base::association`. The derive cannot call core, so there are two copies of the rule; this
//! test holds them to the same answer over names where a rule could differ (runs of capitals,
//! digits, a name already in snake case, one letter, non-ASCII capitals).
#![allow(missing_docs, non_camel_case_types)]
#![allow(clippy::unwrap_used)]

use athanor::prelude::*;

macro_rules! models {
    ($($owner:ident($owner_table:literal) -> $target:ident($target_table:literal) via $table:literal;)*) => {
        $(
            #[derive(Model, Debug, Clone, Default)]
            #[model(table = $owner_table)]
            pub struct $owner {
                #[column(primary_key)]
                pub id: Option<i64>,
                #[relationship(secondary = $table)]
                pub others: ManyToMany<$target>,
            }
            #[derive(Model, Debug, Clone, Default)]
            #[model(table = $target_table)]
            pub struct $target {
                #[column(primary_key)]
                pub id: Option<i64>,
            }
        )*
        /// Each association as (table, owner, target), with a base that registers both models
        /// (the derive declares the table) and one that declares it by `Base::association`.
        fn cases() -> Vec<(&'static str, &'static str, &'static str, Base, Base)> {
            vec![$((
                $table,
                stringify!($owner),
                stringify!($target),
                Base::new().register::<$owner>().register::<$target>(),
                Base::new().association($table, ($owner::id, $target::id)),
            )),*]
        }
    };
}

models! {
    HTTPServer("servers") -> Post2Tag("post_tags") via "server_tags";
    already_snake("snakes") -> XMLHttpRequest("requests") via "snake_requests";
    Été("summers") -> A("a") via "summer_a";
    ÀBçD("accents") -> Ab9Cd("digits") via "accent_digits";
}

fn columns(base: &Base, table: &str) -> Vec<String> {
    let t = base.metadata().table(table).unwrap_or_else(|| panic!("{table} is declared"));
    let mut names: Vec<String> = t.columns.iter().map(|c| c.name.to_string()).collect();
    names.sort();
    names
}

#[test]
fn derive_and_core_snake_case_name_association_columns_alike() {
    for (table, owner, target, derived, declared) in cases() {
        let mut core: Vec<String> =
            [owner, target].iter().map(|name| format!("{}_id", athanor_orm::relation::snake_case(name))).collect();
        core.sort();
        assert_eq!(columns(&derived, table), core, "the derive's columns for {owner} -> {target}");
        assert_eq!(columns(&declared, table), core, "Base::association's columns for {owner} -> {target}");
    }
}
