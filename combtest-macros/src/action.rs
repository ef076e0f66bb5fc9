//! `#[action]`: validate the function's signature, keep the function, and add a companion
//! struct of the same name (in the type namespace) that carries the action.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, ReturnType, Type};

use crate::attr::{parse_args, OptionSource};
use crate::errors::Errors;

/// What the runner needs to know about an action's function.
pub(crate) struct ActionSignature {
    pub(crate) param: Type,
    pub(crate) state: Type,
    pub(crate) shared: Option<Type>,
    pub(crate) output: Type,
}

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let source = parse_args(args, &mut errors);
    let function: ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            errors.at(
                Span::call_site(),
                "#[action] applies to a free function: `fn name(param: P, state: &mut S)`",
            );
            let compile_errors = errors.to_compile_errors();
            return quote!(#item #compile_errors);
        }
    };
    let signature = check_signature(&function, &mut errors);
    let compile_errors = errors.to_compile_errors();
    // The function is always emitted as written, so that one mistake gives one error and not
    // one more at every call of the function.
    match signature {
        Some(signature) => {
            let companion = companion(&function, &signature, &source, errors.is_empty());
            quote!(#function #companion #compile_errors)
        }
        None => quote!(#function #compile_errors),
    }
}

/// Checks `fn name(param: P, state: &mut S [, shared: &G]) [-> R]`, reporting every problem.
/// Returns the types when the shape is usable, even if other errors were found.
pub(crate) fn check_signature(function: &ItemFn, errors: &mut Errors) -> Option<ActionSignature> {
    let sig = &function.sig;
    let usage = format!(
        "an action is `fn {}(param: P, state: &mut S)` or `fn {}(param: P, state: &mut S, shared: &G)`",
        sig.ident, sig.ident
    );
    if let Some(token) = &sig.asyncness {
        errors.spanned(token, "an action cannot be `async`: walks run on worker threads, call `block_on` inside the action if it needs a future");
    }
    if let Some(token) = &sig.unsafety {
        errors.spanned(
            token,
            "an action cannot be `unsafe fn`: combtest calls it from safe code",
        );
    }
    if let Some(abi) = &sig.abi {
        errors.spanned(abi, "an action cannot have an explicit ABI");
    }
    if let Some(variadic) = &sig.variadic {
        errors.spanned(variadic, "an action cannot be variadic");
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.spanned(
            &sig.generics,
            "an action cannot be generic: combtest must know its param and state types; \
             write a non-generic function that calls the generic one",
        );
    }
    let mut typed = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => errors.spanned(
                receiver,
                "an action is a free function, not a method: take the state as `state: &mut S`",
            ),
            FnArg::Typed(pat_type) => typed.push(&*pat_type.ty),
        }
    }
    if typed.len() < 2 {
        let span = sig
            .inputs
            .last()
            .map_or(sig.paren_token.span.join(), |i| i.span());
        errors.at(span, format!("missing argument: {usage}"));
        return None;
    }
    if typed.len() > 3 {
        errors.spanned(&sig.inputs[3], format!("too many arguments: {usage}"));
    }
    let param = typed[0];
    if let Type::ImplTrait(_) = param {
        errors.spanned(
            param,
            "the param type must be a concrete type, not `impl Trait`",
        );
    }
    let state = match typed[1] {
        Type::Reference(reference) if reference.mutability.is_some() => (*reference.elem).clone(),
        other => {
            errors.spanned(
                other,
                format!(
                    "the walk's state must be taken by mutable reference, `&mut {}`",
                    show(&strip_ref(other))
                ),
            );
            strip_ref(other)
        }
    };
    let shared = typed.get(2).map(|ty| match ty {
        Type::Reference(reference) if reference.mutability.is_none() => (*reference.elem).clone(),
        Type::Reference(reference) => {
            errors.spanned(
                reference,
                "actions run in parallel and get the shared context as `&G`; only a \
                 `#[serial_action]` gets `&mut G`",
            );
            (*reference.elem).clone()
        }
        other => {
            errors.spanned(
                other,
                format!(
                    "the shared context must be taken by reference, `&{}`",
                    show(other)
                ),
            );
            (*other).clone()
        }
    });
    let output = match &sig.output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, ty) => (**ty).clone(),
    };
    Some(ActionSignature {
        param: param.clone(),
        state,
        shared,
        output,
    })
}

