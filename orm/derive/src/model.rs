//! Parse the input of `#[derive(Model)]` into a [`ModelDef`], making every check that syntax allows.
//!
//! Checks that need the field types resolved (is the type a supported field type, is a default of
//! the right kind) are left to the generated code: see `expand.rs`.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Fields, GenericArgument, Ident, Lit, LitBool, LitInt, LitStr, PathArguments};
use syn::{Token, Type, Visibility};

/// The column attributes, for the "unknown attribute" message.
const COLUMN_KEYS: &str =
    "primary_key, unique, index, version, length, precision, scale, default, foreign_key, name, autoincrement";

/// A mapped struct.
#[derive(Debug)]
pub struct ModelDef {
    /// The struct's name.
    pub ident: Ident,
    /// The table's name in the database.
    pub table: String,
    /// The mapped fields, in declaration order (the order of `TableDef::columns`).
    pub fields: Vec<FieldDef>,
    /// The relationship fields, in declaration order (the order of `Model::RELATIONSHIPS`).
    pub relationships: Vec<crate::relationship::RelField>,
}

/// A mapped field.
#[derive(Debug)]
pub struct FieldDef {
    /// The field's identifier (possibly raw, `r#type`).
    pub ident: Ident,
    /// The field's visibility (the column handle's visibility follows it).
    pub vis: Visibility,
    /// The field's type as written.
    pub ty: Type,
    /// The field's name without `r#`.
    pub field_name: String,
    /// The column's name in the database.
    pub column: String,
    /// `#[column(primary_key)]`.
    pub primary_key: bool,
    /// The database generates the value.
    pub autoincrement: bool,
    /// `#[column(unique)]`.
    pub unique: bool,
    /// `#[column(index)]`.
    pub index: bool,
    /// `#[column(version)]`: the optimistic-locking version column.
    pub version: bool,
    /// `#[column(length = N)]`, with the attribute's span.
    pub length: Option<(u32, Span)>,
    /// `#[column(default = …)]`, with the attribute's span.
    pub default: Option<(DefaultLit, Span)>,
    /// `#[column(foreign_key = "table.column")]`.
    pub foreign_key: Option<(String, String)>,
    /// `#[column(precision = P, scale = S)]` (scale 0 when only the precision is given), with
    /// the attribute's span.
    pub precision: Option<((u8, u8), Span)>,
}

/// A `#[column(default = …)]` literal.
#[derive(Debug, Clone, PartialEq)]
pub enum DefaultLit {
    /// An integer (possibly negative).
    Int(i64),
    /// A finite float.
    Float(f64),
    /// A string.
    Text(String),
    /// A boolean.
    Bool(bool),
}

impl DefaultLit {
    /// The literal as the user would write it, for messages.
    pub fn describe(&self) -> String {
        match self {
            DefaultLit::Int(v) => v.to_string(),
            DefaultLit::Float(v) => format!("{v:?}"),
            DefaultLit::Text(v) => format!("{v:?}"),
            DefaultLit::Bool(v) => v.to_string(),
        }
    }
}

/// Collects errors so that one build reports every mistake, not only the first.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    fn finish(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

impl ModelDef {
    /// Parse and check a `#[derive(Model)]` input.
    pub fn parse(input: &DeriveInput) -> syn::Result<ModelDef> {
        let named = match &input.data {
            Data::Struct(s) => match &s.fields {
                Fields::Named(named) => named,
                Fields::Unnamed(_) => {
                    return Err(syn::Error::new(
                        input.ident.span(),
                        "#[derive(Model)] needs a struct with named fields (each field is a column); \
                         tuple structs cannot be mapped",
                    ))
                }
                Fields::Unit => {
                    return Err(syn::Error::new(
                        input.ident.span(),
                        "#[derive(Model)] needs a struct with named fields (each field is a column); \
                         a unit struct has none",
                    ))
                }
            },
            Data::Enum(e) => {
                return Err(syn::Error::new(
                    e.enum_token.span,
                    "#[derive(Model)] supports only structs with named fields, not enums",
                ))
            }
            Data::Union(u) => {
                return Err(syn::Error::new(
                    u.union_token.span,
                    "#[derive(Model)] supports only structs with named fields, not unions",
                ))
            }
        };

        let mut errors = Errors::default();
        if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
            errors.push(syn::Error::new_spanned(
                &input.generics,
                "#[derive(Model)] does not support generic parameters or lifetimes: a mapped struct \
                 describes one table, and its fields must own their values",
            ));
        }

