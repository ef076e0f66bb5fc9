//! `combtest! { order: [...], state: ..., ... }`: sugar over the `combtest::Combtest` builder.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{bracketed, Expr, Ident, Path, Token};

use crate::errors::{suggestion, Errors};

const KEYS: &[&str] = &[
    "order",
    "state",
    "shared",
    "threads",
    "filter",
    "gather_states",
    "walks",
    "verbose",
    "log_dir",
    "replay",
    "progress",
    "shard",
    "covering",
    "covering_seed",
    "panic_on_failure",
];

/// One `key: value` of the block, before validation.
struct Entry {
    key: Ident,
    value: Value,
}

enum Value {
    Order(Span, Vec<Path>),
    Expr(Expr),
}

impl Parse for Entry {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key: Ident = input.call(syn::ext::IdentExt::parse_any)?;
        input.parse::<Token![:]>()?;
        let value = if key == "order" {
            let content;
            let brackets = bracketed!(content in input);
            let paths = Punctuated::<Path, Token![,]>::parse_terminated(&content)?;
            Value::Order(brackets.span.join(), paths.into_iter().collect())
        } else {
            Value::Expr(input.parse()?)
        };
        Ok(Entry { key, value })
    }
}

/// A validated `combtest!` block.
#[derive(Default)]
pub(crate) struct Block {
    pub(crate) order: Vec<Path>,
    pub(crate) state: Option<Expr>,
    pub(crate) shared: Option<Expr>,
    pub(crate) threads: Option<Expr>,
    pub(crate) filter: Option<Expr>,
    pub(crate) gather_states: Option<Expr>,
    pub(crate) walks: Option<Expr>,
    pub(crate) verbose: Option<Expr>,
    pub(crate) log_dir: Option<Expr>,
    pub(crate) replay: Option<Expr>,
    pub(crate) progress: Option<Expr>,
    pub(crate) shard: Option<Expr>,
    pub(crate) covering: Option<Expr>,
    pub(crate) covering_seed: Option<Expr>,
    pub(crate) panic_on_failure: Option<Expr>,
}

/// Parses a block, collecting every problem into `errors`.
pub(crate) fn parse_block(input: TokenStream, errors: &mut Errors) -> Block {
    let entries = match syn::parse::Parser::parse2(
        Punctuated::<Entry, Token![,]>::parse_terminated,
        input,
    ) {
        Ok(entries) => entries,
        Err(error) => {
            errors.push(syn::Error::new(
                error.span(),
                format!("{error}; expected `key: value` pairs such as `order: [a, b], state: S::default()`"),
            ));
            return Block::default();
        }
    };
    let mut block = Block::default();
    let mut seen: Vec<String> = Vec::new();
    let mut order_seen = false;
    for Entry { key, value } in entries {
        let name = key.to_string();
        if seen.contains(&name) {
            errors.at(key.span(), format!("`{name}` is given twice"));
            continue;
        }
        seen.push(name.clone());
        let slot = match (name.as_str(), value) {
            ("order", Value::Order(span, paths)) => {
                order_seen = true;
                if paths.is_empty() {
                    errors.at(
                        span,
                        "the order is empty: list at least one action, `order: [my_action]`",
                    );
                }
                block.order = paths;
                continue;
            }
            ("state", Value::Expr(e)) => (&mut block.state, e),
            ("shared", Value::Expr(e)) => (&mut block.shared, e),
            ("threads", Value::Expr(e)) => (&mut block.threads, e),
            ("filter", Value::Expr(e)) => (&mut block.filter, e),
            ("gather_states", Value::Expr(e)) => (&mut block.gather_states, e),
            ("walks", Value::Expr(e)) => (&mut block.walks, e),
            ("verbose", Value::Expr(e)) => (&mut block.verbose, e),
            ("log_dir", Value::Expr(e)) => (&mut block.log_dir, e),
            ("replay", Value::Expr(e)) => (&mut block.replay, e),
            ("progress", Value::Expr(e)) => (&mut block.progress, e),
            ("shard", Value::Expr(e)) => (&mut block.shard, e),
            ("covering", Value::Expr(e)) => (&mut block.covering, e),
            ("covering_seed", Value::Expr(e)) => (&mut block.covering_seed, e),
            ("panic_on_failure", Value::Expr(e)) => (&mut block.panic_on_failure, e),
            (_, _) => {
                let hint = suggestion(&name, KEYS)
                    .map(|k| format!("did you mean `{k}`? "))
                    .unwrap_or_default();
                errors.at(
                    key.span(),
                    format!(
                        "unknown key `{name}`; {hint}known keys: {}",
                        KEYS.join(", ")
                    ),
                );
                continue;
            }
        };
        *slot.0 = Some(slot.1);
    }
    if !order_seen {
        errors.at(
            Span::call_site(),
            "missing `order`: list the actions to combine, `order: [first, second, ...]`",
        );
    }
    block
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let block = parse_block(input, &mut errors);
    if !errors.is_empty() {
        return errors.to_compile_errors();
    }
    expand_block(&block)
}

