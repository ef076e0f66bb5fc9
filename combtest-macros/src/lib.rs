//! Procedural macros of [combtest](https://docs.rs/combtest). Depend on `combtest`, which
//! re-exports them and documents them; the generated code refers to the runtime through
//! `::combtest::__private`, so this crate is never named directly.
//!
//! Each macro is a thin shell over plain functions from `proc_macro2::TokenStream` to
//! `proc_macro2::TokenStream` (parse, validate, expand), tested without the compiler's
//! proc-macro boundary.

mod action;
mod attr;
mod block;
mod derive_options;
mod errors;
mod features;

use proc_macro::TokenStream;

/// Turns `fn name(param: P, state: &mut S [, shared: &G])` into a combtest action.
/// See `combtest::action`.
#[proc_macro_attribute]
pub fn action(args: TokenStream, item: TokenStream) -> TokenStream {
    action::expand(action::Kind::Regular, args.into(), item.into()).into()
}

/// Turns `fn name(param: P [, shared: &mut G] [, states: States<'_, S>])` into a combtest
/// serial action. See `combtest::serial_action`.
#[proc_macro_attribute]
pub fn serial_action(args: TokenStream, item: TokenStream) -> TokenStream {
    action::expand(action::Kind::Serial, args.into(), item.into()).into()
}

/// Runs every walk of an order. See `combtest::combtest`.
#[proc_macro]
pub fn combtest(input: TokenStream) -> TokenStream {
    block::expand(input.into()).into()
}

/// Derives `combtest::Options` for a fieldless enum. See `combtest::Options`.
#[proc_macro_derive(Options)]
pub fn derive_options(input: TokenStream) -> TokenStream {
    derive_options::expand(input.into()).into()
}