        let table = match parse_model_attrs(&input.attrs) {
            Ok(Some(table)) => table,
            Ok(None) => {
                errors.push(syn::Error::new(
                    input.ident.span(),
                    "#[derive(Model)] needs #[model(table = \"…\")] naming the database table, \
                     e.g. #[model(table = \"customers\")]",
                ));
                String::new()
            }
            Err(e) => {
                errors.push(e);
                String::new()
            }
        };

        for attr in input.attrs.iter().filter(|a| a.path().is_ident("column")) {
            errors.push(syn::Error::new_spanned(
                attr,
                "#[column(…)] belongs on a field; the struct takes #[model(table = \"…\")]",
            ));
        }

        let mut fields = Vec::new();
        let mut relationships = Vec::new();
        let mut autoinc_attrs = Vec::new();
        for field in &named.named {
            let Some(ident) = field.ident.clone() else { continue };
            if let Some((kind, target)) = crate::relationship::kind_of(&field.ty) {
                match crate::relationship::parse(field, ident, kind, target) {
                    Ok(r) => relationships.push(r),
                    Err(e) => errors.push(e),
                }
                continue;
            }
            for attr in field.attrs.iter().filter(|a| a.path().is_ident("relationship")) {
                errors.push(syn::Error::new_spanned(
                    attr,
                    "#[relationship(…)] belongs on a HasMany<T>, BelongsTo<T> or ManyToMany<T> field",
                ));
            }
            for attr in field.attrs.iter().filter(|a| a.path().is_ident("model")) {
                errors.push(syn::Error::new_spanned(
                    attr,
                    "#[model(…)] belongs on the struct; a field takes #[column(…)]",
                ));
            }
            if let Some((feature, path)) = crate::features::missing(&field.ty) {
                errors.push(syn::Error::new_spanned(
                    &field.ty,
                    format!(
                        "`{path}` needs athanor's cargo feature `{feature}`: add it to the dependency, \
                         e.g. athanor = {{ version = \"0.1\", features = [\"{feature}\"] }} (docs/types.md)"
                    ),
                ));
            }
            let attrs = match parse_column_attrs(&field.attrs) {
                Ok(a) => a,
                Err(e) => {
                    errors.push(e);
                    ColumnAttrs::default()
                }
            };
            let field_name = ident.unraw().to_string();
            autoinc_attrs.push(attrs.autoincrement);
            fields.push(FieldDef {
                column: attrs.name.unwrap_or_else(|| field_name.clone()),
                field_name,
                ident,
                vis: field.vis.clone(),
                ty: field.ty.clone(),
                primary_key: attrs.primary_key,
                autoincrement: false,
                unique: attrs.unique,
                index: attrs.index,
                version: attrs.version.is_some(),
                length: attrs.length,
                default: attrs.default,
                foreign_key: attrs.foreign_key,
                precision: attrs.precision.map(|(p, span)| ((p, attrs.scale.map_or(0, |s| s.0)), span)),
            });
        }

        for (i, f) in fields.iter().enumerate() {
            if let Some(first) = fields[..i].iter().find(|g| g.column == f.column) {
                errors.push(syn::Error::new(
                    f.ident.span(),
                    format!(
                        "column name `{}` is used by both `{}` and `{}`; give one of them #[column(name = \"…\")]",
                        f.column, first.field_name, f.field_name
                    ),
                ));
            }
        }

        let key_count = fields.iter().filter(|f| f.primary_key).count();
        if key_count == 0 {
            errors.push(syn::Error::new(
                input.ident.span(),
                "#[derive(Model)] needs at least one #[column(primary_key)] field: the session identifies \
                 each row by its primary key",
            ));
        }

