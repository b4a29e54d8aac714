//! Field types the derive knows by name: the primitives, `String`, `Vec<u8>` and `Option` of
//! each. For these it writes the column's SQL type and nullability as literals and leaves out
//! the checks that cannot fail for them (a decimal's precision, a value's `SqlField::check`,
//! which accepts every value of these types but `u64`), instead of one trait projection and
//! one constant per column: a crate of 100 models × 60 columns had 6,000 constants to evaluate.
//!
//! A name is only a name (`String` could be an application's own type), so the derive also
//! writes one function per model that binds each such field to the type it took it for
//! (`::std::string::String` …): a shadowed name fails to compile there instead of being mapped
//! wrongly.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{GenericArgument, PathArguments, Type};

/// What the derive knows of a field type.
pub struct Known {
    /// The `SqlType` variant.
    pub sql_type: &'static str,
    /// `Option<…>`.
    pub nullable: bool,
    /// `SqlField::check` can refuse a value (`u64` above `i64::MAX`).
    pub checked: bool,
    /// The type by its full path.
    pub path: TokenStream,
}

/// The primitive field types: name, `SqlType` variant, whether `check` can refuse a value.
const PRIMITIVES: &[(&str, &str, bool)] = &[
    ("bool", "Bool", false),
    ("i16", "SmallInt", false),
    ("i32", "Integer", false),
    ("i64", "BigInt", false),
    ("f32", "Real", false),
    ("f64", "Double", false),
    ("u8", "U8", false),
    ("u16", "U16", false),
    ("u32", "U32", false),
    ("u64", "U64", true),
];

/// `ty` if the derive knows it.
pub fn known(ty: &Type) -> Option<Known> {
    let (name, args) = single_segment(ty)?;
    if name == "Option" {
        let inner = known(first_type_arg(args?)?)?;
        if inner.nullable {
            return None;
        }
        let path = inner.path;
        return Some(Known { nullable: true, path: quote!(::core::option::Option<#path>), ..inner });
    }
    if let Some(&(_, sql_type, checked)) = PRIMITIVES.iter().find(|(n, ..)| *n == name) {
        if args.is_some() {
            return None;
        }
        let ident = syn::Ident::new(&name, proc_macro2::Span::call_site());
        return Some(Known { sql_type, nullable: false, checked, path: quote!(::core::primitive::#ident) });
    }
    match (name.as_str(), args) {
        ("String", None) => {
            Some(Known { sql_type: "Text", nullable: false, checked: false, path: quote!(::std::string::String) })
        }
        ("Vec", Some(args)) => match single_segment(first_type_arg(args)?)? {
            (inner, None) if inner == "u8" => Some(Known {
                sql_type: "Blob",
                nullable: false,
                checked: false,
                path: quote!(::std::vec::Vec<::core::primitive::u8>),
            }),
            _ => None,
        },
        _ => None,
    }
}

/// The identifier of a one-segment path type and its angle-bracketed arguments.
fn single_segment(ty: &Type) -> Option<(String, Option<&syn::AngleBracketedGenericArguments>)> {
    let Type::Path(p) = ty else { return None };
    if p.qself.is_some() || p.path.leading_colon.is_some() || p.path.segments.len() != 1 {
        return None;
    }
    let seg = &p.path.segments[0];
    match &seg.arguments {
        PathArguments::None => Some((seg.ident.to_string(), None)),
        PathArguments::AngleBracketed(a) => Some((seg.ident.to_string(), Some(a))),
        PathArguments::Parenthesized(_) => None,
    }
}

fn first_type_arg(args: &syn::AngleBracketedGenericArguments) -> Option<&Type> {
    if args.args.len() != 1 {
        return None;
    }
    match args.args.first()? {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    #[test]
    fn names_are_known_with_their_sql_types() {
        let k = |t: Type| known(&t).map(|k| (k.sql_type, k.nullable, k.checked, k.path.to_string()));
        assert_eq!(k(parse_quote!(i64)), Some(("BigInt", false, false, ":: core :: primitive :: i64".into())));
        assert_eq!(
            k(parse_quote!(Option<String>)),
            Some(("Text", true, false, ":: core :: option :: Option < :: std :: string :: String >".into()))
        );
        assert_eq!(k(parse_quote!(u64)).map(|k| k.2), Some(true));
        assert_eq!(k(parse_quote!(Vec<u8>)).map(|k| k.0), Some("Blob"));
        for unknown in [
            parse_quote!(Option<Option<i64>>),
            parse_quote!(Vec<i64>),
            parse_quote!(std::string::String),
            parse_quote!(Decimal),
            parse_quote!(Money),
            parse_quote!(i64<u8>),
        ] {
            assert!(known(&unknown).is_none(), "{}", quote!(#unknown));
        }
    }
}