fn expand_block(block: &Block) -> TokenStream {
    let private = quote!(::combtest::__private);
    let state = match &block.state {
        Some(Expr::Closure(closure)) => quote!(#private::StateSource::factory(#closure)),
        Some(expr) => quote!(#expr),
        None => quote!(#private::StateSource::factory(::core::default::Default::default)),
    };
    let shared = match &block.shared {
        Some(expr) => quote!(#expr),
        None => quote!(()),
    };
    // Each entry keeps the user's span, so a wrong entry or a state mismatch is reported on
    // the entry itself.
    let entries = block.order.iter().map(|path| {
        quote_spanned! {path.span()=>
            .then_item::<#path>()
        }
    });
    let mut settings = Vec::new();
    if let Some(threads) = &block.threads {
        settings.push(quote!(.threads(#threads)));
    }
    if let Some(filter) = &block.filter {
        settings.push(quote!(.filter(#filter)));
    }
    if let Some(gather) = &block.gather_states {
        let level = gather_level(gather);
        settings.push(quote!(.gather_states(#level)));
    }
    for (value, method) in [
        (&block.walks, quote!(walks)),
        (&block.verbose, quote!(verbose)),
        (&block.log_dir, quote!(log_dir)),
        (&block.replay, quote!(replay)),
        (&block.progress, quote!(progress)),
        (&block.shard, quote!(shard)),
        (&block.covering, quote!(covering)),
        (&block.covering_seed, quote!(covering_seed)),
    ] {
        if let Some(value) = value {
            settings.push(quote!(.#method(#value)));
        }
    }
    let panic_on_failure = match &block.panic_on_failure {
        Some(expr) => quote!(#expr),
        None => quote!(true),
    };
    quote! {{
        let __combtest_order = #private::Typed::new(#private::Combtest::with_shared(#state, #shared))
            #(#entries)*;
        #[allow(unused_imports)]
        use #private::{FinishDynamic as _, FinishFast as _};
        let __combtest_builder = (&#private::Finish::new(__combtest_order))
            .finish()
            #(#settings)*
            .location(#private::TestLocation {
                package: ::core::option_env!("CARGO_PKG_NAME").unwrap_or("<package>"),
                crate_name: ::core::option_env!("CARGO_CRATE_NAME").unwrap_or("<crate>"),
                integration_test: ::core::option_env!("CARGO_TARGET_TMPDIR").is_some(),
                bin_name: ::core::option_env!("CARGO_BIN_NAME"),
                marker_path: {
                    fn __combtest_test_marker() {}
                    ::core::any::type_name_of_val(&__combtest_test_marker)
                },
            });
        __combtest_builder.run_checked(#panic_on_failure)
    }}
}

/// `gather_states: flat` is shorthand for `combtest::Gather::Flat`; any other expression is
/// used as written.
fn gather_level(expr: &Expr) -> TokenStream {
    if let Expr::Path(path) = expr {
        if let Some(ident) = path.path.get_ident() {
            let variant = match ident.to_string().as_str() {
                "off" => Some(quote!(Off)),
                "flat" => Some(quote!(Flat)),
                "full" => Some(quote!(Full)),
                _ => None,
            };
            if let Some(variant) = variant {
                return quote_spanned!(ident.span()=> ::combtest::__private::Gather::#variant);
            }
        }
    }
    quote!(#expr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: TokenStream) -> (Block, Vec<String>) {
        let mut errors = Errors::default();
        let block = parse_block(input, &mut errors);
        (block, errors.messages())
    }

    #[test]
    fn parses_every_key() {
        let (block, errors) = parse(quote!(
            order: [a, m::b, a],
            state: Gui::default(),
            shared: App::new(),
            threads: 2,
            filter: |w| w.id() > 1,
            gather_states: flat,
            walks: "1-3",
            panic_on_failure: false,
        ));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(block.order.len(), 3);
        assert!(block.state.is_some() && block.shared.is_some() && block.filter.is_some());
        assert!(
            block.threads.is_some() && block.walks.is_some() && block.panic_on_failure.is_some()
        );
    }

    #[test]
    fn reports_every_mistake() {
        let (_, errors) = parse(quote!(order: [], theads: 2, state: 1, state: 2));
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].contains("the order is empty"));
        assert!(errors[1].contains("did you mean `threads`?"));
        assert!(errors[2].contains("`state` is given twice"));
        let (_, errors) = parse(quote!(state: 1));
        assert!(errors[0].contains("missing `order`"), "{errors:?}");
    }

    #[test]
    fn closures_are_state_factories() {
        let out = expand(quote!(order: [a], state: || Vec::new())).to_string();
        assert!(
            out.contains("StateSource :: factory (| | Vec :: new ())"),
            "{out}"
        );
        let out = expand(quote!(order: [a], state: Vec::new())).to_string();
        assert!(out.contains("with_shared (Vec :: new () , ())"), "{out}");
        assert!(out.contains(". then_item :: < a > ()"), "{out}");
    }

    #[test]
    fn gather_shorthand() {
        let out = expand(quote!(order: [a], gather_states: full)).to_string();
        assert!(out.contains("Gather :: Full"), "{out}");
        let out = expand(quote!(order: [a], gather_states: level)).to_string();
        assert!(out.contains("gather_states (level)"), "{out}");
    }
}
