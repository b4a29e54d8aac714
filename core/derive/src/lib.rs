use proc_macro::TokenStream;
#[proc_macro_derive(Model, attributes(model, column))]
pub fn derive_model(_i: TokenStream) -> TokenStream {
    TokenStream::new()
}
