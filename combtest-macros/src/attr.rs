//! The arguments of `#[action(...)]`: where the options come from.

use proc_macro2::{Span, TokenStream};
use syn::parse::{Parse, ParseStream};
use syn::{Expr, Ident, Token};

use crate::errors::{suggestion, Errors};

const KEYS: &[&str] = &["options"];

/// Where an action's options come from.
pub(crate) enum OptionSource {
    /// `options = [a, b, c]`: a literal list.
    List(Vec<Expr>),
    /// `options = EXPR`: any `IntoIterator` of the param type.
    Iter(Expr),
    /// No `options`: the param type's `combtest::Options`.
    Default,
}

/// One `key = value` of the attribute, before validation.
struct Arg {
    key: Ident,
    value: Option<Expr>,
}

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key: Ident = input.call(syn::ext::IdentExt::parse_any)?;
        let value = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Some(input.parse()?)
        } else {
            None
        };
        Ok(Arg { key, value })
    }
}

/// Parses the attribute arguments, collecting every problem into `errors`.
pub(crate) fn parse_args(args: TokenStream, errors: &mut Errors) -> OptionSource {
    let parsed = syn::parse::Parser::parse2(
        syn::punctuated::Punctuated::<Arg, Token![,]>::parse_terminated,
        args,
    );
    let args = match parsed {
        Ok(args) => args,
        Err(error) => {
            errors.push(syn::Error::new(
                error.span(),
                format!("{error}; expected `options = [...]` or `options = EXPR`"),
            ));
            return OptionSource::Default;
        }
    };
    let mut source: Option<(Span, OptionSource)> = None;
    for arg in args {
        let name = arg.key.to_string();
        if name != "options" {
            let hint = suggestion(&name, KEYS)
                .map(|k| format!("; did you mean `{k}`?"))
                .unwrap_or_else(|| "; the only key is `options`".into());
            errors.at(arg.key.span(), format!("unknown key `{name}`{hint}"));
            continue;
        }
        let Some(value) = arg.value else {
            errors.at(
                arg.key.span(),
                "`options` needs a value: `options = [...]` or `options = EXPR`",
            );
            continue;
        };
        if source.is_some() {
            errors.at(arg.key.span(), "`options` is given twice");
            continue;
        }
        let parsed = match value {
            Expr::Array(array) => {
                if array.elems.is_empty() {
                    errors.spanned(
                        &array,
                        "an action needs at least one option: an empty list would run no walk",
                    );
                }
                OptionSource::List(array.elems.into_iter().collect())
            }
            Expr::Range(range) if range.end.is_none() => {
                // `0..`: collecting the options when the run starts would never end.
                errors.spanned(
                    &range,
                    "an open range never ends, and the options are collected when the run \
                     starts: give its end, `options = 0..10`",
                );
                OptionSource::Iter(Expr::Range(range))
            }
            other => OptionSource::Iter(other),
        };
        check_no_locals(&parsed, errors);
        source = Some((arg.key.span(), parsed));
    }
    source.map_or(OptionSource::Default, |(_, s)| s)
}

/// Options are evaluated when the run starts, in a function of the action's companion: a
/// local variable of the test is out of their reach. An option expression that starts from
/// a lowercase name (`sizes.clone()`, `[n, 2]`) names a local, as constants and statics are
/// UPPER_CASE and functions are called; rustc would only say that a fn item cannot capture
/// its environment.
fn check_no_locals(source: &OptionSource, errors: &mut Errors) {
    let expressions: Vec<&Expr> = match source {
        OptionSource::List(items) => items.iter().collect(),
        OptionSource::Iter(expr) => vec![expr],
        OptionSource::Default => Vec::new(),
    };
    for ident in expressions.into_iter().filter_map(root_name) {
        errors.at(
            ident.span(),
            format!(
                "`{ident}` looks like a local variable, which options cannot use: they are \
                 evaluated when the run starts, in a function of the action's own that sees \
                 none of the test's locals; compute them in a function, \
                 `fn {ident}() -> Vec<P>`, and write `options = {ident}()`, or name a \
                 constant (UPPER_CASE)"
            ),
        );
    }
}

/// The lowercase name an expression starts from: `sizes` of `sizes.iter().copied()`.
fn root_name(expr: &Expr) -> Option<&Ident> {
    match expr {
        Expr::Path(path) if path.qself.is_none() => {
            let ident = path.path.get_ident()?;
            let name = ident.to_string();
            let lowercase = name.starts_with(|c: char| c.is_lowercase() || c == '_');
            (lowercase && name != "self").then_some(ident)
        }
        Expr::MethodCall(call) => root_name(&call.receiver),
        Expr::Field(field) => root_name(&field.base),
        Expr::Index(index) => root_name(&index.expr),
        Expr::Reference(reference) => root_name(&reference.expr),
        Expr::Paren(paren) => root_name(&paren.expr),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse(args: TokenStream) -> (OptionSource, Vec<String>) {
        let mut errors = Errors::default();
        let source = parse_args(args, &mut errors);
        (source, errors.messages())
    }

    #[test]
    fn the_three_forms() {
        assert!(matches!(parse(quote!()).0, OptionSource::Default));
        assert!(matches!(parse(quote!(options = [1, 2])).0, OptionSource::List(v) if v.len() == 2));
        assert!(matches!(
            parse(quote!(options = 0..3)).0,
            OptionSource::Iter(_)
        ));
        assert!(matches!(
            parse(quote!(options = make(|a, b| a + b),)).0,
            OptionSource::Iter(_)
        ));
    }

    #[test]
    fn every_problem_is_reported() {
        let (_, errors) = parse(quote!(option = [1], options = [], options = [2], opts));
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(errors[0].contains("did you mean `options`"));
        assert!(errors[1].contains("at least one option"));
        assert!(errors[2].contains("given twice"));
        assert!(errors[3].contains("unknown key `opts`"));
    }

    #[test]
    fn a_local_in_options_is_named() {
        let (_, errors) = parse(quote!(options = sizes.iter().copied()));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].contains("`sizes` looks like a local"),
            "{errors:?}"
        );
        assert!(errors[0].contains("`options = sizes()`"), "{errors:?}");
        let (_, errors) = parse(quote!(options = [n, 2]));
        assert_eq!(errors.len(), 1, "{errors:?}");
        for fine in [
            quote!(options = SIZES),
            quote!(options = sizes()),
            quote!(options = (0..3).map(|i| i * 10)),
            quote!(options = [Mode::Fast, LIMIT, true]),
            quote!(options = crate::cases::all()),
        ] {
            let (_, errors) = parse(fine.clone());
            assert!(errors.is_empty(), "{fine}: {errors:?}");
        }
    }

    #[test]
    fn an_open_range_is_an_error() {
        let (_, errors) = parse(quote!(options = 0..));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("an open range never ends"), "{errors:?}");
        for fine in [quote!(options = 0..3), quote!(options = 1..=3)] {
            let (_, errors) = parse(fine.clone());
            assert!(errors.is_empty(), "{fine}: {errors:?}");
        }
    }

    #[test]
    fn a_key_without_value_is_an_error() {
        let (_, errors) = parse(quote!(options));
        assert!(errors[0].contains("needs a value"), "{errors:?}");
    }
}