        for (f, autoinc_attr) in fields.iter_mut().zip(autoinc_attrs) {
            let integer_key = option_inner(&f.ty).is_some_and(is_key_integer);
            let eligible = f.primary_key && key_count == 1 && integer_key;
            match autoinc_attr {
                Some((_, span)) if !f.primary_key => {
                    errors.push(syn::Error::new(span, "`autoincrement` applies only to a #[column(primary_key)] field"))
                }
                Some((true, span)) if !eligible => errors.push(syn::Error::new(
                    span,
                    "`autoincrement = true` needs the table's only primary-key column, of type \
                     Option<i16>, Option<i32> or Option<i64> (None until the database generates the key)",
                )),
                _ => {}
            }
            f.autoincrement = eligible && !matches!(autoinc_attr, Some((false, _)));

            if f.primary_key && !f.autoincrement {
                if let Some(inner) = option_inner(&f.ty) {
                    let inner = quote::ToTokens::to_token_stream(inner).to_string();
                    let why = if key_count > 1 {
                        "it is part of a composite primary key, and key columns cannot be NULL; only a \
                         table's single integer key may be an Option (None until the database generates it)"
                            .to_string()
                    } else if integer_key {
                        "it has `autoincrement = false`, so the database never generates it, and key columns \
                         cannot be NULL"
                            .to_string()
                    } else {
                        format!(
                            "key columns cannot be NULL, and the database generates only integer keys \
                             (Option<i16>, Option<i32>, Option<i64>), not {inner}"
                        )
                    };
                    errors.push(syn::Error::new(
                        f.ty.span(),
                        format!("primary-key field `{}` cannot be an Option: {why}; use `{inner}`", f.field_name),
                    ));
                }
            }
        }

        let versions: Vec<&FieldDef> = fields.iter().filter(|f| f.version).collect();
        if let [_, second, ..] = versions[..] {
            errors.push(syn::Error::new(
                second.ident.span(),
                format!(
                    "a model has at most one #[column(version)] field; `{}` is one already",
                    versions[0].field_name
                ),
            ));
        }
        for f in versions {
            if f.primary_key {
                errors.push(syn::Error::new(
                    f.ident.span(),
                    "a #[column(version)] field cannot be part of the primary key: the version changes with \
                     every UPDATE, the key never does",
                ));
            } else if !is_key_integer(&f.ty) {
                errors.push(syn::Error::new(
                    f.ty.span(),
                    format!(
                        "the #[column(version)] field `{}` must be an i16, i32 or i64 (not an Option): every \
                         UPDATE writes the version read plus one",
                        f.field_name
                    ),
                ));
            }
        }

        errors.finish()?;
        Ok(ModelDef { ident: input.ident.clone(), table, fields, relationships })
    }

    /// The autoincrement field, if any.
    pub fn autoincrement_field(&self) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.autoincrement)
    }

    /// The position of the `#[column(version)]` field, if any.
    pub fn version_column(&self) -> Option<usize> {
        self.fields.iter().position(|f| f.version)
    }
}

/// Read `#[model(table = "…")]`; `None` when no attribute names the table.
fn parse_model_attrs(attrs: &[Attribute]) -> syn::Result<Option<String>> {
    let mut table: Option<String> = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("model")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("table") {
                let lit: LitStr = meta.value()?.parse()?;
                if table.is_some() {
                    return Err(meta.error("duplicate #[model] attribute `table`"));
                }
                table = Some(non_empty(&lit, "table name")?);
                Ok(())
            } else {
                Err(meta.error(format!("unknown #[model] attribute `{}`; expected `table = \"…\"`", key_name(&meta))))
            }
        })?;
    }
    Ok(table)
}

#[derive(Default)]
struct ColumnAttrs {
    primary_key: bool,
    unique: bool,
    index: bool,
    version: Option<Span>,
    length: Option<(u32, Span)>,
    precision: Option<(u8, Span)>,
    scale: Option<(u8, Span)>,
    default: Option<(DefaultLit, Span)>,
    foreign_key: Option<(String, String)>,
    name: Option<String>,
    autoincrement: Option<(bool, Span)>,
}

/// The largest precision of a decimal column: `rust_decimal::Decimal` holds 28 digits.
const MAX_PRECISION: u8 = 28;

