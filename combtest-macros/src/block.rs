//! `combtest! { order: [...], state: ..., ... }`: sugar over the `combtest::Combtest` builder.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{bracketed, Expr, Ident, Path, Token};

use crate::errors::{suggestion, Errors};
use crate::features;

/// How a key of the block reaches the builder.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Use {
    /// `order: [...]`: the entries, one `then_item` each.
    Order,
    /// `state:`: the builder's state source.
    State,
    /// `shared:`: the builder's shared context.
    Shared,
    /// `gather_states:`: the builder method of that name, with the `off`/`flat`/`full`
    /// shorthand.
    Gather,
    /// `panic_on_failure:`: how the run ends.
    PanicOnFailure,
    /// `filter:`: given to the typed order, which compiles it into the order's loops.
    Filter,
    /// The builder method of the same name, given the value as written.
    Method,
}

/// Every key of a block, once, in the order the error for an unknown key lists them.
const KEYS: &[(&str, Use)] = &[
    ("order", Use::Order),
    ("state", Use::State),
    ("shared", Use::Shared),
    ("threads", Use::Method),
    ("filter", Use::Filter),
    ("partial_filter", Use::Method),
    ("gather_states", Use::Gather),
    ("walks", Use::Method),
    ("verbose", Use::Method),
    ("log_dir", Use::Method),
    ("replay", Use::Method),
    ("progress", Use::Method),
    ("shard", Use::Method),
    ("covering", Use::Method),
    ("covering_seed", Use::Method),
    ("covering_strict", Use::Method),
    ("timeout", Use::Method),
    ("concurrency", Use::Method),
    ("confirm_causes", Use::Method),
    ("explain_failures", Use::Method),
    ("junit", Use::Method),
    ("panic_on_failure", Use::PanicOnFailure),
];

fn key_use(name: &str) -> Option<Use> {
    KEYS.iter()
        .find(|(key, _)| *key == name)
        .map(|&(_, using)| using)
}

/// One `key: value` of the block, before validation.
struct Entry {
    key: Ident,
    value: Value,
}

enum Value {
    /// The order's brackets, its actions, and what was wrong with its entries.
    Order(Span, Vec<Path>, Vec<syn::Error>),
    Expr(Expr),
}

impl Parse for Entry {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key: Ident = input.call(syn::ext::IdentExt::parse_any)?;
        input.parse::<Token![:]>()?;
        let value = if key == "order" {
            let content;
            let brackets = bracketed!(content in input);
            let (paths, mistakes) = parse_order(&content)?;
            Value::Order(brackets.span.join(), paths, mistakes)
        } else {
            Value::Expr(input.parse()?)
        };
        Ok(Entry { key, value })
    }
}

