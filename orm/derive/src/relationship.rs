//! Relationship fields (`HasMany<T>`, `BelongsTo<T>`, `ManyToMany<T>` with
//! `#[relationship(…)]`): parsing, and the code that describes them.
//!
//! The foreign key is found by `const fn`s the generated code evaluates (the derive sees one
//! struct; the compiler sees both models): a missing or ambiguous key, an unknown `order_by`
//! column or a `back_populates` that names no matching relationship fails the build with a
//! message naming both models.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Attribute, GenericArgument, Ident, LitStr, PathArguments, Type, Visibility};

/// The relationship attributes, for the "unknown attribute" message.
const KEYS: &str = "back_populates, secondary, secondary_columns, cascade, order_by, lazy, foreign_key";

/// The kind of a relationship field, from its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `HasMany<T>`.
    HasMany,
    /// `BelongsTo<T>`.
    BelongsTo,
    /// `ManyToMany<T>`.
    ManyToMany,
}

/// A relationship field.
#[derive(Debug)]
pub struct RelField {
    pub ident: Ident,
    pub vis: Visibility,
    pub field_name: String,
    pub kind: Kind,
    /// The related model's type.
    pub target: Type,
    /// The related model's name as written (for messages and association column names).
    pub target_name: String,
    pub back_populates: Option<String>,
    pub secondary: Option<String>,
    pub secondary_columns: Option<(String, String)>,
    pub cascade: (bool, bool, bool),
    /// Column names on the target, `true` for descending.
    pub order_by: Vec<(String, bool)>,
    pub lazy: String,
    pub foreign_key: Option<String>,
    pub span: Span,
}

/// `Some(kind, T)` when the field's type is `HasMany<T>`, `BelongsTo<T>` or `ManyToMany<T>`
/// (by the last path segment, so `athanor::HasMany<T>` works too).
pub fn kind_of(ty: &Type) -> Option<(Kind, Type)> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    let kind = match last.ident.to_string().as_str() {
        "HasMany" => Kind::HasMany,
        "BelongsTo" => Kind::BelongsTo,
        "ManyToMany" => Kind::ManyToMany,
        _ => return None,
    };
    let PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    match args.args.iter().collect::<Vec<_>>()[..] {
        [GenericArgument::Type(t)] => Some((kind, t.clone())),
        _ => None,
    }
}

fn type_name(ty: &Type) -> String {
    match ty {
        Type::Path(p) => p.path.segments.last().map_or_else(String::new, |s| s.ident.unraw().to_string()),
        other => quote::ToTokens::to_token_stream(other).to_string(),
    }
}

