//! `#[athanor::test(…)]`: one `#[test]` per backend around a function that takes an `Engine`.
//!
//! ```text
//! #[athanor::test(backends(sqlite, postgres), base = app::base)]
//! fn saves(engine: Engine) -> athanor::Result<()> { … }
//! ```
//! keeps `saves` and adds `mod saves { #[test] fn sqlite() …; #[test] fn postgres() … }`, each
//! calling `::athanor::__private::test_run` (the facade's `testing::run`) with the backend, the
//! test's path and its options. Arguments: `backends(…)` (default: all three), `base = path` (a
//! `fn() -> Base` whose tables are created) or `migrations = "dir"`, and `keep_on_failure`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::{Error, Ident, ItemFn, LitStr, Path};

/// The backends a test may name.
const BACKENDS: [&str; 3] = ["sqlite", "postgres", "mysql"];

/// The parsed arguments of the attribute.
#[derive(Default)]
pub(crate) struct Args {
    backends: Vec<Ident>,
    base: Option<Path>,
    migrations: Option<LitStr>,
    keep_on_failure: bool,
}

/// Parse the attribute's arguments.
pub(crate) fn parse_args(tokens: TokenStream) -> syn::Result<Args> {
    let mut args = Args::default();
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("backends") {
            meta.parse_nested_meta(|b| {
                let Some(name) = b.path.get_ident() else { return Err(b.error("expected a backend name")) };
                if !BACKENDS.contains(&name.to_string().as_str()) {
                    return Err(b.error(format!("unknown backend `{name}`: expected sqlite, postgres or mysql")));
                }
                if args.backends.iter().any(|n| n == name) {
                    return Err(b.error(format!("backend `{name}` named twice")));
                }
                args.backends.push(name.clone());
                Ok(())
            })
        } else if meta.path.is_ident("base") {
            args.base = Some(meta.value()?.parse()?);
            Ok(())
        } else if meta.path.is_ident("migrations") {
            args.migrations = Some(meta.value()?.parse()?);
            Ok(())
        } else if meta.path.is_ident("keep_on_failure") {
            args.keep_on_failure = true;
            Ok(())
        } else {
            Err(meta.error("expected `backends(…)`, `base = path`, `migrations = \"dir\"` or `keep_on_failure`"))
        }
    });
    syn::parse::Parser::parse2(parser, tokens)?;
    if args.base.is_some() && args.migrations.is_some() {
        return Err(Error::new(Span::call_site(), "name either `base` or `migrations`, not both"));
    }
    if args.backends.is_empty() {
        args.backends = BACKENDS.iter().map(|b| Ident::new(b, Span::call_site())).collect();
    }
    Ok(args)
}

/// Expand `#[athanor::test(args)] fn name(engine: Engine) -> Result<()>`.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args = parse_args(args)?;
    let func: ItemFn = syn::parse2(item)?;
    let sig = &func.sig;
    if sig.inputs.len() != 1 {
        return Err(Error::new_spanned(
            &sig.inputs,
            "an #[athanor::test] function takes one argument: `engine: Engine`",
        ));
    }
    if sig.asyncness.is_some() || !sig.generics.params.is_empty() {
        return Err(Error::new_spanned(sig, "an #[athanor::test] function is neither async nor generic"));
    }
    let name = &sig.ident;
    let options = format_ident!("__athanor_test_options_{}", name);
    let setup = match (&args.base, &args.migrations) {
        (Some(base), _) => quote!(::athanor::__private::TestSetup::Base(#base)),
        (_, Some(dir)) => quote!(::athanor::__private::TestSetup::Migrations(#dir)),
        _ => quote!(::athanor::__private::TestSetup::Empty),
    };
    let keep = args.keep_on_failure;
    let tests = args.backends.iter().map(|backend| {
        let label = backend.to_string();
        quote! {
            #[test]
            fn #backend() {
                ::athanor::__private::test_run(
                    #label,
                    ::core::concat!(::core::module_path!(), "::", ::core::stringify!(#name)),
                    super::#options(),
                    super::#name,
                );
            }
        }
    });
    Ok(quote! {
        #[allow(dead_code)]
        #func

        #[doc(hidden)]
        #[allow(non_snake_case, dead_code)]
        fn #options() -> ::athanor::__private::TestOptions {
            ::athanor::__private::TestOptions {
                setup: #setup,
                keep_on_failure: #keep,
                manifest_dir: ::core::env!("CARGO_MANIFEST_DIR"),
            }
        }

        /// One test per backend (`#[athanor::test]`).
        mod #name {
            #(#tests)*
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(args: TokenStream) -> String {
        parse_args(args).err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn arguments_parse_and_bad_ones_are_named() {
        let a = parse_args(quote!(backends(sqlite, mysql), base = app::base, keep_on_failure)).unwrap();
        assert_eq!(a.backends.iter().map(ToString::to_string).collect::<Vec<_>>(), ["sqlite", "mysql"]);
        assert!(a.base.is_some() && a.keep_on_failure && a.migrations.is_none());
        let all = parse_args(quote!()).unwrap();
        assert_eq!(all.backends.len(), 3);
        assert_eq!(err(quote!(backends(oracle))), "unknown backend `oracle`: expected sqlite, postgres or mysql");
        assert_eq!(err(quote!(backends(sqlite, sqlite))), "backend `sqlite` named twice");
        assert_eq!(err(quote!(base = a, migrations = "m")), "name either `base` or `migrations`, not both");
        assert!(err(quote!(bases = a)).starts_with("expected `backends(…)`"));
    }

    #[test]
    fn one_test_per_backend_calls_the_runtime() {
        let out = expand(
            quote!(backends(sqlite, postgres)),
            quote!(
                fn saves(engine: Engine) -> Result<()> {
                    Ok(())
                }
            ),
        )
        .unwrap()
        .to_string();
        assert!(out.contains("mod saves"));
        assert!(out.contains("fn sqlite ()") && out.contains("fn postgres ()") && !out.contains("fn mysql ()"));
        assert!(out.contains(":: athanor :: __private :: test_run"));
        let two = expand(
            quote!(),
            quote!(
                fn f(a: Engine, b: u8) -> Result<()> {
                    Ok(())
                }
            ),
        );
        assert!(two.is_err());
    }
}