/// Read every `#[column(…)]` of a field.
fn parse_column_attrs(attrs: &[Attribute]) -> syn::Result<ColumnAttrs> {
    let mut out = ColumnAttrs::default();
    let mut errors = Errors::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("column")) {
        let result = attr.parse_nested_meta(|meta| {
            let key = key_name(&meta);
            let span = meta.path.span();
            let duplicate = || meta.error(format!("duplicate #[column] attribute `{key}`"));
            match key.as_str() {
                "version" => {
                    if meta.input.peek(Token![=]) || meta.input.peek(syn::token::Paren) {
                        return Err(meta.error("`version` takes no value: write #[column(version)]"));
                    }
                    if out.version.replace(span).is_some() {
                        return Err(duplicate());
                    }
                }
                "primary_key" | "unique" | "index" => {
                    if meta.input.peek(Token![=]) || meta.input.peek(syn::token::Paren) {
                        return Err(meta.error(format!("`{key}` takes no value: write #[column({key})]")));
                    }
                    let flag = match key.as_str() {
                        "primary_key" => &mut out.primary_key,
                        "unique" => &mut out.unique,
                        _ => &mut out.index,
                    };
                    if *flag {
                        return Err(duplicate());
                    }
                    *flag = true;
                }
                "length" => {
                    let lit: LitInt = meta.value()?.parse()?;
                    let n = match lit.base10_parse::<u32>() {
                        Ok(n) if n > 0 => n,
                        _ => {
                            return Err(syn::Error::new(
                                lit.span(),
                                format!("`length` must be an integer from 1 to {}, found {lit}", u32::MAX),
                            ))
                        }
                    };
                    if out.length.replace((n, span)).is_some() {
                        return Err(duplicate());
                    }
                }
                "precision" | "scale" => {
                    let lit: LitInt = meta.value()?.parse()?;
                    let low = u8::from(key == "precision");
                    let n = match lit.base10_parse::<u8>() {
                        Ok(n) if (low..=MAX_PRECISION).contains(&n) => n,
                        _ => {
                            return Err(syn::Error::new(
                                lit.span(),
                                format!("`{key}` must be an integer from {low} to {MAX_PRECISION}, found {lit}"),
                            ))
                        }
                    };
                    let slot = if key == "precision" { &mut out.precision } else { &mut out.scale };
                    if slot.replace((n, span)).is_some() {
                        return Err(duplicate());
                    }
                }
                "default" => {
                    let value = parse_default(&meta)?;
                    if out.default.replace((value, span)).is_some() {
                        return Err(duplicate());
                    }
                }
                "foreign_key" => {
                    let lit: LitStr = meta.value()?.parse()?;
                    let target = lit.value();
                    let fk = match target.split('.').collect::<Vec<_>>()[..] {
                        [t, c] if !t.is_empty() && !c.is_empty() => (t.to_string(), c.to_string()),
                        _ => {
                            return Err(syn::Error::new(
                                lit.span(),
                                format!(
                                    "`foreign_key` must name the referenced column as \"table.column\" \
                                     (exactly one dot), found {target:?}"
                                ),
                            ))
                        }
                    };
                    if out.foreign_key.replace(fk).is_some() {
                        return Err(duplicate());
                    }
                }
                "name" => {
                    let lit: LitStr = meta.value()?.parse()?;
                    let name = non_empty(&lit, "column name")?;
                    if out.name.replace(name).is_some() {
                        return Err(duplicate());
                    }
                }
                "autoincrement" => {
                    let lit: LitBool = meta.value()?.parse()?;
                    if out.autoincrement.replace((lit.value, span)).is_some() {
                        return Err(duplicate());
                    }
                }
                _ => {
                    return Err(
                        meta.error(format!("unknown #[column] attribute `{key}`; expected one of: {COLUMN_KEYS}"))
                    )
                }
            }
            Ok(())
        });
        if let Err(e) = result {
            errors.push(e);
        }
    }
    if let (Some((DefaultLit::Text(text), span)), Some((n, _))) = (&out.default, out.length) {
        if text.chars().count() > n as usize {
            errors.push(syn::Error::new(*span, format!("the default {text:?} is longer than the column's length {n}")));
        }
    }
    match (out.precision, out.scale) {
        (Some((p, _)), Some((sc, span))) if sc > p => {
            errors.push(syn::Error::new(span, format!("`scale = {sc}` is more than `precision = {p}`")));
        }
        (None, Some((_, span))) => {
            errors.push(syn::Error::new(span, "`scale` needs a `precision` too: #[column(precision = P, scale = S)]"));
        }
        _ => {}
    }
    errors.finish()?;
    Ok(out)
}