/// `BlogPost` → `blog_post`: the same rule as `athanor_core::relation::snake_case` (the derive
/// cannot depend on core; `tests/snake_case_agrees.rs` of the facade holds the two to one answer).
pub fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, ch) in name.chars().enumerate() {
        if ch.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(ch.to_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

/// Parse a relationship field's attributes.
pub fn parse(field: &syn::Field, ident: Ident, kind: Kind, target: Type) -> syn::Result<RelField> {
    let field_name = ident.unraw().to_string();
    let mut rel = RelField {
        ident,
        vis: field.vis.clone(),
        field_name,
        kind,
        target_name: type_name(&target),
        target,
        back_populates: None,
        secondary: None,
        secondary_columns: None,
        cascade: (true, false, false),
        order_by: Vec::new(),
        lazy: "select".into(),
        foreign_key: None,
        span: field.ty.span(),
    };
    if let Some(attr) = field.attrs.iter().find(|a| a.path().is_ident("column")) {
        return Err(syn::Error::new_spanned(
            attr,
            "a relationship field is not a column: #[column(…)] does not apply; use #[relationship(…)]",
        ));
    }
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("relationship")) {
        parse_attr(attr, &mut rel)?;
    }
    if kind == Kind::ManyToMany && rel.secondary.is_none() {
        return Err(syn::Error::new(
            rel.span,
            format!(
                "many-to-many relationship `{}` needs its association table: #[relationship(secondary = \"…\")]",
                rel.field_name
            ),
        ));
    }
    if kind != Kind::ManyToMany && (rel.secondary.is_some() || rel.secondary_columns.is_some()) {
        return Err(syn::Error::new(
            rel.span,
            "`secondary` applies only to a ManyToMany field (an association table between two models)",
        ));
    }
    if kind != Kind::HasMany && (rel.cascade.1 || rel.cascade.2) {
        return Err(syn::Error::new(
            rel.span,
            format!(
                "cascade `delete`/`delete-orphan` applies to a HasMany field (deleting the parent deletes its \
                 children); `{}` is a {}",
                rel.field_name,
                if kind == Kind::BelongsTo { "BelongsTo" } else { "ManyToMany" }
            ),
        ));
    }
    if kind == Kind::BelongsTo && !rel.order_by.is_empty() {
        return Err(syn::Error::new(rel.span, "`order_by` applies only to a collection (HasMany, ManyToMany)"));
    }
    Ok(rel)
}

fn parse_attr(attr: &Attribute, rel: &mut RelField) -> syn::Result<()> {
    attr.parse_nested_meta(|meta| {
        let key = meta.path.get_ident().map(|i| i.unraw().to_string()).unwrap_or_default();
        let lit: LitStr = meta.value()?.parse()?;
        let v = lit.value();
        let bad = |msg: String| syn::Error::new(lit.span(), msg);
        match key.as_str() {
            "back_populates" => rel.back_populates = Some(v),
            "secondary" => rel.secondary = Some(v),
            "foreign_key" => rel.foreign_key = Some(v),
            "secondary_columns" => {
                let parts: Vec<String> = v.split(',').map(|s| s.trim().to_string()).collect();
                match parts.as_slice() {
                    [a, b] if !a.is_empty() && !b.is_empty() && a != b => {
                        rel.secondary_columns = Some((a.clone(), b.clone()))
                    }
                    _ => {
                        return Err(bad(format!(
                            "`secondary_columns` names the association's column for this model, then the one for \
                             the related model: \"a_id, b_id\"; found {v:?}"
                        )))
                    }
                }
            }
            "lazy" => match v.as_str() {
                "select" | "selectin" | "joined" | "raise" => rel.lazy = v,
                _ => {
                    return Err(bad(format!(
                        "`lazy` is one of \"select\", \"selectin\", \"joined\", \"raise\"; found {v:?}"
                    )))
                }
            },
            "cascade" => {
                let mut c = (false, false, false);
                for part in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    match part {
                        "save-update" => c.0 = true,
                        "delete" => c.1 = true,
                        "delete-orphan" => c.2 = true,
                        "all" => {
                            c.0 = true;
                            c.1 = true;
                        }
                        "none" => {}
                        other => {
                            return Err(bad(format!(
                                "cascade `{other}` is not supported; Athanor has save-update, delete, \
                                 delete-orphan, all (= save-update, delete) and none"
                            )))
                        }
                    }
                }
                rel.cascade = c;
            }
            "order_by" => {
                let mut keys = Vec::new();
                for part in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let words: Vec<&str> = part.split_whitespace().collect();
                    let key = match words.as_slice() {
                        [c] => match c.strip_prefix('-') {
                            Some(c) => (c.to_string(), true),
                            None => (c.to_string(), false),
                        },
                        [c, d] if d.eq_ignore_ascii_case("desc") => (c.to_string(), true),
                        [c, d] if d.eq_ignore_ascii_case("asc") => (c.to_string(), false),
                        _ => {
                            return Err(bad(format!(
                                "`order_by` is a comma-separated list of the related model's columns, each \
                                 optionally followed by asc or desc (or prefixed by -); found {part:?}"
                            )))
                        }
                    };
                    keys.push(key);
                }
                rel.order_by = keys;
            }
            _ => return Err(meta.error(format!("unknown #[relationship] attribute `{key}`; expected one of: {KEYS}"))),
        }
        Ok(())
    })
}

/// The association table's column names: (this model's, the target's).
fn association_names(owner: &str, rel: &RelField) -> (String, String) {
    match &rel.secondary_columns {
        Some((a, b)) => (a.clone(), b.clone()),
        None => (format!("{}_id", snake_case(owner)), format!("{}_id", snake_case(&rel.target_name))),
    }
}

/// What the derive writes for the relationships of model `owner` (its ident): the consts that
/// resolve and check each one, the `RELATIONSHIPS` slice, the field accessors and the handles.
pub struct Generated {
    pub consts: Vec<TokenStream>,
    pub checks: Vec<TokenStream>,
    pub defs: Vec<TokenStream>,
    pub handles: Vec<TokenStream>,
}

