//! `athanor reflect --rust`: `#[derive(Model)]` structs for reflected tables, with relationships
//! inferred from the foreign keys (a `BelongsTo` on the table holding the key, a `HasMany` on the
//! table it refers to, each naming the key column, so several keys to one table stay apart; a
//! pure association table is a `ManyToMany` on each of the two tables it joins).
//!
//! Names ([`Naming`]): by default the database's in snake case (`UnitPrice` → `unit_price`,
//! table `order_items` → struct `OrderItems`); `--naming database` keeps each table and column
//! name as it is spelled where it is a legal Rust name (`pub UnitPrice: …`, struct `Track`).
//! Relationships are named by these rules, in table order and then key order, a name already
//! taken in the struct getting `_2`, `_3`…:
//! - the many-to-one: the key column in snake case without its `_id` (`ArtistId` → `artist`,
//!   `ReportsTo` → `reports_to`; when that is the column's own field name, the column's field
//!   becomes `reports_to_id`, keeping `#[column(name = …)]`, or with `--naming database` the
//!   relationship becomes `reports_to_ref`);
//! - the one-to-many: the plural of the other table (`Artist::albums`); when one table has
//!   several keys to the same table, the many-to-one's name before it (`sender_messages`,
//!   `recipient_messages`); a self-reference's is the many-to-one's name without a trailing
//!   `_to`/`_of`/`_by`/`_for`/`_from` (`reports_to` → `Employee::reports`), `parent` →
//!   `children`, otherwise the many-to-one's name with `_of` (`manager` → `manager_of`: the
//!   rows this one is the manager of);
//! - a many-to-many: the plural of the table on the other side (`Playlist::tracks`).

use crate::reflect::{ReflectedColumn, ReflectedTable};
use crate::schema::{DefaultValue, SqlType};
use std::collections::HashSet;
use std::fmt::Write as _;

/// `order_items` → `OrderItems`.
fn type_name(table: &str) -> String {
    let mut out = String::new();
    for part in table.split(|c: char| !c.is_ascii_alphanumeric()).filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'T');
    }
    out
}

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false", "fn",
    "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self", "Self",
    "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while", "abstract", "become",
    "box", "do", "final", "macro", "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// `UnitPrice` → `unit_price`, `ArtistId` → `artist_id`, `HTTPStatus` → `http_status`,
/// `order_items` unchanged; other characters than letters, digits and `_` become `_`.
fn snake(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1);
            let starts_word = prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
                || (prev.is_some_and(|p| p.is_ascii_uppercase()) && next.is_some_and(|n| n.is_ascii_lowercase()));
            if starts_word && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else {
            out.push('_');
        }
    }
    out
}

/// The plural of a snake-case table name for a collection: `album` → `albums`, `category` →
/// `categories`, `box` → `boxes`; a name that already ends in `s` is kept.
fn plural(name: &str) -> String {
    let consonant_y = name.strip_suffix('y').is_some_and(|b| b.chars().last().is_some_and(|c| !"aeiou".contains(c)));
    const IRREGULAR: &[(&str, &str)] = &[("child", "children"), ("person", "people")];
    const UNCOUNTED: &[&str] = &["children", "people", "data", "media", "news", "info", "staff"];
    if name.ends_with('s') || name.is_empty() || UNCOUNTED.iter().any(|u| name.ends_with(u)) {
        name.to_string()
    } else if let Some((one, many)) = IRREGULAR.iter().find(|(one, _)| name.ends_with(one)) {
        format!("{}{many}", &name[..name.len() - one.len()])
    } else if consonant_y {
        format!("{}ies", &name[..name.len() - 1])
    } else if name.ends_with('x') || name.ends_with('z') || name.ends_with("ch") || name.ends_with("sh") {
        format!("{name}es")
    } else {
        format!("{name}s")
    }
}

/// How `reflect --rust` names structs and fields (`--naming`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Naming {
    /// Rust's conventions: `UnitPrice` → `unit_price`, table `order_items` → struct `OrderItems`.
    #[default]
    Rust,
    /// The database's spelling where it is a legal Rust name: field `UnitPrice`, struct
    /// `order_items` (other characters than letters, digits and `_` still become `_`).
    Database,
}

