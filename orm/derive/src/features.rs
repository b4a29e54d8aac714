//! Field types from other crates that need one of athanor's cargo features: when the feature is
//! off, the derive says so as the one error of the field, instead of the trait errors the
//! compiler would print first (`FromValue`/`DbNewtype` not implemented …).
//!
//! The facade turns on this crate's feature of the same name with its own (`uuid`, `jiff`,
//! `chrono`, `time`, `decimal`, `json`), so the derive knows what athanor-core was built with.
//! Only paths that name the crate are recognized (`uuid::Uuid`, `jiff::civil::Date`,
//! `Option<chrono::NaiveDate>` …): a bare `Uuid` may be the application's own type.

use syn::{GenericArgument, PathArguments, Type};

/// Each feature, whether this build of the derive has it (the facade's feature of the same
/// name), and the types it provides, as the path a field names them by.
const TYPES: &[(&str, bool, &[&str])] = &[
    ("uuid", cfg!(feature = "uuid"), &["uuid::Uuid"]),
    (
        "jiff",
        cfg!(feature = "jiff"),
        &["jiff::Timestamp", "jiff::civil::Date", "jiff::civil::DateTime", "jiff::civil::Time"],
    ),
    (
        "chrono",
        cfg!(feature = "chrono"),
        &["chrono::DateTime", "chrono::NaiveDate", "chrono::NaiveDateTime", "chrono::NaiveTime"],
    ),
    ("time", cfg!(feature = "time"), &["time::OffsetDateTime", "time::PrimitiveDateTime", "time::Date", "time::Time"]),
    ("decimal", cfg!(feature = "decimal"), &["rust_decimal::Decimal", "athanor::Decimal"]),
    ("json", cfg!(feature = "json"), &["serde_json::Value", "athanor::Json"]),
];

/// The path of `ty` (inside one `Option<…>`), as `a::b::C` without generic arguments.
fn path_of(ty: &Type) -> Option<String> {
    let Type::Path(p) = ty else { return None };
    if p.qself.is_some() {
        return None;
    }
    let last = p.path.segments.last()?;
    if last.ident == "Option" && p.path.segments.len() == 1 {
        if let PathArguments::AngleBracketed(args) = &last.arguments {
            if let Some(GenericArgument::Type(inner)) = args.args.first() {
                return path_of(inner);
            }
        }
        return None;
    }
    Some(p.path.segments.iter().map(|s| s.ident.to_string()).collect::<Vec<_>>().join("::"))
}

/// The feature a field of type `ty` needs and this build lacks, with the type's path.
pub fn missing(ty: &Type) -> Option<(&'static str, String)> {
    let path = path_of(ty)?;
    TYPES
        .iter()
        .find(|(_, _, types)| types.contains(&path.as_str()))
        .filter(|(_, enabled, _)| !enabled)
        .map(|(feature, _, _)| (*feature, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_only_crate_qualified_paths() {
        let ty: Type = syn::parse_quote!(Option<uuid::Uuid>);
        assert_eq!(path_of(&ty).as_deref(), Some("uuid::Uuid"));
        let ty: Type = syn::parse_quote!(chrono::DateTime<chrono::Utc>);
        assert_eq!(path_of(&ty).as_deref(), Some("chrono::DateTime"));
        // The application's own type of the same last name is not taken for the crate's.
        let ty: Type = syn::parse_quote!(Uuid);
        assert!(missing(&ty).is_none());
        let ty: Type = syn::parse_quote!(String);
        assert!(missing(&ty).is_none());
        if !cfg!(feature = "uuid") {
            let ty: Type = syn::parse_quote!(uuid::Uuid);
            assert_eq!(missing(&ty), Some(("uuid", "uuid::Uuid".to_string())));
        }
    }
}