/// `default = <literal>`: an integer (possibly negative), a float, a string or a bool.
fn parse_default(meta: &ParseNestedMeta<'_>) -> syn::Result<DefaultLit> {
    let input = meta.value()?;
    let minus: Option<Token![-]> = input.parse()?;
    let lit: Lit = input.parse()?;
    let negative = minus.is_some();
    let value = match &lit {
        Lit::Int(i) => {
            let magnitude: i128 = i.base10_parse()?;
            let v = if negative { -magnitude } else { magnitude };
            let v =
                i64::try_from(v).map_err(|_| syn::Error::new(lit.span(), "integer default does not fit in 64 bits"))?;
            DefaultLit::Int(v)
        }
        Lit::Float(f) => {
            let v: f64 = f.base10_parse()?;
            if !v.is_finite() {
                return Err(syn::Error::new(lit.span(), "float default must be finite"));
            }
            DefaultLit::Float(if negative { -v } else { v })
        }
        Lit::Str(s) if !negative => DefaultLit::Text(s.value()),
        Lit::Bool(b) if !negative => DefaultLit::Bool(b.value),
        _ => {
            return Err(syn::Error::new(
                lit.span(),
                "`default` must be an integer, float, string or bool literal, e.g. #[column(default = 18)]",
            ))
        }
    };
    Ok(value)
}

fn key_name(meta: &ParseNestedMeta<'_>) -> String {
    match meta.path.get_ident() {
        Some(i) => i.unraw().to_string(),
        None => quote::ToTokens::to_token_stream(&meta.path).to_string().replace(' ', ""),
    }
}

fn non_empty(lit: &LitStr, what: &str) -> syn::Result<String> {
    let v = lit.value();
    if v.is_empty() {
        return Err(syn::Error::new(lit.span(), format!("the {what} cannot be empty")));
    }
    Ok(v)
}

fn strip(ty: &Type) -> &Type {
    match ty {
        Type::Group(g) => strip(&g.elem),
        Type::Paren(p) => strip(&p.elem),
        other => other,
    }
}

/// `T` when `ty` is written `Option<T>` (also `std::option::Option<T>`, `core::option::Option<T>`).
pub fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = strip(ty) else { return None };
    if p.qself.is_some() {
        return None;
    }
    let segments: Vec<_> = p.path.segments.iter().collect();
    let (last, prefix) = segments.split_last()?;
    let prefix: Vec<String> = prefix.iter().map(|s| s.ident.to_string()).collect();
    let prefix_ok = match prefix.as_slice() {
        [] => p.path.leading_colon.is_none(),
        [a, b] => (a == "std" || a == "core") && b == "option",
        _ => false,
    };
    if !prefix_ok || last.ident != "Option" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    match args.args.iter().collect::<Vec<_>>()[..] {
        [GenericArgument::Type(inner)] => Some(inner),
        _ => None,
    }
}