/// The entries of `order: [...]`, each an action's name (a path). An entry written another
/// way that still names an action (`count()`, `[count; 3]`) is a mistake reported on it, and
/// its action is kept, so the rest of the block is still checked.
fn parse_order(content: ParseStream) -> syn::Result<(Vec<Path>, Vec<syn::Error>)> {
    let (mut paths, mut mistakes) = (Vec::new(), Vec::new());
    while !content.is_empty() {
        let mut entry: Expr = content.parse()?;
        // An entry passed through a `macro_rules!` as `$a:path` or `$a:expr` comes in an
        // invisible group.
        while let Expr::Group(group) = entry {
            entry = *group.expr;
        }
        if let Some(attribute) = entry_attributes(&entry).first() {
            // `#[cfg(...)]` on an entry would be read and then dropped with the rest.
            mistakes.push(syn::Error::new_spanned(
                attribute,
                "an order entry takes no attributes: for an action that only some builds run, \
                 write a block for each order",
            ));
        }
        match &entry {
            Expr::Path(path) if path.qself.is_none() => paths.push(path.path.clone()),
            Expr::Call(call) => {
                let name = match &*call.func {
                    Expr::Path(path) if path.qself.is_none() => {
                        paths.push(path.path.clone());
                        quote!(#path).to_string().replace(' ', "")
                    }
                    _ => String::from("my_action"),
                };
                mistakes.push(syn::Error::new_spanned(
                    call,
                    format!(
                        "an order names its actions, it does not call them: write `{name}`; \
                         the options each action runs with come from its `#[action(options = \
                         ...)]`"
                    ),
                ));
            }
            other => mistakes.push(syn::Error::new_spanned(
                other,
                "expected an action's name, the function marked `#[action]` or \
                 `#[serial_action]` (a path such as `my_action` or `module::my_action`)",
            )),
        }
        if content.peek(Token![;]) {
            let semicolon: Token![;] = content.parse()?;
            let count: Expr = content.parse()?;
            let name = paths.last().map_or_else(
                || String::from("my_action"),
                |path| quote!(#path).to_string().replace(' ', ""),
            );
            let times = match &count {
                Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Int(int),
                    ..
                }) => int
                    .base10_parse::<usize>()
                    .ok()
                    .filter(|n| (2..=6).contains(n)),
                _ => None,
            };
            let repeated = vec![name.as_str(); times.unwrap_or(2)].join(", ");
            mistakes.push(syn::Error::new_spanned(
                quote!(#semicolon #count),
                format!(
                    "an order lists each position: to run `{name}` at several positions, \
                     repeat it, `[{repeated}]`"
                ),
            ));
        }
        if content.is_empty() {
            break;
        }
        content.parse::<Token![,]>()?;
    }
    Ok((paths, mistakes))
}

/// The attributes written on an order entry, which an entry cannot take.
fn entry_attributes(entry: &Expr) -> &[syn::Attribute] {
    match entry {
        Expr::Path(path) => &path.attrs,
        Expr::Call(call) => &call.attrs,
        _ => &[],
    }
}

/// A validated `combtest!` block.
#[derive(Default)]
pub(crate) struct Block {
    pub(crate) order: Vec<Path>,
    /// The other keys with their values, in the block's order, each key once.
    pub(crate) values: Vec<(&'static str, Expr)>,
}

impl Block {
    /// The value of `key`, if the block gives it.
    pub(crate) fn value(&self, key: &str) -> Option<&Expr> {
        self.values
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, value)| value)
    }
}

/// Parses a block, collecting every problem into `errors`.
/// Returns `None` when the input is not a list of `key: value` pairs at all.
pub(crate) fn parse_block(input: TokenStream, errors: &mut Errors) -> Option<Block> {
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
            return None;
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
        match (KEYS.iter().find(|(key, _)| *key == name), value) {
            (Some(_), Value::Order(span, paths, mistakes)) => {
                order_seen = true;
                let mistaken = !mistakes.is_empty();
                for mistake in mistakes {
                    errors.push(mistake);
                }
                if paths.is_empty() && !mistaken {
                    errors.at(
                        span,
                        "the order is empty: list at least one action, `order: [my_action]`",
                    );
                }
                block.order = paths;
            }
            (Some((key, _)), Value::Expr(value)) => {
                if *key == "threads" && is_literal_zero(&value) {
                    errors.spanned(
                        &value,
                        "`threads: 0` runs no walk: give a positive number of worker threads, \
                         or leave `threads` out for the machine's available parallelism",
                    );
                }
                block.values.push((key, value));
            }
            (None, _) => {
                let known: Vec<&str> = KEYS.iter().map(|(key, _)| *key).collect();
                let hint = suggestion(&name, &known)
                    .map(|k| format!("did you mean `{k}`? "))
                    .unwrap_or_default();
                errors.at(
                    key.span(),
                    format!(
                        "unknown key `{name}`; {hint}known keys: {}",
                        known.join(", ")
                    ),
                );
            }
        }
    }
    if !order_seen {
        errors.at(
            Span::call_site(),
            "missing `order`: list the actions to combine, `order: [first, second, ...]`",
        );
    }
    Some(block)
}

/// Whether `expr` is the integer literal `0`.
fn is_literal_zero(expr: &Expr) -> bool {
    matches!(expr, Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(int), .. })
        if int.base10_parse::<u64>().ok() == Some(0))
}