pub fn generate(owner: &Ident, table: &str, rels: &[RelField]) -> syn::Result<Generated> {
    let owner_name = owner.unraw().to_string();
    let p = quote!(::athanor::__private);
    let mut g = Generated { consts: Vec::new(), checks: Vec::new(), defs: Vec::new(), handles: Vec::new() };
    for (i, rel) in rels.iter().enumerate() {
        let target = &rel.target;
        // A nested function cannot name `Self`: the owner is the target of a self-reference.
        let target_item = if quote!(#target).to_string() == "Self" { quote!(#owner) } else { quote!(#target) };
        let span = rel.span;
        let field = &rel.field_name;
        let named = rel.foreign_key.clone().unwrap_or_default();
        let fk = format_ident!("__athanor_fk_{}", field);
        let local = format_ident!("__athanor_local_{}", field);
        let remote = format_ident!("__athanor_remote_{}", field);
        let me = quote!(<#owner as ::athanor::__private::Model>::TABLE);
        let them = quote_spanned!(span=> <#target as ::athanor::__private::Model>::TABLE);
        let desc = format!("relationship `{owner_name}::{field}`");
        let tname = &rel.target_name;
        let assert =
            |cond: TokenStream, msg: String| quote_spanned!(span=> const _: () = ::core::assert!(#cond, #msg););
        let (kind, secondary, sec_local, sec_remote) = match rel.kind {
            Kind::HasMany | Kind::BelongsTo => {
                let (on, refs, on_name, refs_name) = if rel.kind == Kind::HasMany {
                    (them.clone(), me.clone(), tname.clone(), owner_name.clone())
                } else {
                    (me.clone(), them.clone(), owner_name.clone(), tname.clone())
                };
                g.consts.push(quote! {
                    #[doc(hidden)]
                    const #fk: usize = #p::find_foreign_key(#on, #refs, #named);
                });
                let which = if named.is_empty() { String::new() } else { format!(" named `{named}`") };
                g.checks.push(assert(
                    quote!(#owner::#fk != #p::FK_NONE),
                    format!(
                        "{desc}: no column{which} of `{on_name}` is a foreign key to `{refs_name}`'s table \
                         (`{refs_name}` ↔ `{on_name}`); add #[column(foreign_key = \"<table>.<column>\")] to it"
                    ),
                ));
                g.checks.push(assert(
                    quote!(#owner::#fk != #p::FK_AMBIGUOUS),
                    format!(
                        "{desc}: `{on_name}` has several foreign keys to `{refs_name}`'s table; pick one with \
                         #[relationship(foreign_key = \"column\")]"
                    ),
                ));
                let referenced = quote!(#p::referenced_column(#on, #owner::#fk, #refs));
                let (l, r) = if rel.kind == Kind::HasMany {
                    (referenced, quote!(#owner::#fk))
                } else {
                    (quote!(#owner::#fk), referenced)
                };
                g.consts.push(quote! {
                    #[doc(hidden)]
                    const #local: usize = #l;
                    #[doc(hidden)]
                    const #remote: usize = #r;
                });
                g.checks.push(assert(
                    quote!(#owner::#fk >= #p::FK_AMBIGUOUS || (#owner::#local != #p::FK_NONE && #owner::#remote != #p::FK_NONE)),
                    format!("{desc}: the foreign key between `{owner_name}` and `{tname}` references a column that does not exist"),
                ));
                let kind = if rel.kind == Kind::HasMany { quote!(OneToMany) } else { quote!(ManyToOne) };
                (kind, quote!(::core::option::Option::None), quote!(0), quote!(0))
            }
            Kind::ManyToMany => {
                let (a, b) = association_names(&owner_name, rel);
                if a == b {
                    return Err(syn::Error::new(
                        span,
                        format!(
                            "{desc}: both sides of the association would be named `{a}`; name them with \
                             #[relationship(secondary_columns = \"this_id, other_id\")]"
                        ),
                    ));
                }
                let secondary = rel.secondary.clone().unwrap_or_default();
                let assoc = format_ident!("__athanor_assoc_{}", field);
                let (first, second) =
                    if a < b { ((&a, me.clone()), (&b, them.clone())) } else { ((&b, them.clone()), (&a, me.clone())) };
                let (n1, t1, n2, t2) = (first.0, first.1, second.0, second.1);
                g.consts.push(quote! {
                    #[doc(hidden)]
                    const #local: usize = #p::single_primary_key(#me);
                    #[doc(hidden)]
                    const #remote: usize = #p::single_primary_key(#them);
                    #[doc(hidden)]
                    const #assoc: &'static ::athanor::__private::TableDef = &::athanor::__private::TableDef {
                        name: #secondary,
                        rust_name: #secondary,
                        columns: &[#p::association_column(#n1, #t1), #p::association_column(#n2, #t2)],
                    };
                });
                g.checks.push(assert(
                    quote!(#owner::#local != #p::FK_NONE && #owner::#remote != #p::FK_NONE),
                    format!("{desc}: a many-to-many relationship needs a single-column primary key on `{owner_name}` and on `{tname}`"),
                ));
                let (sl, sr) = if a < b { (0usize, 1usize) } else { (1, 0) };
                let (sl, sr) = (Literal::usize_unsuffixed(sl), Literal::usize_unsuffixed(sr));
                (quote!(ManyToMany), quote!(::core::option::Option::Some(#owner::#assoc)), quote!(#sl), quote!(#sr))
            }
        };
        let mut order = Vec::new();
        for (n, (col, d)) in rel.order_by.iter().enumerate() {
            let c = format_ident!("__athanor_order_{}_{}", field, n);
            g.consts.push(quote! {
                #[doc(hidden)]
                const #c: usize = #p::column_position(#them, #col);
            });
            g.checks.push(assert(
                quote!(#owner::#c != #p::FK_NONE),
                format!("{desc}: order_by names `{col}`, which is not a column of `{tname}`"),
            ));
            order.push(quote!((#owner::#c, #d)));
        }
        let back = match &rel.back_populates {
            Some(name) => {
                let want = match rel.kind {
                    Kind::HasMany => quote!(ManyToOne),
                    Kind::BelongsTo => quote!(OneToMany),
                    Kind::ManyToMany => quote!(ManyToMany),
                };
                let rels = quote_spanned!(span=> <#target as ::athanor::__private::Model>::RELATIONSHIPS);
                g.checks.push(assert(
                    quote!(#p::has_relationship(#rels, #name, ::athanor::__private::RelationKind::#want)),
                    format!(
                        "{desc}: back_populates = \"{name}\" names no matching relationship of `{tname}` (a {} \
                         field `{name}`, the other side of this one)",
                        match rel.kind {
                            Kind::HasMany => "BelongsTo",
                            Kind::BelongsTo => "HasMany",
                            Kind::ManyToMany => "ManyToMany",
                        }
                    ),
                ));
                quote!(::core::option::Option::Some(#name))
            }
            None => quote!(::core::option::Option::None),
        };
        let lazy = match rel.lazy.as_str() {
            "selectin" => quote!(Selectin),
            "joined" => quote!(Joined),
            "raise" => quote!(Raise),
            _ => quote!(Select),
        };
        let (su, del, orph) = rel.cascade;
        g.defs.push(quote! {
            ::athanor::__private::RelationshipDef {
                name: #field,
                owner: #me,
                kind: ::athanor::__private::RelationKind::#kind,
                target: {
                    // Items of this model's own code, so that the compiler never nests one model's
                    // functions in another's (see `ModelRef`).
                    fn relationships() -> &'static [::athanor::__private::RelationshipDef] {
                        <#target_item as ::athanor::__private::Model>::RELATIONSHIPS
                    }
                    fn type_id() -> ::core::any::TypeId {
                        ::core::any::TypeId::of::<#target_item>()
                    }
                    ::athanor::__private::ModelRef {
                        table: <#target_item as ::athanor::__private::Model>::TABLE,
                        relationships,
                        type_id,
                    }
                },
                local: #owner::#local,
                remote: #owner::#remote,
                secondary: #secondary,
                secondary_local: #sec_local,
                secondary_remote: #sec_remote,
                back_populates: #back,
                cascade: ::athanor::__private::Cascade { save_update: #su, delete: #del, delete_orphan: #orph },
                order_by: &[#(#order),*],
                lazy: ::athanor::__private::LoadStrategy::#lazy,
            }
        });
        let (vis, ident) = (&rel.vis, &rel.ident);
        let k = if rel.kind == Kind::BelongsTo { quote!(One) } else { quote!(Many) };
        let idx = Literal::usize_unsuffixed(i);
        let doc =
            format!(" Relationship `{owner_name}::{field}` (to `{tname}`), for `session.related` and loader options.");
        let _ = table;
        g.handles.push(quote! {
            #[doc = #doc]
            #vis const #ident: ::athanor::__private::Relationship<#owner, #target, ::athanor::__private::#k> = ::athanor::__private::Relationship::new(#idx);
        });
    }
    Ok(g)
}