/// `name` made a legal field name: a leading digit (or nothing) gets `_`, a keyword is raw
/// (`r#type`) or, where Rust has no raw form, gets `_` (`self_`); and whether it differs from
/// the column's name, so needs `#[column(name = …)]`.
fn legal_field(mut f: String, column: &str) -> (String, bool) {
    if f.is_empty() || f.starts_with(|c: char| c.is_ascii_digit()) {
        f.insert(0, '_');
    }
    let renamed = f != column;
    if KEYWORDS.contains(&f.as_str()) {
        if matches!(f.as_str(), "self" | "super" | "crate" | "Self") {
            f.push('_');
            return (f, true);
        }
        return (format!("r#{f}"), renamed);
    }
    (f, renamed)
}

/// A field name for a column name (snake case), and whether `#[column(name = …)]` is needed.
fn field_name(column: &str) -> (String, bool) {
    legal_field(snake(column), column)
}

/// A field name keeping the column's spelling where legal, and whether `#[column(name = …)]`
/// is needed.
fn database_field_name(column: &str) -> (String, bool) {
    let kept = column.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    legal_field(kept, column)
}

/// The struct name of a table: [`type_name`], or with [`Naming::Database`] the table's own name
/// when it is a legal one.
fn struct_name(table: &str, naming: Naming) -> String {
    let legal = !table.is_empty()
        && table != "_"
        && table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !table.starts_with(|c: char| c.is_ascii_digit())
        && !KEYWORDS.contains(&table);
    if naming == Naming::Database && legal {
        table.to_string()
    } else {
        type_name(table)
    }
}

/// The Rust type of a column, and its extra `#[column]` arguments.
fn rust_type(c: &ReflectedColumn) -> Option<(String, Vec<String>)> {
    let p = c.portable?;
    let mut args = Vec::new();
    let ty = match p.sql_type {
        SqlType::Bool => "bool",
        SqlType::SmallInt => "i16",
        SqlType::Integer => "i32",
        SqlType::BigInt => "i64",
        SqlType::Real => "f32",
        SqlType::Double => "f64",
        SqlType::Text => {
            if let Some(n) = p.length {
                args.push(format!("length = {n}"));
            }
            "String"
        }
        SqlType::Blob => "Vec<u8>",
        SqlType::U8 => "u8",
        SqlType::U16 => "u16",
        SqlType::U32 => "u32",
        SqlType::U64 => "u64",
        SqlType::Uuid => "uuid::Uuid",
        SqlType::Timestamp => "jiff::Timestamp",
        SqlType::Date => "jiff::civil::Date",
        SqlType::DateTime => "jiff::civil::DateTime",
        SqlType::Time => "jiff::civil::Time",
        SqlType::Decimal => {
            let (precision, scale) = p.precision.unwrap_or((28, 0));
            args.push(format!("precision = {precision}, scale = {scale}"));
            "athanor::Decimal"
        }
        SqlType::Json => "athanor::serde_json::Value",
    };
    let ty = if c.nullable || c.autoincrement { format!("Option<{ty}>") } else { ty.to_string() };
    Some((ty, args))
}

/// A default as a `#[column(default = …)]` literal for a field of `sql_type`, when it is one.
fn default_literal(sql_type: SqlType, raw: &str) -> Option<String> {
    Some(match crate::reflect::default_value(sql_type, raw)? {
        DefaultValue::Int(i) => i.to_string(),
        DefaultValue::Float(f) if f.is_finite() => format!("{f:?}"),
        DefaultValue::Float(_) => return None,
        DefaultValue::Text(t) => format!("{t:?}"),
        DefaultValue::Bool(b) => b.to_string(),
    })
}

/// The relationship fields each table gets.
struct Relation {
    field: String,
    kind: &'static str,
    /// The index of the table on the other side.
    target: usize,
    /// `foreign_key = "…"`, or for a `ManyToMany` its `secondary = "…", secondary_columns = "…"`.
    key: String,
    back: String,
}

/// A table whose primary key is two columns, each a single-column foreign key to the
/// single-column primary key of a reflected table: the two sides (table index, the column
/// pointing at it).
fn key_sides(tables: &[ReflectedTable], t: &ReflectedTable) -> Option<[(usize, String); 2]> {
    let [a, b] = t.primary_key.as_slice() else { return None };
    let side = |c: &String| -> Option<(usize, String)> {
        let fk = t.foreign_keys.iter().find(|f| f.columns == [c.clone()])?;
        let target = tables.iter().position(|x| x.name == fk.referred_table)?;
        (tables[target].primary_key == fk.referred_columns && fk.referred_columns.len() == 1)
            .then(|| (target, c.clone()))
    };
    Some([side(a)?, side(b)?])
}

