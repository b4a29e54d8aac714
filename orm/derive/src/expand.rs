//! Generate the `Model` impl, the column handles and the compile-time checks from a [`ModelDef`].
//!
//! Every path is absolute through the facade (`::athanor::…`, and `::athanor::__private::…`
//! for the row-decoding helpers that are not part of a user's API), so the generated code works
//! whatever the user has imported. Checks that need resolved types are written as constants the
//! compiler evaluates: `<T as SqlField>::SQL_TYPE` fails for an unsupported field type, and
//! `const _: () = assert!(…)` rejects a default or a length that does not suit the column's type.

use crate::model::{DefaultLit, FieldDef, ModelDef};
use proc_macro2::{Literal, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::DeriveInput;

/// Parse, check and generate: the whole derive.
pub fn derive(input: &DeriveInput) -> syn::Result<TokenStream> {
    ModelDef::parse(input).and_then(|m| generate(&m))
}

/// The code for a checked model.
pub fn generate(m: &ModelDef) -> syn::Result<TokenStream> {
    let ident = &m.ident;
    let rust_name = ident.unraw().to_string();
    let table = &m.table;

    let columns = m.fields.iter().map(column_def);
    let values = m.fields.iter().enumerate().map(|(i, f)| {
        let (i, field) = (Literal::usize_unsuffixed(i), &f.ident);
        let lend = sql_field(f, "as_value_ref");
        quote!(#i => #lend(&self.#field),)
    });
    // One generic function for all models (`decode_cell` is `#[inline]`: an optimized build
    // still inlines it here), spanned at the type so that an unsupported type is reported there.
    // A known type is read without an early return (`Cells::get`), any other with `?`.
    let decoded = m.fields.iter().enumerate().map(|(i, f)| {
        let (i, field, ty) = (Literal::usize_unsuffixed(i), &f.ident, &f.ty);
        if crate::known::known(ty).is_some() {
            quote!(#field: cells.get::<#ty>(#i),)
        } else {
            // Only the path is spanned at the type: `cells` keeps the derive's hygiene (a model
            // written by a `macro_rules!` macro has fields with that macro's).
            let decode = quote_spanned!(ty.span()=> ::athanor::__private::Cells::decode::<#ty>);
            quote!(#field: #decode(&mut cells, #i)?,)
        }
    });
    // The fields whose type the derive took by its name (`known.rs`) are bound to it here.
    let known_fields: Vec<TokenStream> = m
        .fields
        .iter()
        .filter_map(|f| {
            let k = crate::known::known(&f.ty)?;
            let (field, path) = (&f.ident, k.path);
            Some(quote!(let _: &#path = &m.#field;))
        })
        .collect();
    let not_loaded = m.relationships.iter().map(|r| {
        let field = &r.ident;
        quote!(#field: ::core::default::Default::default(),)
    });
    let set_columns = m.fields.iter().enumerate().map(|(i, f)| {
        let (i, field, ty) = (Literal::usize_unsuffixed(i), &f.ident, &f.ty);
        let set = quote_spanned!(ty.span()=> ::athanor::__private::set_field::<#ty>);
        quote!(#i => #set(&mut self.#field, value, #i, <Self as ::athanor::__private::Model>::TABLE),)
    });
    let rel_refs = m.relationships.iter().enumerate().map(|(i, r)| {
        let (i, field) = (Literal::usize_unsuffixed(i), &r.ident);
        quote!(#i => ::core::option::Option::Some(&self.#field),)
    });
    let rel_muts = m.relationships.iter().enumerate().map(|(i, r)| {
        let (i, field) = (Literal::usize_unsuffixed(i), &r.ident);
        quote!(#i => ::core::option::Option::Some(&mut self.#field),)
    });
    let rels = crate::relationship::generate(ident, table, &m.relationships)?;
    let crate::relationship::Generated { consts: rel_consts, checks: rel_checks, defs: rel_defs, handles: rel_handles } =
        rels;
    let mut targets: Vec<String> = Vec::new();
    let register = m.relationships.iter().filter_map(|r| {
        let t = &r.target;
        let key = quote!(#t).to_string();
        if key == "Self" || targets.contains(&key) {
            return None;
        }
        targets.push(key);
        Some(quote!(<#t as ::athanor::__private::Model>::register_loaders(loaders);))
    });
    let register: Vec<TokenStream> = register.collect();
    let relationship_items = if m.relationships.is_empty() {
        quote!()
    } else {
        quote! {
            const RELATIONSHIPS: &'static [::athanor::__private::RelationshipDef] = &[#(#rel_defs),*];

            fn register_loaders(loaders: &mut ::athanor::__private::Loaders) {
                if loaders.add::<Self>() {
                    #(#register)*
                }
            }

            fn relationship(&self, idx: usize) -> ::core::option::Option<&dyn ::athanor::__private::AnyRelation> {
                match idx {
                    #(#rel_refs)*
                    _ => ::core::option::Option::None,
                }
            }

            fn relationship_mut(&mut self, idx: usize) -> ::core::option::Option<&mut dyn ::athanor::__private::AnyRelation> {
                match idx {
                    #(#rel_muts)*
                    _ => ::core::option::Option::None,
                }
            }
        }
    };
    // Only for a model that has one: the trait's default is `None`.
    let version_item = match m.version_column() {
        Some(i) => {
            let i = Literal::usize_unsuffixed(i);
            quote!(const VERSION_COLUMN: ::core::option::Option<usize> = ::core::option::Option::Some(#i);)
        }
        None => quote!(),
    };
    let set_key = match m.autoincrement_field() {
        Some(f) => {
            let field = &f.ident;
            quote! {
                self.#field = ::core::option::Option::Some(
                    ::athanor::__private::generated_key(key, <Self as ::athanor::__private::Model>::TABLE)?,
                );
                ::core::result::Result::Ok(())
            }
        }
        None => {
            let message = format!(
                "table `{table}` has no autoincrement column: its primary key is given by the application, \
                 not generated by the database (got generated key "
            );
            quote! {
                ::core::result::Result::Err(::athanor::__private::Error::invalid_request(::std::format!("{}{})", #message, key)))
            }
        }
    };
    let handles = m.fields.iter().enumerate().map(|(i, f)| {
        let (vis, field, ty, name) = (&f.vis, &f.ident, &f.ty, &f.column);
        let doc = format!(" Column `{table}.{name}`.");
        let i = Literal::usize_unsuffixed(i);
        quote! {
            #[doc = #doc]
            #vis const #field: ::athanor::__private::Column<#ident, #ty> = ::athanor::__private::Column::new(#i, #name);
        }
    });
    let handles_doc = format!(
        " Typed column handles of table `{table}`, for filters and ordering: `{rust_name}::{}.eq(…)`.",
        m.fields.first().map_or("field", |f| f.field_name.as_str())
    );
    let checks = m.fields.iter().flat_map(|f| checks(m, f));
    // A known type's `check` accepts every value (but `u64`'s): no call for it.
    let field_checks =
        m.fields.iter().enumerate().filter(|(_, f)| crate::known::known(&f.ty).is_none_or(|k| k.checked)).map(
            |(i, f)| {
                let field = &f.ident;
                let i = Literal::usize_unsuffixed(i);
                quote! {
                    ::athanor::__private::check_field(&self.#field, #i, <Self as ::athanor::__private::Model>::TABLE)?;
                }
            },
        );

    let known_types = if known_fields.is_empty() {
        quote!()
    } else {
        quote! {
            const _: () = {
                #[allow(dead_code)]
                fn known_types(m: &#ident) {
                    #(#known_fields)*
                }
            };
        }
    };
    Ok(quote! {
        #[automatically_derived]
        impl ::athanor::__private::Model for #ident {
            const TABLE: &'static ::athanor::__private::TableDef = &::athanor::__private::TableDef {
                name: #table,
                rust_name: #rust_name,
                columns: &[#(#columns),*],
            };

            #version_item

            fn check_values(&self) -> ::athanor::__private::Result<()> {
                #(#field_checks)*
                ::core::result::Result::Ok(())
            }

            fn column_value(&self, idx: usize) -> ::athanor::__private::ValueRef<'_> {
                match idx {
                    #(#values)*
                    _ => ::athanor::__private::ValueRef::Null,
                }
            }

            fn from_row(row: &dyn ::athanor::__private::Row) -> ::athanor::__private::Result<Self> {
                let mut cells = ::athanor::__private::Cells::new(row, <Self as ::athanor::__private::Model>::TABLE);
                let value = Self { #(#decoded)* #(#not_loaded)* };
                cells.finish(value)
            }

            fn set_generated_key(&mut self, key: i64) -> ::athanor::__private::Result<()> {
                #set_key
            }

            fn set_column(&mut self, idx: usize, value: ::athanor::__private::ValueRef<'_>) -> ::athanor::__private::Result<()> {
                match idx {
                    #(#set_columns)*
                    _ => ::core::result::Result::Err(::athanor::__private::Error::invalid_request(
                        ::std::format!("no column #{} in {}", idx, <Self as ::athanor::__private::Model>::TABLE.name),
                    )),
                }
            }

            #relationship_items
        }

        #[doc = #handles_doc]
        #[allow(non_upper_case_globals)]
        impl #ident {
            #(#handles)*
            #(#rel_handles)*
            #(#rel_consts)*
        }

        #(#checks)*
        #(#rel_checks)*
        #known_types
    })
}

/// `<T as SqlField>::…`, spanned at the field's type so that an unsupported type is reported there.
fn sql_field(f: &FieldDef, item: &str) -> TokenStream {
    let ty = &f.ty;
    let item = syn::Ident::new(item, Span::call_site());
    quote_spanned!(ty.span()=> <#ty as ::athanor::__private::SqlField>::#item)
}

fn column_def(f: &FieldDef) -> TokenStream {
    let (name, field) = (&f.column, &f.field_name);
    // A known type's SQL type and nullability are literals; any other type's come from its
    // `SqlField` impl (which also reports an unsupported type, at the field's type).
    let known = crate::known::known(&f.ty);
    let sql_type = match &known {
        Some(k) => {
            let v = syn::Ident::new(k.sql_type, Span::call_site());
            quote!(::athanor::__private::SqlType::#v)
        }
        None => sql_field(f, "SQL_TYPE"),
    };
    // A key column is never NULL: an autoincrement `Option<i64>` is None only until the database
    // generates the key.
    let nullable = match &known {
        _ if f.primary_key => quote!(false),
        Some(k) => {
            let n = k.nullable;
            quote!(#n)
        }
        None => sql_field(f, "NULLABLE"),
    };
    let (primary_key, autoincrement, unique, index) = (f.primary_key, f.autoincrement, f.unique, f.index);
    let length = match (f.length, &known) {
        (Some((n, _)), _) => quote!(::core::option::Option::Some(#n)),
        (None, Some(_)) => quote!(::core::option::Option::None),
        (None, None) => sql_field(f, "MAX_LENGTH"),
    };
    let allowed = match &known {
        Some(_) => quote!(&[]),
        None => sql_field(f, "ALLOWED"),
    };
    let precision = match f.precision {
        Some(((p, s), _)) => quote!(::core::option::Option::Some((#p, #s))),
        None => quote!(::core::option::Option::None),
    };
    let default = match &f.default {
        Some((d, _)) => {
            let d = match d {
                DefaultLit::Int(v) => quote!(::athanor::__private::DefaultValue::Int(#v)),
                DefaultLit::Float(v) => quote!(::athanor::__private::DefaultValue::Float(#v)),
                DefaultLit::Text(v) => quote!(::athanor::__private::DefaultValue::Text(#v)),
                DefaultLit::Bool(v) => quote!(::athanor::__private::DefaultValue::Bool(#v)),
            };
            quote!(::core::option::Option::Some(#d))
        }
        None => quote!(::core::option::Option::None),
    };
    let foreign_key = match &f.foreign_key {
        Some((t, c)) => {
            quote!(::core::option::Option::Some(::athanor::__private::ForeignKeyDef { table: #t, column: #c }))
        }
        None => quote!(::core::option::Option::None),
    };
    // Every field written out: a literal is cheaper for the compiler to evaluate than a call to
    // `ColumnDef::new` with a struct update (about 1 s of the 100 × 60 crate).
    quote! {
        ::athanor::__private::ColumnDef {
            name: #name,
            field: #field,
            sql_type: #sql_type,
            nullable: #nullable,
            primary_key: #primary_key,
            autoincrement: #autoincrement,
            unique: #unique,
            index: #index,
            length: #length,
            default: #default,
            foreign_key: #foreign_key,
            allowed: #allowed,
            precision: #precision,
        }
    }
}

/// Compile-time checks on the resolved field type: a key that is not generated is not nullable
/// (catches `type Id = Option<i64>`), a default suits the column's type, `length` is on text.
fn checks(m: &ModelDef, f: &FieldDef) -> Vec<TokenStream> {
    let column = format!("{}.{}", m.table, f.column);
    let sql_type = sql_field(f, "SQL_TYPE");
    let mut out = Vec::new();
    let assert = |span: Span, cond: TokenStream, message: String| quote_spanned!(span=> const _: () = ::core::assert!(#cond, #message););

    if f.primary_key && !f.autoincrement {
        let nullable = sql_field(f, "NULLABLE");
        out.push(assert(
            f.ty.span(),
            quote!(!#nullable),
            format!("primary-key column `{column}` cannot be NULL: its field type must not be an Option"),
        ));
    }
    if let Some((n, span)) = f.length {
        out.push(assert(
            span,
            quote!(::core::matches!(#sql_type, ::athanor::__private::SqlType::Text)),
            format!("#[column(length = {n})] on `{column}`: a length applies only to String columns (VARCHAR({n}))"),
        ));
    }
    match f.precision {
        Some(((p, s), span)) => out.push(assert(
            span,
            quote!(::core::matches!(#sql_type, ::athanor::__private::SqlType::Decimal)),
            format!(
                "#[column(precision = {p}, scale = {s})] on `{column}`: precision and scale apply only to decimal \
                 columns (rust_decimal::Decimal)"
            ),
        )),
        // A known type is not a decimal.
        None if crate::known::known(&f.ty).is_some() => {}
        None => out.push(assert(
            f.ty.span(),
            quote!(!::core::matches!(#sql_type, ::athanor::__private::SqlType::Decimal)),
            format!(
                "decimal column `{column}` needs its precision and scale: #[column(precision = P, scale = S)] \
                 (at most 28 digits in all, S of them after the point)"
            ),
        )),
    }
    if let Some((d, span)) = &f.default {
        let (types, wants) = match d {
            DefaultLit::Int(v) => {
                let mut types = vec![quote!(BigInt), quote!(Real), quote!(Double)];
                if i32::try_from(*v).is_ok() {
                    types.push(quote!(Integer));
                }
                if i16::try_from(*v).is_ok() {
                    types.push(quote!(SmallInt));
                }
                (types, "an integer default needs an integer column wide enough to hold it, or a float column")
            }
            DefaultLit::Float(_) => (vec![quote!(Real), quote!(Double)], "a float default needs an f32 or f64 column"),
            DefaultLit::Text(_) => (vec![quote!(Text)], "a string default needs a String column"),
            DefaultLit::Bool(_) => (vec![quote!(Bool)], "a bool default needs a bool column"),
        };
        out.push(assert(
            *span,
            quote!(::core::matches!(#sql_type, #(::athanor::__private::SqlType::#types)|*)),
            format!("#[column(default = {})] on `{column}`: {wants}", d.describe()),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn expand(input: DeriveInput) -> String {
        derive(&input).unwrap().to_string()
    }

    #[test]
    fn customer() {
        let out = expand(parse_quote! {
            #[model(table = "customers")]
            pub struct Customer {
                #[column(primary_key)]
                pub id: Option<i64>,
                pub(crate) name: String,
                #[column(unique, length = 255)]
                email: String,
                #[column(default = -3)]
                pub age: i32,
            }
        });
        for expected in [
            "impl :: athanor :: __private :: Model for Customer",
            "name : \"customers\" , rust_name : \"Customer\"",
            "name : \"id\" , field : \"id\" , sql_type : :: athanor :: __private :: SqlType :: BigInt , \
             nullable : false , primary_key : true , autoincrement : true",
            "name : \"name\" , field : \"name\" , sql_type : :: athanor :: __private :: SqlType :: Text , nullable : false ,",
            "allowed : & [] ,",
            "length : :: core :: option :: Option :: Some (255u32)",
            "default : :: core :: option :: Option :: Some (:: athanor :: __private :: DefaultValue :: Int (- 3i64))",
            "0 => < Option < i64 > as :: athanor :: __private :: SqlField > :: as_value_ref (& self . id) ,",
            "_ => :: athanor :: __private :: ValueRef :: Null",
            "let mut cells = :: athanor :: __private :: Cells :: new (row , < Self as :: athanor :: __private :: Model > :: TABLE) ;",
            "age : cells . get :: < i32 > (3) , } ; cells . finish (value)",
            "3 => :: athanor :: __private :: set_field :: < i32 > (& mut self . age , value , 3 ,",
            "fn check_values (& self) -> :: athanor :: __private :: Result < () > { :: core :: result :: Result :: Ok (()) }",
            "fn known_types (m : & Customer) { let _ : & :: core :: option :: Option < :: core :: primitive :: i64 > = & m . id ; \
             let _ : & :: std :: string :: String = & m . name ;",
            "self . id = :: core :: option :: Option :: Some (:: athanor :: __private :: generated_key (key ,",
            "# [doc = \" Column `customers.id`.\"] pub const id : :: athanor :: __private :: Column < Customer , Option < i64 > > \
             = :: athanor :: __private :: Column :: new (0 , \"id\") ;",
            "pub (crate) const name :",
            "const email :",
            "const _ : () = :: core :: assert ! (:: core :: matches ! (< String as :: athanor :: __private :: SqlField > :: \
             SQL_TYPE , :: athanor :: __private :: SqlType :: Text)",
            "SqlType :: BigInt | :: athanor :: __private :: SqlType :: Real | :: athanor :: __private :: SqlType :: Double | :: athanor :: __private :: \
             SqlType :: Integer | :: athanor :: __private :: SqlType :: SmallInt)",
        ] {
            assert!(out.contains(expected), "missing `{expected}` in\n{out}");
        }
        assert!(!out.contains("has no autoincrement"));
        assert!(!out.contains("VERSION_COLUMN"), "no version column: the trait's default");
    }

    #[test]
    fn version_column() {
        let out = expand(parse_quote! {
            #[model(table = "books")]
            struct Book { #[column(primary_key)] id: i64, stock: i32, #[column(version)] version: i64 }
        });
        assert!(out.contains(
            "const VERSION_COLUMN : :: core :: option :: Option < usize > = :: core :: option :: Option :: Some (2) ;"
        ));
    }

    #[test]
    fn types_not_known_by_name_keep_their_projections_and_checks() {
        let out = expand(parse_quote! {
            #[model(table = "accounts")]
            struct Account { #[column(primary_key)] id: i64, balance: Money, big: u64, flag: bool }
        });
        for expected in [
            "sql_type : < Money as :: athanor :: __private :: SqlField > :: SQL_TYPE , \
             nullable : < Money as :: athanor :: __private :: SqlField > :: NULLABLE",
            "allowed : < Money as :: athanor :: __private :: SqlField > :: ALLOWED",
            "balance : :: athanor :: __private :: Cells :: decode :: < Money > (& mut cells , 1) ? ,",
            "big : cells . get :: < u64 > (2) ,",
            ":: athanor :: __private :: check_field (& self . balance , 1 ,",
            ":: athanor :: __private :: check_field (& self . big , 2 ,",
            "decimal column `accounts.balance` needs its precision and scale",
            "let _ : & :: core :: primitive :: u64 = & m . big ;",
        ] {
            assert!(out.contains(expected), "missing `{expected}` in\n{out}");
        }
        // Known types: no check call that cannot fail, no decimal check, no projection.
        assert!(!out.contains("check_field (& self . flag"));
        assert!(!out.contains("decimal column `accounts.flag`"));
        assert!(!out.contains("< bool as :: athanor :: __private :: SqlField > :: SQL_TYPE"));
    }

    #[test]
    fn no_autoincrement_column() {
        let out = expand(parse_quote! {
            #[model(table = "pairs")]
            struct Pair { #[column(primary_key)] a: i64, #[column(primary_key)] b: String }
        });
        assert!(out.contains(
            "Err (:: athanor :: __private :: Error :: invalid_request (:: std :: format ! (\"{}{})\" , \"table `pairs` has no autoincrement"
        ));
        assert!(out.contains("primary-key column `pairs.a` cannot be NULL"));
        assert!(out.contains("primary-key column `pairs.b` cannot be NULL"));
    }

    #[test]
    fn foreign_key_and_name() {
        let out = expand(parse_quote! {
            #[model(table = "t")]
            struct T {
                #[column(primary_key)] id: i64,
                #[column(foreign_key = "customers.id", name = "parent_id")] r#parent: Option<i64>,
            }
        });
        assert!(out.contains(
            "name : \"parent_id\" , field : \"parent\" , sql_type : :: athanor :: __private :: SqlType :: BigInt , nullable : true"
        ));
        assert!(out.contains(
            "foreign_key : :: core :: option :: Option :: Some (:: athanor :: __private :: ForeignKeyDef { table : \"customers\" , \
             column : \"id\" })"
        ));
        assert!(out.contains("const r#parent : :: athanor :: __private :: Column < T , Option < i64 > > = :: athanor :: __private :: Column :: new (1 , \"parent_id\")"));
    }

    #[test]
    fn relationships() {
        let out = expand(parse_quote! {
            #[model(table = "posts")]
            pub struct Post {
                #[column(primary_key)] id: Option<i64>,
                #[column(foreign_key = "users.id")] user_id: Option<i64>,
                #[relationship(back_populates = "posts", lazy = "joined")]
                pub author: BelongsTo<User>,
                #[relationship(secondary = "post_tags", order_by = "name desc")]
                pub tags: athanor::ManyToMany<Tag>,
                #[relationship(cascade = "all, delete-orphan")]
                comments: HasMany<Comment>,
            }
        });
        for expected in [
            "const __athanor_fk_author : usize = :: athanor :: __private :: find_foreign_key (< Post as :: athanor :: __private :: Model > :: TABLE , < User as :: athanor :: __private :: Model > :: TABLE , \"\")",
            "kind : :: athanor :: __private :: RelationKind :: ManyToOne",
            "lazy : :: athanor :: __private :: LoadStrategy :: Joined",
            "name : \"post_tags\" , rust_name : \"post_tags\" , columns : & [:: athanor :: __private :: association_column (\"post_id\" ,",
            "association_column (\"tag_id\" , < Tag as :: athanor :: __private :: Model > :: TABLE)",
            "secondary_local : 0 , secondary_remote : 1",
            "cascade : :: athanor :: __private :: Cascade { save_update : true , delete : true , delete_orphan : true }",
            "pub const author : :: athanor :: __private :: Relationship < Post , User , :: athanor :: __private :: One > = :: athanor :: __private :: Relationship :: new (0)",
            "const comments : :: athanor :: __private :: Relationship < Post , Comment , :: athanor :: __private :: Many > = :: athanor :: __private :: Relationship :: new (2)",
            "author : :: core :: default :: Default :: default () ,",
            "has_relationship (< User as :: athanor :: __private :: Model > :: RELATIONSHIPS , \"posts\" , :: athanor :: __private :: RelationKind :: OneToMany)",
        ] {
            assert!(out.contains(expected), "missing `{expected}` in\n{out}");
        }
        // Two columns only: relationship fields are not columns.
        assert_eq!(out.matches("sql_type :").count(), 2);
        only_private_paths(&out);
    }

    /// Generated code names the facade only through `::athanor::__private`, so the facade's
    /// top level can change without breaking any derived model.
    fn only_private_paths(out: &str) {
        let other: Vec<&str> = out
            .match_indices(":: athanor :: ")
            .map(|(i, _)| &out[i..])
            .filter(|p| !p.starts_with(":: athanor :: __private ::"))
            .collect();
        assert!(
            other.is_empty(),
            "paths outside ::athanor::__private: {:?}",
            other.iter().map(|p| &p[..p.len().min(60)]).collect::<Vec<_>>()
        );
    }

    #[test]
    fn every_generated_path_goes_through_private() {
        let out = expand(parse_quote! {
            #[model(table = "kinds")]
            pub struct Kinds {
                #[column(primary_key)] id: Option<i64>,
                #[column(unique, length = 20, default = "x")] name: String,
                #[column(default = 1.5)] f: f64,
                #[column(default = true)] b: bool,
                #[column(foreign_key = "kinds.id")] parent: Option<i64>,
            }
        });
        only_private_paths(&out);
        let enums = crate::db_enum::derive(&parse_quote! {
            #[db_enum(int)]
            enum Level { Low = 1, High = 10 }
        })
        .map(|t| t.to_string())
        .unwrap_or_else(|e| e.to_compile_error().to_string());
        only_private_paths(&enums);
    }
}
