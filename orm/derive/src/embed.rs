//! `embedded!("migrations")` (the facade's `athanor::migrate::embedded!`): the migration files of
//! a directory, relative to the calling crate's manifest, compiled into the program with
//! `include_str!` (so an edited file rebuilds it), in file-name order. The files are parsed and
//! their chain checked when the program reads them (`EmbeddedMigrations::chain`).

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::{Error, LitStr};

pub fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let dir: LitStr = syn::parse2(input)?;
    let manifest = std::env::var("CARGO_MANIFEST_DIR")
        .map_err(|_| Error::new(Span::call_site(), "CARGO_MANIFEST_DIR is not set: build with cargo"))?;
    let path = std::path::Path::new(&manifest).join(dir.value());
    let entries = std::fs::read_dir(&path)
        .map_err(|e| Error::new(dir.span(), format!("cannot read the migration directory {}: {e}", path.display())))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::new(dir.span(), format!("cannot read {}: {e}", path.display())))?;
        let file = entry.path();
        if file.extension().is_some_and(|x| x == "json") {
            let name = entry.file_name().to_string_lossy().into_owned();
            let full =
                file.to_str().ok_or_else(|| Error::new(dir.span(), format!("{} is not UTF-8", file.display())))?;
            files.push((name, full.to_owned()));
        }
    }
    files.sort();
    let items = files.iter().map(|(name, full)| quote!((#name, ::core::include_str!(#full))));
    Ok(quote!(::athanor::migrate::EmbeddedMigrations::new(&[#(#items),*])))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_missing_directory_is_a_compile_error_naming_it() {
        let e = expand(quote!("no/such/dir")).unwrap_err().to_string();
        assert!(e.contains("cannot read the migration directory") && e.contains("no/such/dir"), "{e}");
    }

    #[test]
    fn the_json_files_are_included_in_name_order() {
        let dir = std::env::temp_dir().join(format!("athanor-embed-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for f in ["0002_b.json", "0001_a.json", "notes.txt"] {
            std::fs::write(dir.join(f), "{}").unwrap();
        }
        let lit = dir.to_str().unwrap();
        let out = expand(quote!(#lit)).map(|t| t.to_string());
        std::fs::remove_dir_all(&dir).unwrap();
        let out = out.unwrap();
        let a = out.find("0001_a.json").unwrap();
        let b = out.find("0002_b.json").unwrap();
        assert!(a < b && !out.contains("notes.txt"), "{out}");
    }
}
