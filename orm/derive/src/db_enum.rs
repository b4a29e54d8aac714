//! `#[derive(DbEnum)]`: a Rust enum of unit variants as a column type, stored as text (the
//! variant's name, or `#[db_enum(rename = "…")]`) or, with `#[db_enum(int)]` on the enum, as an
//! integer (the variant's explicit discriminant, else its position). The column gets a
//! `CHECK (col IN (…))` listing the values.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Data, DeriveInput, Expr, ExprLit, ExprUnary, Fields, Lit, UnOp};

struct Variant {
    ident: syn::Ident,
    text: String,
    number: i64,
}

fn int_of(e: &Expr) -> Option<i64> {
    match e {
        Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => i.base10_parse().ok(),
        Expr::Unary(ExprUnary { op: UnOp::Neg(_), expr, .. }) => int_of(expr).map(|v: i64| -v),
        _ => None,
    }
}

/// Expand `#[derive(DbEnum)]`.
pub(crate) fn derive(input: &DeriveInput) -> syn::Result<TokenStream> {
    let ident = &input.ident;
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new_spanned(ident, "#[derive(DbEnum)] is for enums of unit variants"));
    };
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(&input.generics, "#[derive(DbEnum)] does not take generic parameters"));
    }
    let mut int = false;
    let mut serde = false;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("db_enum")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("int") {
                int = true;
                Ok(())
            } else if meta.path.is_ident("serde") {
                if !cfg!(feature = "serde") {
                    return Err(meta.error(
                        "#[db_enum(serde)] needs athanor's cargo feature `serde` (athanor = { features = [\"serde\"] })",
                    ));
                }
                serde = true;
                Ok(())
            } else {
                Err(meta.error(
                    "expected `int` (store the variants as integers) or `serde` (serialize them as they are stored)",
                ))
            }
        })?;
    }
    let mut variants: Vec<Variant> = Vec::new();
    for (pos, v) in data.variants.iter().enumerate() {
        if !matches!(v.fields, Fields::Unit) {
            return Err(syn::Error::new_spanned(v, "a DbEnum variant cannot hold data"));
        }
        let mut text = v.ident.to_string();
        for attr in v.attrs.iter().filter(|a| a.path().is_ident("db_enum")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    let s: syn::LitStr = meta.value()?.parse()?;
                    text = s.value();
                    Ok(())
                } else {
                    Err(meta.error("expected `rename = \"…\"`"))
                }
            })?;
        }
        let number = match &v.discriminant {
            Some((_, e)) => int_of(e)
                .ok_or_else(|| syn::Error::new_spanned(e, "a DbEnum discriminant must be an integer literal"))?,
            None => i64::try_from(pos).unwrap_or(i64::MAX),
        };
        if variants.iter().any(|o| o.text == text) {
            return Err(syn::Error::new_spanned(v, format!("two variants are stored as {text:?}")));
        }
        if int && variants.iter().any(|o| o.number == number) {
            return Err(syn::Error::new_spanned(v, format!("two variants are stored as {number}")));
        }
        variants.push(Variant { ident: v.ident.clone(), text, number });
    }
    if variants.is_empty() {
        return Err(syn::Error::new(Span::call_site(), "a DbEnum needs at least one variant"));
    }
    let name = ident.to_string();
    let idents: Vec<&syn::Ident> = variants.iter().map(|v| &v.ident).collect();
    let (sql_type, value_ref, value, allowed, max_len, decode) = if int {
        let numbers: Vec<i64> = variants.iter().map(|v| v.number).collect();
        (
            quote!(::athanor::__private::SqlType::BigInt),
            quote!(::athanor::__private::ValueRef::I64(match self { #(Self::#idents => #numbers,)* })),
            quote!(::athanor::__private::Value::I64(match v { #(#ident::#idents => #numbers,)* })),
            quote!(&[#(::athanor::__private::DefaultValue::Int(#numbers)),*]),
            quote!(::core::option::Option::None),
            quote! {
                let n = <i64 as ::athanor::__private::FromValue>::from_value(v)?;
                match n {
                    #(#numbers => ::core::result::Result::Ok(Self::#idents),)*
                    _ => ::core::result::Result::Err(::athanor::__private::Error::type_mismatch("", #name, ::std::format!("{n}"))),
                }
            },
        )
    } else {
        let texts: Vec<&str> = variants.iter().map(|v| v.text.as_str()).collect();
        let longest = texts.iter().map(|t| t.chars().count()).max().unwrap_or(1).max(1) as u32;
        (
            quote!(::athanor::__private::SqlType::Text),
            quote!(::athanor::__private::ValueRef::Text(match self { #(Self::#idents => #texts,)* })),
            quote!(::athanor::__private::Value::Text(::std::string::String::from(match v { #(#ident::#idents => #texts,)* }))),
            quote!(&[#(::athanor::__private::DefaultValue::Text(#texts)),*]),
            quote!(::core::option::Option::Some(#longest)),
            quote! {
                let s = <::std::string::String as ::athanor::__private::FromValue>::from_value(v)?;
                match s.as_str() {
                    #(#texts => ::core::result::Result::Ok(Self::#idents),)*
                    _ => ::core::result::Result::Err(::athanor::__private::Error::type_mismatch("", #name, ::std::format!("{s:?}"))),
                }
            },
        )
    };
    let serde_impls = if serde { serde_impls(ident, &variants, int) } else { TokenStream::new() };
    Ok(quote! {
        #serde_impls

        #[automatically_derived]
        impl ::athanor::__private::FromValue for #ident {
            fn from_value(v: ::athanor::__private::ValueRef<'_>) -> ::athanor::__private::Result<Self> {
                #decode
            }
        }

        #[automatically_derived]
        impl ::athanor::__private::SqlField for #ident {
            const SQL_TYPE: ::athanor::__private::SqlType = #sql_type;
            const NULLABLE: bool = false;
            const ALLOWED: &'static [::athanor::__private::DefaultValue] = #allowed;
            const MAX_LENGTH: ::core::option::Option<u32> = #max_len;
            fn as_value_ref(&self) -> ::athanor::__private::ValueRef<'_> {
                #value_ref
            }
        }

        #[automatically_derived]
        impl ::core::convert::From<#ident> for ::athanor::__private::Value {
            fn from(v: #ident) -> ::athanor::__private::Value {
                #value
            }
        }

        #[automatically_derived]
        impl ::athanor::__private::ColumnValue<#ident> for #ident {
            fn into_value(self) -> ::athanor::__private::Value { self.into() }
        }
        // A nullable column compares with a variant; test NULL with `is_null()` (an impl for
        // `Option<Self>` would be another crate's type, which the orphan rule forbids here).
        #[automatically_derived]
        impl ::athanor::__private::ColumnValue<::core::option::Option<#ident>> for #ident {
            fn into_value(self) -> ::athanor::__private::Value { self.into() }
        }
    })
}

/// `#[db_enum(serde)]`: `Serialize` and `Deserialize` as the value is stored (the text, or the
/// integer with `int`), so the JSON of a model says what its column holds.
fn serde_impls(ident: &syn::Ident, variants: &[Variant], int: bool) -> TokenStream {
    let idents: Vec<&syn::Ident> = variants.iter().map(|v| &v.ident).collect();
    let serde = quote!(::athanor::__private::serde);
    let (ser, de) = if int {
        let numbers: Vec<i64> = variants.iter().map(|v| v.number).collect();
        let expected = format!("one of {}", numbers.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "));
        (
            quote!(serializer.serialize_i64(match self { #(Self::#idents => #numbers,)* })),
            quote! {
                let n = <i64 as #serde::Deserialize>::deserialize(deserializer)?;
                match n {
                    #(#numbers => ::core::result::Result::Ok(Self::#idents),)*
                    _ => ::core::result::Result::Err(<D::Error as #serde::de::Error>::invalid_value(
                        #serde::de::Unexpected::Signed(n),
                        &#expected,
                    )),
                }
            },
        )
    } else {
        let texts: Vec<&str> = variants.iter().map(|v| v.text.as_str()).collect();
        (
            quote!(serializer.serialize_str(match self { #(Self::#idents => #texts,)* })),
            quote! {
                let s = <::std::string::String as #serde::Deserialize>::deserialize(deserializer)?;
                match s.as_str() {
                    #(#texts => ::core::result::Result::Ok(Self::#idents),)*
                    _ => ::core::result::Result::Err(<D::Error as #serde::de::Error>::unknown_variant(&s, &[#(#texts),*])),
                }
            },
        )
    };
    quote! {
        #[automatically_derived]
        impl #serde::Serialize for #ident {
            fn serialize<S: #serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                #ser
            }
        }

        #[automatically_derived]
        impl<'de> #serde::Deserialize<'de> for #ident {
            fn deserialize<D: #serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {
                #de
            }
        }
    }
}
