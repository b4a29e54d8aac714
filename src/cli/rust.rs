//! `athanor reflect --rust`: `#[derive(Model)]` structs for reflected tables, with relationships
//! inferred from the foreign keys (a `BelongsTo` on the table holding the key, a `HasMany` on the
//! table it refers to, each naming the key column, so several keys to one table stay apart; a
//! pure association table is a `ManyToMany` on each of the two tables it joins). Names are the
//! database's in snake case (`UnitPrice` → `unit_price`), a key `artist_id`/`ArtistId` gives the
//! relationship `artist`, a collection the plural of the other table (`albums`).

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

/// A field name for a column name (snake case), and whether `#[column(name = …)]` is needed.
fn field_name(column: &str) -> (String, bool) {
    let mut f = snake(column);
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
    target: String,
    /// `foreign_key = "…"`, or for a `ManyToMany` its `secondary = "…", secondary_columns = "…"`.
    key: String,
    back: String,
}

/// A pure association table: exactly two columns, both the primary key, each a single-column
/// foreign key to the single-column primary key of another reflected table (two different
/// tables). It becomes a `ManyToMany` on each side instead of a model. Returns the two sides:
/// (table index, the association's column pointing at it).
fn association(tables: &[ReflectedTable], t: &ReflectedTable) -> Option<[(usize, String); 2]> {
    let [a, b] = t.columns.as_slice() else { return None };
    if t.primary_key.len() != 2 || t.foreign_keys.len() != 2 {
        return None;
    }
    let side = |c: &ReflectedColumn| -> Option<(usize, String)> {
        let fk = t.foreign_keys.iter().find(|f| f.columns == [c.name.clone()])?;
        let target = tables.iter().position(|x| x.name == fk.referred_table)?;
        (tables[target].primary_key == fk.referred_columns && fk.referred_columns.len() == 1)
            .then(|| (target, c.name.clone()))
    };
    let (sa, sb) = (side(a)?, side(b)?);
    (sa.0 != sb.0 && tables[sa.0].name != t.name && tables[sb.0].name != t.name).then_some([sa, sb])
}

fn relations(tables: &[ReflectedTable]) -> Vec<Vec<Relation>> {
    let mut out: Vec<Vec<Relation>> = tables.iter().map(|_| Vec::new()).collect();
    let mut taken: Vec<HashSet<String>> =
        tables.iter().map(|t| t.columns.iter().map(|c| field_name(&c.name).0).collect()).collect();
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
            out[left].push(Relation {
                field: on_left.clone(),
                kind: "ManyToMany",
                target: type_name(&tables[right].name),
                key: secondary(&left_col, &right_col),
                back: on_right.clone(),
            });
            out[right].push(Relation {
                field: on_right,
                kind: "ManyToMany",
                target: type_name(&tables[left].name),
                key: secondary(&right_col, &left_col),
                back: on_left,
            });
            continue;
        }
        for fk in &child.foreign_keys {
            let [col] = fk.columns.as_slice() else { continue };
            // A key to a table that is not reflected with it gets no relationship.
            let Some(pi) = tables.iter().position(|t| t.name == fk.referred_table) else { continue };
            // `user_id`, `UserId` → `user`; a key column without `_id` → `<column>_ref`.
            let column = snake(col);
            let wanted = match column.strip_suffix("_id").filter(|b| !b.is_empty()) {
                Some(base) => field_name(base).0,
                None => field_name(&format!("{column}_ref")).0,
            };
            let belongs = unique(ci, wanted);
            // `Album` → `albums`, `order_items` kept.
            let many = unique(pi, field_name(&plural(&snake(&child.name))).0);
            out[ci].push(Relation {
                field: belongs.clone(),
                kind: "BelongsTo",
                target: type_name(&fk.referred_table),
                key: format!("foreign_key = {col:?}"),
                back: many.clone(),
            });
            out[pi].push(Relation {
                field: many,
                kind: "HasMany",
                target: type_name(&child.name),
                key: format!("foreign_key = {col:?}"),
                back: belongs,
            });
        }
    }
    out
}

/// The structs, in table order: one per table but the pure association tables, which are the
/// `ManyToMany` fields of the two tables they join (registering either model registers them).
pub fn to_rust(tables: &[ReflectedTable]) -> String {
    let rels = relations(tables);
    let mut out = String::from(
        "// Generated by `athanor reflect --rust`: one model per table (an association table is the\n\
         // ManyToMany fields of the two it joins).\nuse athanor::prelude::*;\n",
    );
    for (t, rels) in tables.iter().zip(rels) {
        if association(tables, t).is_some() {
            continue;
        }
        let _ = write!(
            out,
            "\n#[derive(Model, Debug, Clone)]\n#[model(table = {:?})]\npub struct {} {{\n",
            t.name,
            type_name(&t.name)
        );
        for c in &t.columns {
            let (field, renamed) = field_name(&c.name);
            let Some((ty, mut args)) = rust_type(c) else {
                let _ = writeln!(out, "    // {}: type {} has no Athanor field type", c.name, c.native_type);
                continue;
            };
            if renamed {
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
        for r in rels {
            let _ = writeln!(
                out,
                "    #[relationship({}, back_populates = {:?})]\n    pub {}: {}<{}>,",
                r.key, r.back, r.field, r.kind, r.target
            );
        }
        out.push_str("}\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{field_name, plural, snake};

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
}