/// Expands a block. A block with mistakes still expands what it got right beside the
/// errors, so that its expressions are checked and its report keeps its type: one mistake
/// gives one error. A block that does not even parse as `key: value` pairs expands to the
/// errors alone.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let Some(block) = parse_block(input, &mut errors) else {
        return errors.to_compile_errors();
    };
    let compile_errors = errors.to_compile_errors();
    let expansion = expand_block(&block);
    if errors.is_empty() {
        expansion
    } else {
        quote!({ #compile_errors #expansion })
    }
}

fn expand_block(block: &Block) -> TokenStream {
    let private = quote!(::combtest::__private);
    // A closure is bound in a statement of its own, so that clippy's `redundant_closure`
    // stays quiet on the documented `state: || Db::new()` (a closure written in the user's
    // crate, which the lint would otherwise flag there).
    let mut state_binding = quote!();
    let state = match block.value("state") {
        Some(Expr::Closure(closure)) => {
            state_binding = quote! {
                #[allow(clippy::redundant_closure)]
                let __combtest_state = #private::StateSource::factory(#closure);
            };
            quote!(__combtest_state)
        }
        Some(expr) => quote!(#expr),
        None => quote!(#private::StateSource::factory(::core::default::Default::default)),
    };
    let shared = match block.value("shared") {
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
    let settings = block.values.iter().filter_map(|(key, value)| {
        let method = Ident::new(key, Span::call_site());
        match key_use(key)? {
            Use::Method => Some(quote!(.#method(#value))),
            Use::Gather => {
                let level = gather_level(value);
                Some(quote!(.#method(#level)))
            }
            Use::Order | Use::State | Use::Shared | Use::PanicOnFailure | Use::Filter => None,
        }
    });
    let filter = block.value("filter").map(filter_call);
    let panic_on_failure = match block.value("panic_on_failure") {
        Some(expr) => quote!(#expr),
        None => quote!(true),
    };
    let features = features_in_location(&private);
    // A state or shared context that cannot run is reported on the value the block gives
    // (or on the block when it gives none), with why; the run itself then falls back to
    // `RunUnfit`, so the same problem is not reported again on the whole block.
    let check_state = value_check(block.value("state"), "check_state");
    let check_shared = value_check(block.value("shared"), "check_shared");
    quote! {{
        #state_binding
        let __combtest_order = #private::Typed::new(#private::Combtest::with_shared(#state, #shared))
            #(#entries)*
            #filter;
        #check_state
        #check_shared
        #[allow(unused_imports)]
        use #private::{FinishCloned as _, FinishDynamic as _, FinishFast as _};
        let __combtest_builder = (&&&#private::Finish::new(__combtest_order))
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
                source_file: ::core::file!(),
                manifest_dir: ::core::option_env!("CARGO_MANIFEST_DIR").unwrap_or(""),
                debug_assertions: ::core::cfg!(debug_assertions),
                test_build: ::core::cfg!(test),
                features: #features,
            });
        #[allow(unused_imports)]
        use #private::{RunFit as _, RunUnfit as _};
        (&&#private::Run::new(__combtest_builder)).run_block(#panic_on_failure)
    }}
}

/// The `features` of the block's `TestLocation`: each feature the package declares, with
/// `cfg!` telling whether this build has it on. `unexpected_cfgs` is allowed in case a name
/// read from the manifest is not one cargo declared to rustc: the lint would land on the
/// user's block.
fn features_in_location(private: &TokenStream) -> TokenStream {
    let Some(declared) = features::of_package_being_compiled() else {
        return quote!(::core::option::Option::None);
    };
    let entries = declared.iter().map(|feature| {
        quote! {
            #private::DeclaredFeature {
                name: #feature,
                enabled: ::core::cfg!(feature = #feature),
            }
        }
    });
    quote! {{
        #[allow(unexpected_cfgs)]
        const __COMBTEST_FEATURES: &[#private::DeclaredFeature] = &[#(#entries),*];
        ::core::option::Option::Some(__COMBTEST_FEATURES)
    }}
}

/// `combtest::__private::<check>(&__combtest_order);`, spanned so that an error on its
/// argument covers `value` (the block when it gives none): the call takes the span of the
/// value's first token and the argument's name that of its last, as a span cannot be joined
/// on stable Rust.
fn value_check(value: Option<&Expr>, check: &str) -> TokenStream {
    let tokens: Vec<proc_macro2::TokenTree> = value
        .map(|value| quote!(#value).into_iter().collect())
        .unwrap_or_default();
    // Located at the user's tokens, resolved at the block: the tokens may come through a
    // `macro_rules!`, whose hygiene would not find the block's `__combtest_order` by them.
    let at = |span: Span| Span::call_site().located_at(span);
    let first = tokens
        .first()
        .map_or_else(Span::call_site, |t| at(t.span()));
    let last = tokens.last().map_or(first, |t| at(t.span()));
    let check = Ident::new(check, first);
    let order = quote_spanned!(last=> __combtest_order);
    quote_spanned!(first=> ::combtest::__private::#check(&#order);)
}

/// `filter: keep` as a call of the typed order's `filter`, which keeps the filter's type so
/// that the order's compiled loops call it directly. The call carries the value's span: a
/// value that is no `Fn(&Walk) -> bool` is reported on it. A closure that does not take one
/// argument, the walk, is reported here, with what a filter looks like.
fn filter_call(expr: &Expr) -> TokenStream {
    if let Expr::Closure(closure) = expr {
        if closure.inputs.len() != 1 {
            // The error takes the closure's place in the call: the method chain around it
            // still parses, so this message is the only one.
            let (begin, inputs, end) =
                (&closure.inputs_begin, &closure.inputs, &closure.inputs_end);
            let error = syn::Error::new_spanned(
                quote!(#begin #inputs #end),
                format!(
                    "a filter takes one argument, the walk, and returns whether it runs; this \
                     closure takes {}: write `filter: |walk: &Walk| ...`",
                    closure.inputs.len()
                ),
            )
            .to_compile_error();
            return quote_spanned!(expr.span()=> .filter(#error));
        }
    }
    quote_spanned!(expr.span()=> .filter(#expr))
}

/// `gather_states: flat` is shorthand for `combtest::Gather::Flat`. A bare name is a level:
/// one that is not `off`, `flat` or `full` is an error that lists them (`gather_states: yes`
/// would otherwise be only "cannot find value `yes`"). Any other expression, a variable in
/// braces included (`{ level }`), is used as written.
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
            let hint = suggestion(&ident.to_string(), &["off", "flat", "full"])
                .map(|level| format!("did you mean `{level}`? "))
                .unwrap_or_default();
            return syn::Error::new(
                ident.span(),
                format!(
                    "unknown `gather_states` level `{ident}`: {hint}the levels are `off` (no \
                     states), `flat` (the final states) and `full` (each with its walk's \
                     outcome); a `Gather` held in a variable is written in braces, `{{ {ident} }}`"
                ),
            )
            .to_compile_error();
        }
    }
    if let Expr::Lit(literal) = expr {
        // `gather_states: true`, `gather_states: "flat"`: a level written as a value.
        return syn::Error::new_spanned(
            literal,
            "`gather_states` takes a level: `off` (no states), `flat` (the final states) or \
             `full` (each with its walk's outcome), written as a bare name, \
             `gather_states: flat`",
        )
        .to_compile_error();
    }
    // Bound in a statement of its own so the braces the rule asks for draw no
    // `unused_braces` lint in the user's crate; the type is written there so that a value of
    // another type is reported on the value.
    quote_spanned! {expr.span()=> {
        #[allow(unused_braces)]
        let __combtest_gather: ::combtest::__private::Gather = #expr;
        __combtest_gather
    }}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(input: TokenStream) -> (Block, Vec<String>) {
        let mut errors = Errors::default();
        let block = parse_block(input, &mut errors).unwrap_or_default();
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
        let given = |key| block.value(key).is_some();
        assert!(given("state") && given("shared") && given("filter"));
        assert!(given("threads") && given("walks") && given("panic_on_failure"));
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
    fn every_key_is_known_once() {
        for (i, &(key, using)) in KEYS.iter().enumerate() {
            assert!(
                !KEYS[i + 1..].iter().any(|(other, _)| *other == key),
                "{key}"
            );
            if using == Use::Order {
                continue;
            }
            let ident = Ident::new(key, Span::call_site());
            let (block, errors) = parse(quote!(order: [a], #ident: 1));
            assert!(errors.is_empty(), "{key}: {errors:?}");
            assert!(block.value(key).is_some(), "{key}");
        }
    }

    #[test]
    fn a_block_with_mistakes_still_expands_what_it_got_right() {
        let out = expand(quote!(order: [a], state: Vec::new(), theads: 2)).to_string();
        assert!(out.contains("compile_error"), "{out}");
        assert!(out.contains(". then_item :: < a > ()"), "{out}");
        assert!(out.contains("with_shared (Vec :: new () , ())"), "{out}");
        assert!(
            !out.contains(". theads ("),
            "the unknown key is not passed on: {out}"
        );
        // Not `key: value` pairs at all: the errors alone.
        let out = expand(quote!(order[a])).to_string();
        assert!(
            out.contains("compile_error") && !out.contains("then_item"),
            "{out}"
        );
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
    fn the_filter_goes_to_the_typed_order_before_it_is_finished() {
        let out = expand(quote!(order: [a], filter: |w: &Walk| w.id() > 1)).to_string();
        let filter = out.find(". filter (| w : & Walk | w . id () > 1)");
        let finish = out.find(". finish ()");
        assert!(
            matches!((filter, finish), (Some(f), Some(e)) if f < e),
            "the filter is given to the typed order, which compiles it in: {out}"
        );
        assert_eq!(out.matches(". filter (").count(), 1, "{out}");
        // A function's name is passed on as written.
        let out = expand(quote!(order: [a], filter: keep)).to_string();
        assert!(out.contains(". filter (keep)"), "{out}");
    }

    #[test]
    fn a_filter_closure_takes_the_walk_alone() {
        for bad in [quote!(|| true), quote!(|w, id| w.id() == id)] {
            let out = filter_call(&syn::parse2(bad.clone()).unwrap()).to_string();
            assert!(out.contains("compile_error"), "{bad}: {out}");
            assert!(
                out.contains("a filter takes one argument, the walk"),
                "{out}"
            );
            // In place of the closure: the chain around it must still parse.
            assert!(
                out.starts_with(". filter (:: core :: compile_error !"),
                "{out}"
            );
        }
    }

    #[test]
    fn order_entries_that_are_not_names_are_reported_and_kept() {
        let (block, errors) = parse(quote!(order: [a(), b; 3, m::c, 7], threads: 0, walks: 5));
        let names: Vec<String> = block.order.iter().map(|p| quote!(#p).to_string()).collect();
        assert_eq!(names, ["a", "b", "m :: c"]);
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(errors[0].contains("write `a`"), "{errors:?}");
        assert!(errors[1].contains("`[b, b, b]`"), "{errors:?}");
        assert!(
            errors[2].contains("expected an action's name"),
            "{errors:?}"
        );
        assert!(errors[3].contains("`threads: 0`"), "{errors:?}");
        // The keys after the order are still read.
        assert!(block.value("walks").is_some());
    }

    #[test]
    fn gather_shorthand() {
        let out = expand(quote!(order: [a], gather_states: full)).to_string();
        assert!(out.contains("Gather :: Full"), "{out}");
        let out = expand(quote!(order: [a], gather_states: { level })).to_string();
        assert!(
            out.contains(
                "let __combtest_gather : :: combtest :: __private :: Gather = { level } ;"
            ),
            "{out}"
        );
        let out = expand(quote!(order: [a], gather_states: true)).to_string();
        assert!(out.contains("compile_error"), "{out}");
        assert!(out.contains("written as a bare name"), "{out}");
        let out = expand(quote!(order: [a], gather_states: yes)).to_string();
        assert!(out.contains("compile_error"), "{out}");
        assert!(out.contains("`off` (no states), `flat`"), "{out}");
        let out = expand(quote!(order: [a], gather_states: flt)).to_string();
        assert!(out.contains("did you mean `flat`?"), "{out}");
    }
}