/// A pure association table: exactly two columns, both the primary key, each a single-column
/// foreign key to the single-column primary key of another reflected table (two different
/// tables). It becomes a `ManyToMany` on each side instead of a model. Returns the two sides:
/// (table index, the association's column pointing at it).
fn association(tables: &[ReflectedTable], t: &ReflectedTable) -> Option<[(usize, String); 2]> {
    if t.columns.len() != 2 || t.foreign_keys.len() != 2 {
        return None;
    }
    let [sa, sb] = key_sides(tables, t)?;
    (sa.0 != sb.0 && tables[sa.0].name != t.name && tables[sb.0].name != t.name).then_some([sa, sb])
}

/// An association table with columns of its own (`order_lines (order_id, product_id,
/// quantity)`): it stays a model, and the comment above it says why it is no `ManyToMany`.
fn kept_association(tables: &[ReflectedTable], t: &ReflectedTable) -> Option<String> {
    if t.columns.len() <= 2 || association(tables, t).is_some() {
        return None;
    }
    let [(a, _), (b, _)] = key_sides(tables, t)?;
    Some(format!(
        "// `{}` joins `{}` and `{}` and has columns of its own: it stays a model,\n\
         // with a BelongsTo to each, and is no ManyToMany of theirs (a ManyToMany declares its\n\
         // association table as its two key columns only, a second, different definition of\n\
         // this table, and adding to one would leave the other columns unset).\n",
        t.name, tables[a].name, tables[b].name
    ))
}

/// The single-column foreign keys of a table that is a model, to reflected tables: (key
/// column, referred table index), in the table's order. A key to a table not reflected with it
/// gets no relationship.
fn model_keys<'t>(tables: &[ReflectedTable], t: &'t ReflectedTable) -> Vec<(&'t str, usize)> {
    if association(tables, t).is_some() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for fk in &t.foreign_keys {
        let [col] = fk.columns.as_slice() else { continue };
        if let Some(pi) = tables.iter().position(|x| x.name == fk.referred_table) {
            out.push((col.as_str(), pi));
        }
    }
    out
}

/// The many-to-one's name for a key column: `artist_id`, `ArtistId` → `artist`; `ReportsTo` →
/// `reports_to` (a column without `_id` gives its own name).
fn belongs_name(column: &str) -> String {
    let column = snake(column);
    let base = column.strip_suffix("_id").filter(|b| !b.is_empty()).unwrap_or(&column);
    field_name(base).0
}

/// The one-to-many's name on a table that a self-reference named `belongs` points back to:
/// `reports_to` → `reports`, `parent` → `children`, `manager` → `manager_of`.
fn self_collection(belongs: &str) -> String {
    for suffix in ["_to", "_of", "_by", "_for", "_from"] {
        if let Some(base) = belongs.strip_suffix(suffix).filter(|b| !b.is_empty()) {
            return base.to_string();
        }
    }
    if belongs == "parent" {
        return "children".into();
    }
    format!("{belongs}_of")
}

/// With [`Naming::Rust`], a key column whose many-to-one would take the column's own field name
/// (`ReportsTo` → `reports_to`) gets the field `reports_to_id` instead, when that is free.
fn free_relationship_names(tables: &[ReflectedTable], fields: &mut [Vec<(String, bool)>]) {
    for (ci, t) in tables.iter().enumerate() {
        for (col, _) in model_keys(tables, t) {
            let Some(i) = t.columns.iter().position(|c| c.name == col) else { continue };
            let wanted = belongs_name(col);
            let renamed = format!("{wanted}_id");
            if fields[ci][i].0 == wanted && !fields[ci].iter().any(|(f, _)| *f == renamed) {
                fields[ci][i] = (renamed, true);
            }
        }
    }
}