/// A type as the user would write it (token streams print `Vec < u8 >`).
fn show(ty: &Type) -> String {
    quote!(#ty)
        .to_string()
        .replace(" < ", "<")
        .replace(" <", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace("& ", "&")
        .replace(" ,", ",")
}

fn strip_ref(ty: &Type) -> Type {
    match ty {
        Type::Reference(reference) => (*reference.elem).clone(),
        other => other.clone(),
    }
}

/// The companion struct: `NAME`, `options()`, `action()` and the `ActionItem` impl.
fn companion(
    function: &ItemFn,
    signature: &ActionSignature,
    source: &OptionSource,
    valid: bool,
) -> TokenStream {
    let vis = &function.vis;
    let ident = &function.sig.ident;
    let name = ident.to_string();
    let ActionSignature {
        param,
        state,
        shared,
        output,
    } = signature;
    let options = if valid {
        option_code(param, source)
    } else {
        // The errors are already reported; keep the companion type-correct without them.
        quote!(::core::unreachable!())
    };
    let doc = format!(
        "The combtest action of [`{name}`](fn@{name}): its name, its options, and \
         [`action()`](Self::action) for the builder."
    );
    let private = quote!(::combtest::__private);
    let (generics, shared_ty, call) = match shared {
        None => (
            quote!(<__CombtestShared: 'static>),
            quote!(__CombtestShared),
            quote!(#ident(param, state)),
        ),
        Some(shared) => (
            quote!(),
            quote!(#shared),
            quote!(#ident(param, state, shared)),
        ),
    };
    let param_check = quote_spanned!(param.span()=> #private::assert_param::<#param>(););
    let return_check = quote_spanned!(output.span()=> #private::assert_return::<#output>(););
    quote! {
        #[doc = #doc]
        #[allow(non_camel_case_types)]
        #vis struct #ident {}

        #[allow(dead_code)]
        impl #ident {
            /// The action's name, as reports and traces show it.
            pub const NAME: &'static str = #name;

            /// Evaluates the action's option list.
            pub fn options() -> ::std::vec::Vec<#param> {
                #options
            }

            /// The action as an entry of a `combtest::Combtest` order.
            pub fn action #generics () -> #private::Action<#state, #shared_ty> {
                #private::Action::new(
                    Self::NAME,
                    Self::options,
                    |param: #param, state: &mut #state, shared: &#shared_ty| {
                        let _ = &shared;
                        #call
                    },
                )
            }
        }

        impl #generics #private::ActionItem<#state, #shared_ty> for #ident {
            fn action() -> #private::Action<#state, #shared_ty> {
                #ident::action()
            }
        }

        const _: () = {
            #param_check
            #return_check
        };
    }
}

/// The body of `options()`, with each expression keeping the user's span so a type mismatch
/// points at the offending option.
fn option_code(param: &Type, source: &OptionSource) -> TokenStream {
    match source {
        OptionSource::List(items) => quote!(::std::vec![#(#items),*]),
        OptionSource::Iter(expr) => quote_spanned! {expr.span()=>
            ::combtest::__private::collect_options::<#param, _>(#expr)
        },
        OptionSource::Default => quote_spanned! {param.span()=>
            <#param as ::combtest::__private::Options>::all_options()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn check(function: ItemFn) -> (Option<ActionSignature>, Vec<String>) {
        let mut errors = Errors::default();
        let signature = check_signature(&function, &mut errors);
        (signature, errors.messages())
    }

    fn type_string(ty: &Type) -> String {
        quote!(#ty).to_string()
    }

    #[test]
    fn accepts_both_signatures() {
        let (sig, errors) = check(parse_quote!(
            fn a(x: u8, s: &mut Vec<u8>) {}
        ));
        assert!(errors.is_empty(), "{errors:?}");
        let sig = sig.unwrap();
        assert_eq!(type_string(&sig.state), "Vec < u8 >");
        assert!(sig.shared.is_none());
        assert_eq!(type_string(&sig.output), "()");

        let (sig, errors) = check(parse_quote!(
            fn a(x: u8, s: &mut S, g: &App) -> Result<(), E> {}
        ));
        assert!(errors.is_empty(), "{errors:?}");
        let sig = sig.unwrap();
        assert_eq!(type_string(sig.shared.as_ref().unwrap()), "App");
        assert_eq!(type_string(&sig.output), "Result < () , E >");
    }

    #[test]
    fn rejects_bad_signatures_with_every_reason() {
        let (_, errors) = check(parse_quote!(
            async fn a<T>(x: T, s: S, g: &mut G, extra: u8) {}
        ));
        assert_eq!(errors.len(), 5, "{errors:?}");
        assert!(errors[0].contains("cannot be `async`"));
        assert!(errors[1].contains("cannot be generic"));
        assert!(errors[2].contains("too many arguments"));
        assert!(errors[3].contains("`&mut S`"));
        assert!(errors[4].contains("only a `#[serial_action]` gets `&mut G`"));
    }

    #[test]
    fn missing_arguments_and_methods() {
        let (sig, errors) = check(parse_quote!(
            fn a(x: u8) {}
        ));
        assert!(sig.is_none());
        assert!(errors[0].contains("missing argument"), "{errors:?}");
        let (_, errors) = check(parse_quote!(
            fn a(&mut self, x: u8) {}
        ));
        assert!(errors[0].contains("not a method"), "{errors:?}");
    }

    #[test]
    fn expansion_keeps_the_function_and_adds_the_companion() {
        let out = expand(
            quote!(options = [1, 2]),
            quote!(
                pub fn push(n: u8, v: &mut Vec<u8>) {
                    v.push(n);
                }
            ),
        )
        .to_string();
        assert!(
            out.contains("pub fn push (n : u8 , v : & mut Vec < u8 >)"),
            "{out}"
        );
        assert!(out.contains("pub struct push { }"), "{out}");
        assert!(
            out.contains("ActionItem < Vec < u8 > , __CombtestShared > for push"),
            "{out}"
        );
        assert!(out.contains(":: std :: vec ! [1 , 2]"), "{out}");
        assert!(!out.contains("compile_error"), "{out}");
    }

    #[test]
    fn errors_still_emit_the_function() {
        let out = expand(
            quote!(options = []),
            quote!(
                fn push(n: u8, v: &mut Vec<u8>) {}
            ),
        )
        .to_string();
        assert!(out.contains("fn push"), "{out}");
        assert!(out.contains("compile_error"), "{out}");
        assert!(out.contains("unreachable"), "{out}");
        let out = expand(
            quote!(),
            quote!(
                struct NotAFunction;
            ),
        )
        .to_string();
        assert!(out.contains("struct NotAFunction"), "{out}");
        assert!(out.contains("applies to a free function"), "{out}");
    }
}