/// `true` for `i16`, `i32`, `i64`: the types of keys the database can generate.
pub fn is_key_integer(ty: &Type) -> bool {
    let Type::Path(p) = strip(ty) else { return false };
    p.qself.is_none()
        && p.path.leading_colon.is_none()
        && p.path.segments.len() == 1
        && p.path.segments[0].arguments.is_none()
        && ["i16", "i32", "i64"].iter().any(|n| p.path.segments[0].ident == n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn parse(input: DeriveInput) -> syn::Result<ModelDef> {
        ModelDef::parse(&input)
    }

    fn error(input: DeriveInput) -> String {
        match parse(input) {
            Ok(m) => panic!("expected an error, parsed {m:?}"),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"),
        }
    }

    #[test]
    fn parses_customer() {
        let m = parse(parse_quote! {
            #[model(table = "customers")]
            pub struct Customer {
                #[column(primary_key)]
                pub id: Option<i64>,
                pub name: String,
                #[column(unique, length = 255)]
                pub email: String,
                #[column(index, default = -18)]
                age: i32,
                #[column(foreign_key = "customers.id", name = "parent_id")]
                pub r#parent: Option<i64>,
            }
        })
        .unwrap();
        assert_eq!(m.table, "customers");
        let cols: Vec<_> = m.fields.iter().map(|f| f.column.as_str()).collect();
        assert_eq!(cols, ["id", "name", "email", "age", "parent_id"]);
        assert!(m.fields[0].primary_key && m.fields[0].autoincrement);
        assert_eq!(m.fields[2].length.map(|l| l.0), Some(255));
        assert!(m.fields[2].unique && !m.fields[2].index);
        assert_eq!(m.fields[3].default.as_ref().map(|d| d.0.clone()), Some(DefaultLit::Int(-18)));
        assert_eq!(m.fields[4].foreign_key, Some(("customers".into(), "id".into())));
        assert_eq!(m.fields[4].field_name, "parent");
        assert_eq!(m.autoincrement_field().map(|f| f.field_name.as_str()), Some("id"));
    }

    #[test]
    fn defaults_of_every_kind() {
        let m = parse(parse_quote! {
            #[model(table = "t")]
            struct T {
                #[column(primary_key)] id: i64,
                #[column(default = 1.5)] a: f64,
                #[column(default = -2.0)] b: f64,
                #[column(default = "x")] c: String,
                #[column(default = true)] d: bool,
                #[column(default = -9223372036854775808)] e: i64,
            }
        })
        .unwrap();
        let d: Vec<_> = m.fields[1..].iter().map(|f| f.default.as_ref().map(|d| d.0.clone())).collect();
        assert_eq!(
            d,
            [
                Some(DefaultLit::Float(1.5)),
                Some(DefaultLit::Float(-2.0)),
                Some(DefaultLit::Text("x".into())),
                Some(DefaultLit::Bool(true)),
                Some(DefaultLit::Int(i64::MIN)),
            ]
        );
        assert!(m.autoincrement_field().is_none());
    }

    #[test]
    fn autoincrement_rules() {
        let m = parse(parse_quote! {
            #[model(table = "t")]
            struct T { #[column(primary_key)] id: std::option::Option<i16> }
        })
        .unwrap();
        assert!(m.fields[0].autoincrement);
        let m = parse(parse_quote! {
            #[model(table = "t")]
            struct T { #[column(primary_key)] a: i64, #[column(primary_key)] b: String }
        })
        .unwrap();
        assert!(m.fields.iter().all(|f| f.primary_key && !f.autoincrement));
        assert!(error(parse_quote! {
            #[model(table = "t")]
            struct T { #[column(primary_key, autoincrement = false)] id: Option<i64> }
        })
        .contains("`autoincrement = false`"));
        assert!(error(parse_quote! {
            #[model(table = "t")]
            struct T { #[column(primary_key)] id: i64, #[column(autoincrement = false)] n: i64 }
        })
        .contains("applies only to a #[column(primary_key)] field"));
        assert!(error(parse_quote! {
            #[model(table = "t")]
            struct T { #[column(primary_key, autoincrement = true)] id: i64 }
        })
        .contains("`autoincrement = true` needs"));
    }

    #[test]
    fn option_keys_that_cannot_be_generated() {
        let e = error(parse_quote! {
            #[model(table = "t")]
            struct T { #[column(primary_key)] code: Option<String> }
        });
        assert!(e.contains("primary-key field `code` cannot be an Option"), "{e}");
        assert!(e.contains("use `String`"), "{e}");
        let e = error(parse_quote! {
            #[model(table = "t")]
            struct T { #[column(primary_key)] a: Option<i64>, #[column(primary_key)] b: i64 }
        });
        assert!(e.contains("composite primary key"), "{e}");
    }

    #[test]
    fn struct_level_errors() {
        assert!(error(parse_quote! { struct T { #[column(primary_key)] id: i64 } })
            .contains("needs #[model(table = \"…\")]"));
        assert!(error(parse_quote! { #[model(table = "t")] struct T { id: i64 } }).contains("at least one"));
        assert!(error(parse_quote! { #[model(table = "t")] struct T(i64); }).contains("tuple structs"));
        assert!(error(parse_quote! { #[model(table = "t")] struct T; }).contains("unit struct"));
        assert!(error(parse_quote! { #[model(table = "t")] enum T { A } }).contains("not enums"));
        assert!(error(parse_quote! { #[model(table = "t")] union T { a: i64 } }).contains("not unions"));
        assert!(error(parse_quote! {
            #[model(table = "t")] struct T<'a> { #[column(primary_key)] id: &'a str }
        })
        .contains("generic parameters or lifetimes"));
        assert!(error(parse_quote! { #[model(tabel = "t")] struct T { #[column(primary_key)] id: i64 } })
            .contains("unknown #[model] attribute `tabel`"));
        assert!(error(parse_quote! { #[model(table = "")] struct T { #[column(primary_key)] id: i64 } })
            .contains("table name cannot be empty"));
        assert!(error(parse_quote! {
            #[model(table = "t")] #[column(unique)] struct T { #[column(primary_key)] id: i64 }
        })
        .contains("#[column(…)] belongs on a field"));
        assert!(error(parse_quote! {
            #[model(table = "t")] struct T { #[model(table = "u")] #[column(primary_key)] id: i64 }
        })
        .contains("#[model(…)] belongs on the struct"));
    }

    #[test]
    fn column_attribute_errors() {
        let case = |attr: proc_macro2::TokenStream| {
            error(parse_quote! {
                #[model(table = "t")]
                struct T { #[column(primary_key)] id: i64, #[column(#attr)] x: String }
            })
        };
        assert!(case(quote::quote!(uniq)).contains("unknown #[column] attribute `uniq`; expected one of"));
        assert!(case(quote::quote!(foreign_key = "customers")).contains("exactly one dot"));
        assert!(case(quote::quote!(foreign_key = "a.b.c")).contains("exactly one dot"));
        assert!(case(quote::quote!(foreign_key = ".id")).contains("exactly one dot"));
        assert!(case(quote::quote!(unique, unique)).contains("duplicate #[column] attribute `unique`"));
        assert!(case(quote::quote!(unique = true)).contains("takes no value"));
        assert!(case(quote::quote!(length = 0)).contains("`length` must be an integer from 1 to 4294967295, found 0"));
        assert!(case(quote::quote!(length = -1)).contains("found -1"));
        assert!(case(quote::quote!(length = "5")).contains("expected integer literal"));
        assert!(case(quote::quote!(default = -"x")).contains("must be an integer, float, string or bool"));
        assert!(case(quote::quote!(default = 99999999999999999999)).contains("does not fit in 64 bits"));
        assert!(case(quote::quote!(length = 2, default = "abc")).contains("longer than the column's length 2"));
        assert!(case(quote::quote!(name = "")).contains("column name cannot be empty"));
        assert!(case(quote::quote!(name = "id")).contains("column name `id` is used by both `id` and `x`"));
        // Every mistake is reported, not only the first.
        let e = case(quote::quote!(bogus, length = 0));
        assert!(e.contains("bogus"), "{e}");
        let e = error(parse_quote! {
            #[model(table = "t")]
            struct T { #[column(bogus)] a: i64, #[column(other)] b: i64 }
        });
        assert!(e.contains("bogus") && e.contains("other") && e.contains("at least one"), "{e}");
    }

    #[test]
    fn version_column_rules() {
        let m = parse(parse_quote! {
            #[model(table = "t")]
            struct T { #[column(primary_key)] id: i64, name: String, #[column(version)] version: i64 }
        })
        .unwrap();
        assert_eq!(m.version_column(), Some(2));
        assert!(m.fields[2].version && !m.fields[1].version);
        let m = parse(parse_quote! { #[model(table = "t")] struct T { #[column(primary_key)] id: i64 } }).unwrap();
        assert_eq!(m.version_column(), None);
        let case = |body: proc_macro2::TokenStream| error(parse_quote! { #[model(table = "t")] struct T { #body } });
        let e = case(quote::quote!(#[column(primary_key)] id: i64, #[column(version)] v: Option<i64>));
        assert!(e.contains("must be an i16, i32 or i64 (not an Option)"), "{e}");
        let e = case(quote::quote!(#[column(primary_key)] id: i64, #[column(version)] v: String));
        assert!(e.contains("must be an i16, i32 or i64"), "{e}");
        let e = case(quote::quote!(#[column(primary_key, version)] id: i64));
        assert!(e.contains("cannot be part of the primary key"), "{e}");
        let e =
            case(quote::quote!(#[column(primary_key)] id: i64, #[column(version)] a: i64, #[column(version)] b: i64));
        assert!(e.contains("at most one #[column(version)] field; `a` is one already"), "{e}");
        let e = case(quote::quote!(#[column(primary_key)] id: i64, #[column(version = true)] v: i64));
        assert!(e.contains("`version` takes no value"), "{e}");
        let e = case(quote::quote!(#[column(primary_key)] id: i64, #[column(version, version)] v: i64));
        assert!(e.contains("duplicate #[column] attribute `version`"), "{e}");
    }

    #[test]
    fn option_detection() {
        let ty: Type = parse_quote!(::core::option::Option<i32>);
        assert!(option_inner(&ty).is_some_and(is_key_integer));
        let ty: Type = parse_quote!(std::option::Option<(i64)>);
        assert!(option_inner(&ty).is_some_and(is_key_integer));
        let ty: Type = parse_quote!(::Option<i64>);
        assert!(option_inner(&ty).is_none());
        let ty: Type = parse_quote!(Option<u64>);
        assert!(!option_inner(&ty).is_some_and(is_key_integer));
        let ty: Type = parse_quote!(my::Option<i64>);
        assert!(option_inner(&ty).is_none());
    }
}