/// The relationship fields of every table, named by the module's rules: `fields` are the
/// column fields already taken in each struct.
fn relations(tables: &[ReflectedTable], fields: &[Vec<(String, bool)>]) -> Vec<Vec<Relation>> {
    let mut out: Vec<Vec<Relation>> = tables.iter().map(|_| Vec::new()).collect();
    let mut taken: Vec<HashSet<String>> =
        fields.iter().map(|f| f.iter().map(|(name, _)| name.clone()).collect()).collect();
    let mut unique = |t: usize, wanted: String| {
        let mut name = wanted.clone();
        let mut n = 2;
        while !taken[t].insert(name.clone()) {
            name = format!("{wanted}_{n}");
            n += 1;
        }
        name
    };
    for (ci, child) in tables.iter().enumerate() {
        if let Some([(left, left_col), (right, right_col)]) = association(tables, child) {
            // `post_tags (post_id, tag_id)`: `Post::tags` and `Tag::posts`.
            let on_left = unique(left, field_name(&plural(&snake(&tables[right].name))).0);
            let on_right = unique(right, field_name(&plural(&snake(&tables[left].name))).0);
            let secondary = |mine: &str, theirs: &str| {
                format!("secondary = {:?}, secondary_columns = \"{mine}, {theirs}\"", child.name)
            };
            let key = secondary(&left_col, &right_col);
            out[left].push(Relation {
                field: on_left.clone(),
                kind: "ManyToMany",
                target: right,
                key,
                back: on_right.clone(),
            });
            let key = secondary(&right_col, &left_col);
            out[right].push(Relation { field: on_right, kind: "ManyToMany", target: left, key, back: on_left });
            continue;
        }
        let keys = model_keys(tables, child);
        for &(col, pi) in &keys {
            let wanted = belongs_name(col);
            let own = child.columns.iter().position(|c| c.name == col).map(|i| &fields[ci][i].0);
            let belongs = unique(ci, if own == Some(&wanted) { format!("{wanted}_ref") } else { wanted.clone() });
            let several = keys.iter().filter(|(_, p)| *p == pi).count() > 1;
            let many = if ci == pi {
                self_collection(&wanted)
            } else if several {
                format!("{wanted}_{}", plural(&snake(&child.name)))
            } else {
                plural(&snake(&child.name))
            };
            let many = unique(pi, field_name(&many).0);
            let key = format!("foreign_key = {col:?}");
            out[ci].push(Relation {
                field: belongs.clone(),
                kind: "BelongsTo",
                target: pi,
                key: key.clone(),
                back: many.clone(),
            });
            out[pi].push(Relation { field: many, kind: "HasMany", target: ci, key, back: belongs });
        }
    }
    out
}

/// One struct's fields: its columns with their `#[column]` arguments.
fn write_columns(out: &mut String, t: &ReflectedTable, fields: &[(String, bool)]) {
    for (c, (field, renamed)) in t.columns.iter().zip(fields) {
        let Some((ty, mut args)) = rust_type(c) else {
            let _ = writeln!(out, "    // {}: type {} has no Athanor field type", c.name, c.native_type);
            continue;
        };
        if *renamed {
            args.insert(0, format!("name = {:?}", c.name));
        }
        if t.primary_key.contains(&c.name) {
            args.insert(0, "primary_key".into());
        }
        if t.unique_constraints.iter().any(|u| u.columns == [c.name.clone()]) {
            args.push("unique".into());
        }
        if t.indexes.iter().any(|i| i.columns == [c.name.clone()] && !i.unique) {
            args.push("index".into());
        }
        if let Some(fk) = t.foreign_keys.iter().find(|f| f.columns == [c.name.clone()]) {
            if let [rc] = fk.referred_columns.as_slice() {
                args.push(format!("foreign_key = \"{}.{rc}\"", fk.referred_table));
            }
        }
        let default = match (c.default.as_deref(), c.portable) {
            (Some(d), Some(p)) if !c.autoincrement => default_literal(p.sql_type, d),
            _ => None,
        };
        if let Some(d) = default {
            args.push(format!("default = {d}"));
        }
        if !args.is_empty() {
            let _ = writeln!(out, "    #[column({})]", args.join(", "));
        }
        let _ = writeln!(out, "    pub {field}: {ty},");
    }
}

/// The structs, in table order: one per table but the pure association tables, which are the
/// `ManyToMany` fields of the two tables they join (registering either model registers them).
/// `naming` says how structs and fields are named (the module's documentation has the rules).
pub fn to_rust(tables: &[ReflectedTable], naming: Naming) -> String {
    let types: Vec<String> = tables.iter().map(|t| struct_name(&t.name, naming)).collect();
    let mut fields: Vec<Vec<(String, bool)>> = tables
        .iter()
        .map(|t| {
            t.columns
                .iter()
                .map(|c| if naming == Naming::Rust { field_name(&c.name) } else { database_field_name(&c.name) })
                .collect()
        })
        .collect();
    if naming == Naming::Rust {
        free_relationship_names(tables, &mut fields);
    }
    let rels = relations(tables, &fields);
    let mut out = String::from(
        "// Generated by `athanor reflect --rust`: one model per table (an association table is the\n\
         // ManyToMany fields of the two it joins).\nuse athanor::prelude::*;\n",
    );
    for (i, (t, rels)) in tables.iter().zip(rels).enumerate() {
        if association(tables, t).is_some() {
            continue;
        }
        out.push('\n');
        if let Some(why) = kept_association(tables, t) {
            out.push_str(&why);
        }
        out.push_str("#[derive(Model, Debug, Clone)]\n");
        let mut allow = Vec::new();
        if fields[i].iter().any(|(f, _)| f.contains(|c: char| c.is_ascii_uppercase())) {
            allow.push("non_snake_case");
        }
        if types[i] != type_name(&t.name) {
            allow.push("non_camel_case_types");
        }
        if !allow.is_empty() {
            let _ = writeln!(out, "#[allow({})]", allow.join(", "));
        }
        let _ = write!(out, "#[model(table = {:?})]\npub struct {} {{\n", t.name, types[i]);
        write_columns(&mut out, t, &fields[i]);
        for r in rels {
            let _ = writeln!(
                out,
                "    #[relationship({}, back_populates = {:?})]\n    pub {}: {}<{}>,",
                r.key, r.back, r.field, r.kind, types[r.target]
            );
        }
        out.push_str("}\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{belongs_name, database_field_name, field_name, plural, self_collection, snake, struct_name, Naming};

    #[test]
    fn names_read_like_rust() {
        for (name, want) in [
            ("UnitPrice", "unit_price"),
            ("ArtistId", "artist_id"),
            ("HTTPStatus", "http_status"),
            ("order_items", "order_items"),
            ("Employee", "employee"),
            ("line2Total", "line2_total"),
            ("my-col", "my_col"),
        ] {
            assert_eq!(snake(name), want, "{name}");
        }
        for (name, want) in [("album", "albums"), ("category", "categories"), ("key", "keys"), ("box", "boxes")] {
            assert_eq!(plural(name), want);
        }
        assert_eq!(plural("post_tags"), "post_tags");
        assert_eq!(plural("children"), "children");
        assert_eq!(plural("child"), "children");
        assert_eq!(plural("sales_person"), "sales_people");
        assert_eq!(plural("metadata"), "metadata");
        assert_eq!(field_name("UnitPrice"), ("unit_price".to_string(), true));
        assert_eq!(field_name("type"), ("r#type".to_string(), false));
        assert_eq!(field_name("Self"), ("self_".to_string(), true));
    }

    #[test]
    fn relationship_names_follow_the_documented_rules() {
        for (column, want) in
            [("ArtistId", "artist"), ("artist_id", "artist"), ("ReportsTo", "reports_to"), ("id", "id")]
        {
            assert_eq!(belongs_name(column), want, "{column}");
        }
        assert_eq!(belongs_name("type_id"), "r#type");
        for (belongs, want) in [
            ("reports_to", "reports"),
            ("managed_by", "managed"),
            ("parent", "children"),
            ("manager", "manager_of"),
            ("mentor", "mentor_of"),
            ("_to", "_to_of"),
        ] {
            assert_eq!(self_collection(belongs), want, "{belongs}");
        }
    }

    #[test]
    fn database_naming_keeps_legal_names() {
        assert_eq!(database_field_name("UnitPrice"), ("UnitPrice".to_string(), false));
        assert_eq!(database_field_name("my-col"), ("my_col".to_string(), true));
        assert_eq!(database_field_name("2nd"), ("_2nd".to_string(), true));
        assert_eq!(database_field_name("type"), ("r#type".to_string(), false));
        assert_eq!(database_field_name("self"), ("self_".to_string(), true));
        assert_eq!(struct_name("order_items", Naming::Database), "order_items");
        assert_eq!(struct_name("order_items", Naming::Rust), "OrderItems");
        assert_eq!(struct_name("order-items", Naming::Database), "OrderItems");
        assert_eq!(struct_name("match", Naming::Database), "Match");
        assert_eq!(struct_name("Track", Naming::Database), "Track");
    }
}
