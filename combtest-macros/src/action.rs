//! `#[action]` and `#[serial_action]`: validate the function's signature, keep the function,
//! and add a companion struct of the same name (in the type namespace) that carries the
//! action.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, GenericArgument, ItemFn, PathArguments, ReturnType, Type};

use crate::attr::{parse_args, OptionSource};
use crate::errors::Errors;

/// Which attribute is expanded.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    /// `#[action]`: runs in every walk.
    Regular,
    /// `#[serial_action]`: runs once per branch, alone.
    Serial,
}

impl Kind {
    fn attribute(self) -> &'static str {
        match self {
            Kind::Regular => "#[action]",
            Kind::Serial => "#[serial_action]",
        }
    }

    fn usage(self, name: &str) -> String {
        match self {
            Kind::Regular => format!(
                "an action is `fn {name}(param: P, state: &mut S)` or \
                 `fn {name}(param: P, state: &mut S, shared: &G)`, or without a param \
                 `fn {name}(state: &mut S)`"
            ),
            Kind::Serial => format!(
                "a serial action is `fn {name}(param: P)`, optionally followed by \
                 `shared: &mut G`, then by `states: States<'_, S>`; a function of one \
                 walk's state is an `#[action]`"
            ),
        }
    }
}

/// What the runner needs to know about an action's function. `state` and `shared` are
/// `None` when the function does not take them (it then works with any).
pub(crate) struct ActionSignature {
    pub(crate) param: Type,
    /// `false` for an action without a param, whose `param` is `()`.
    pub(crate) takes_param: bool,
    pub(crate) state: Option<Type>,
    pub(crate) shared: Option<Type>,
    pub(crate) output: Type,
}

pub(crate) fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let source = parse_args(args, &mut errors);
    let function: ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(_) => {
            errors.at(
                Span::call_site(),
                format!(
                    "{} applies to a free function: {}",
                    kind.attribute(),
                    kind.usage("name")
                ),
            );
            let compile_errors = errors.to_compile_errors();
            return quote!(#item #compile_errors);
        }
    };
    let mut signature_errors = Errors::default();
    let signature = match kind {
        Kind::Regular => check_signature(&function, &mut signature_errors),
        Kind::Serial => check_serial_signature(&function, &mut signature_errors),
    };
    // A companion calls the function; with a signature it could not describe, that call
    // would only add errors of its own, so the placeholder stands in.
    if let Some(signature) = &signature {
        check_options_fit(signature, &source, &mut signature_errors);
    }
    // A placeholder for a function whose state type is plain (no generics to leave
    // unresolved) fits only that state, so the order's state is still inferred from it.
    let placeholder_state = signature
        .as_ref()
        .filter(|_| function.sig.generics.params.is_empty())
        .and_then(|signature| signature.state.clone())
        // `impl Store` names no type a placeholder could fit.
        .filter(|state| !matches!(state, Type::ImplTrait(_)));
    let signature = signature.filter(|_| signature_errors.is_empty());
    errors.extend(signature_errors);
    let compile_errors = errors.to_compile_errors();
    // The function is always emitted as written, so that one mistake gives one error and not
    // one more at every call of the function.
    let is_method = function
        .sig
        .inputs
        .iter()
        .any(|input| matches!(input, FnArg::Receiver(_)))
        || self_type_in(&function.sig).is_some();
    match signature {
        Some(signature) if !is_method => {
            let companion = companion(kind, &function, &signature, &source, errors.is_empty());
            quote!(#function #companion #compile_errors)
        }
        // A method cannot have a companion struct beside it (it sits in an impl block).
        _ if is_method => quote!(#function #compile_errors),
        _ => {
            let placeholder = placeholder(&function, placeholder_state.as_ref());
            quote!(#function #placeholder #compile_errors)
        }
    }
}

/// An action without a param has exactly one option, `()`: an `options` list for it could
/// only be a mistake (a param left out of the function, most likely).
fn check_options_fit(signature: &ActionSignature, source: &OptionSource, errors: &mut Errors) {
    if signature.takes_param {
        return;
    }
    let message = "this action takes no param, so it has one option and no `options`: \
                   add the param as the first argument, `fn name(param: P, state: &mut S)`";
    match source {
        OptionSource::Default => {}
        OptionSource::List(items) => match items.first() {
            Some(first) => errors.spanned(first, message),
            None => errors.at(Span::call_site(), message),
        },
        OptionSource::Iter(expr) => errors.spanned(expr, message),
    }
}

/// A companion for a function whose signature could not be understood: it fits any order,
/// so that the error on the function is the only one, not one more at every use.
fn placeholder(function: &ItemFn, state: Option<&Type>) -> TokenStream {
    let vis = &function.vis;
    let ident = &function.sig.ident;
    let private = quote!(::combtest::__private);
    let (state_generic, state) = match state {
        Some(state) => (quote!(), quote!(#state)),
        None => (quote!(__CombtestState,), quote!(__CombtestState)),
    };
    quote! {
        #[allow(non_camel_case_types, dead_code)]
        #vis struct #ident {}

        impl<#state_generic __CombtestShared> #private::ActionItem<#state, __CombtestShared> for #ident {
            type Param = ();
            const NAME: &'static str = "";
            const SERIAL: bool = false;
            const ASYNC: bool = false;
            fn action() -> #private::Action<#state, __CombtestShared> {
                ::core::unreachable!("the action's definition did not compile")
            }
            fn call(
                _: (),
                _: &mut #state,
                _: &__CombtestShared,
            ) -> #private::StepResult {
                ::core::unreachable!("the action's definition did not compile")
            }
        }
    }
}

/// Checks what every action function must be: a plain, non-generic free function. Returns the
/// types of its arguments.
fn check_function<'f>(function: &'f ItemFn, errors: &mut Errors) -> Vec<&'f Type> {
    let sig = &function.sig;
    if let syn::Safety::Unsafe(token) = &sig.safety {
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
    if let Some(where_clause) = sig
        .generics
        .where_clause
        .as_ref()
        .filter(|_| sig.generics.params.is_empty())
    {
        // `sig.generics` has no tokens of its own here, and would point at the attribute.
        errors.spanned(
            where_clause,
            "an action cannot have a `where` clause: combtest must know its param and state \
             types; write a non-generic function that calls one with the bounds",
        );
    } else if !sig.generics.params.is_empty() {
        errors.spanned(
            &sig.generics,
            "an action cannot be generic: combtest must know its param and state types; \
             write a non-generic function that calls the generic one",
        );
    }
    if let Some(self_type) = self_type_in(sig) {
        if !sig
            .inputs
            .iter()
            .any(|input| matches!(input, FnArg::Receiver(_)))
        {
            errors.at(
                self_type.span(),
                "an action is a free function, not an associated function of an impl block: \
                 move it out of the impl and name the type instead of `Self`",
            );
            return Vec::new();
        }
    }
    let mut typed = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => {
                errors.spanned(
                    receiver,
                    "an action is a free function, not a method: take the state as an argument",
                );
                // The arguments of a method say nothing more worth reporting.
                return Vec::new();
            }
            FnArg::Typed(pat_type) => typed.push(&*pat_type.ty),
        }
    }
    if let Some(Type::ImplTrait(_)) = typed.first() {
        errors.spanned(
            typed[0],
            "the param type must be a concrete type, not `impl Trait`",
        );
    }
    // The state and the shared context: `&mut impl Store`.
    for ty in typed.iter().skip(1) {
        if let Type::Reference(reference) = ty {
            if let Type::ImplTrait(_) = &*reference.elem {
                errors.spanned(
                    &reference.elem,
                    "the state and the shared context must be concrete types, not `impl Trait`: \
                     combtest makes, holds and hands out values of them",
                );
            }
        }
    }
    if let ReturnType::Type(_, ty) = &sig.output {
        if let Type::ImplTrait(_) = &**ty {
            errors.spanned(
                ty,
                "an action's return type must be named, not `impl Trait`: return `()` or \
                 `Result<(), E>` where `E: Debug + Display + 'static`",
            );
        }
    }
    typed
}

/// The first `Self` of a signature: the function sits in an impl or trait block, where no
/// companion struct can stand beside it.
fn self_type_in(sig: &syn::Signature) -> Option<proc_macro2::Ident> {
    fn find(tokens: TokenStream) -> Option<proc_macro2::Ident> {
        tokens.into_iter().find_map(|token| match token {
            proc_macro2::TokenTree::Ident(ident) if ident == "Self" => Some(ident),
            proc_macro2::TokenTree::Group(group) => find(group.stream()),
            _ => None,
        })
    }
    let inputs = &sig.inputs;
    let output = &sig.output;
    find(quote!(#inputs #output))
}

fn output_type(function: &ItemFn) -> Type {
    match &function.sig.output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, ty) => (**ty).clone(),
    }
}

/// Checks `fn name([param: P,] state: &mut S [, shared: &G]) [-> R]`, reporting every
/// problem. Returns the types when the shape is usable, even if other errors were found.
/// A function whose first argument is `&mut S` has no param: its one option is `()`.
pub(crate) fn check_signature(function: &ItemFn, errors: &mut Errors) -> Option<ActionSignature> {
    let sig = &function.sig;
    let name = sig.ident.to_string();
    let usage = Kind::Regular.usage(&name);
    let typed = check_function(function, errors);
    if typed.is_empty() && !errors.is_empty() {
        return None;
    }
    let takes_param = !typed.first().is_some_and(|ty| is_mut_reference(ty));
    if takes_param && typed.len() < 2 {
        let span = sig
            .inputs
            .last()
            .map_or(sig.paren_token.span.join(), |i| i.span());
        errors.at(span, format!("missing argument: {usage}"));
        return None;
    }
    if !takes_param {
        if let Some(&second) = typed.get(1) {
            if is_param_like(second) {
                let (param_pat, state_pat) = (argument_text(sig, 1), argument_text(sig, 0));
                errors.spanned(
                    &sig.inputs,
                    format!(
                        "the param comes first, then the walk's state: \
                         `fn {name}({param_pat}, {state_pat})`"
                    ),
                );
                // Only the state is described: the placeholder fits the order's state.
                return Some(ActionSignature {
                    param: second.clone(),
                    takes_param: true,
                    state: Some(strip_ref(typed[0])),
                    shared: None,
                    output: output_type(function),
                });
            }
        }
    }
    let (param, rest): (Type, &[&Type]) = if takes_param {
        (typed[0].clone(), &typed[1..])
    } else {
        (syn::parse_quote!(()), &typed[..])
    };
    if takes_param {
        check_param_lifetime(typed[0], errors);
    }
    if rest.len() > 2 {
        let first_extra = if takes_param { 3 } else { 2 };
        errors.spanned(
            &sig.inputs[first_extra],
            format!("too many arguments: {usage}"),
        );
    }
    let state = match rest[0] {
        Type::Reference(reference) if reference.mutability.is_some() => {
            check_state_lifetime(&reference.elem, errors)
        }
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
    let shared = rest.get(1).map(|ty| match ty {
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
    Some(ActionSignature {
        param,
        takes_param,
        state: Some(state),
        shared,
        output: output_type(function),
    })
}

fn is_mut_reference(ty: &Type) -> bool {
    matches!(ty, Type::Reference(reference) if reference.mutability.is_some())
}

/// A type that reads as a param and not as a state or context: a value, or a `'static`
/// reference (`&'static str`). A walk's state or the shared context is a borrow.
fn is_param_like(ty: &Type) -> bool {
    match ty {
        Type::Reference(reference) => reference
            .lifetime
            .as_ref()
            .is_some_and(|lifetime| lifetime.ident == "static"),
        _ => true,
    }
}

/// `pattern: Type` of the function's `index`-th argument, as written.
fn argument_text(sig: &syn::Signature, index: usize) -> String {
    match &sig.inputs[index] {
        FnArg::Typed(pat_type) => {
            let pat = &pat_type.pat;
            format!("{}: {}", quote!(#pat), show(&pat_type.ty))
        }
        FnArg::Receiver(_) => "self".into(),
    }
}

/// A param is cloned into every walk and kept in the option list for the whole run: a
/// borrowed param type (`&str`, `Cow<'_, str>`) must borrow for `'static`.
fn check_param_lifetime(param: &Type, errors: &mut Errors) {
    if let Some(fixed) = with_static_lifetimes(param) {
        errors.spanned(
            param,
            format!(
                "params are `'static`: the options are made once at run start and shared by \
                 every walk, so a borrowed param is `{}`",
                show(&fixed)
            ),
        );
    }
}

/// Each walk owns its state, which moves between worker threads: a state type that borrows
/// (`Vec<&str>`) must borrow for `'static`. Returns the type the companion uses: the state
/// with `'static` lifetimes, so that the mistake is reported once, here.
fn check_state_lifetime(state: &Type, errors: &mut Errors) -> Type {
    let Some(fixed) = with_static_lifetimes(state) else {
        return state.clone();
    };
    errors.spanned(
        state,
        format!(
            "a walk's state is `'static`: each walk owns its state, which moves between worker \
             threads, so a state that borrows is `{}`; or own the data (`String` for `&str`)",
            show(&fixed)
        ),
    );
    fixed
}

/// Checks `fn name(param: P [, shared: &mut G] [, states: States<'_, S>]) [-> R]`.
pub(crate) fn check_serial_signature(
    function: &ItemFn,
    errors: &mut Errors,
) -> Option<ActionSignature> {
    let sig = &function.sig;
    let usage = Kind::Serial.usage(&sig.ident.to_string());
    let typed = check_function(function, errors);
    let Some(&param) = typed.first() else {
        if errors.is_empty() {
            errors.at(
                sig.paren_token.span.join(),
                format!("missing argument: {usage}"),
            );
        }
        return None;
    };
    if is_mut_reference(param) || states_type(param).is_some() {
        // `fn reset(state: &mut S)`, `fn reset(shared: &mut G)`: no param.
        errors.spanned(
            param,
            format!("the first argument of a serial action is its param: {usage}"),
        );
        return None;
    }
    let (mut shared, mut state) = (None, None);
    for &ty in &typed[1..] {
        if let Some(states_of) = states_type(ty) {
            if state.is_some() {
                errors.spanned(ty, format!("`States` is taken twice: {usage}"));
            }
            state = Some(states_of);
            continue;
        }
        match ty {
            _ if shared.is_some() || state.is_some() => {
                errors.spanned(ty, format!("unexpected argument: {usage}"));
            }
            Type::Reference(reference) if reference.mutability.is_some() => {
                shared = Some((*reference.elem).clone());
            }
            Type::Reference(reference) => {
                errors.spanned(
                    reference,
                    format!(
                        "a serial action runs alone and gets the shared context as `&mut {}`; \
                         a per-walk action is `#[action] fn(param: P, state: &mut S, shared: &G)`",
                        show(&reference.elem)
                    ),
                );
                shared = Some((*reference.elem).clone());
            }
            other => errors.spanned(other, format!("unexpected argument: {usage}")),
        }
    }
    check_param_lifetime(param, errors);
    Some(ActionSignature {
        param: param.clone(),
        takes_param: true,
        state,
        shared,
        output: output_type(function),
    })
}

/// `S` when `ty` is `States<'_, S>` (by any path ending in `States`).
fn states_type(ty: &Type) -> Option<Type> {
    let Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != "States" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    args.args.iter().find_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty.clone()),
        _ => None,
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

/// The shared-context type of a function's signature, made fit for a bound: every elided
/// lifetime (`Ctx<'_>`, `&str` inside it) gets a name of its own, returned to be declared
/// on the companion's impl. A context type that borrows from the test is thus lent under
/// whatever lifetimes the run's context has.
fn name_elided_lifetimes(ty: &Type) -> (Type, Vec<syn::Lifetime>) {
    let mut named = Vec::new();
    let ty = replace_elided_lifetimes(ty, |span| {
        let lifetime = syn::Lifetime::new(&format!("'__combtest_shared_{}", named.len()), span);
        named.push(lifetime.clone());
        lifetime
    });
    (ty, named)
}

/// `ty` with each elided lifetime (a reference without one, `'_`) replaced by `lifetime`,
/// which is given the elided one's span.
fn replace_elided_lifetimes(ty: &Type, mut lifetime: impl FnMut(Span) -> syn::Lifetime) -> Type {
    fn visit(ty: &mut Type, lifetime: &mut dyn FnMut(Span) -> syn::Lifetime) {
        match ty {
            Type::Reference(reference) => {
                if reference.lifetime.is_none() {
                    reference.lifetime = Some(lifetime(reference.and_token.span));
                } else if let Some(elided) = reference.lifetime.as_mut().filter(|l| l.ident == "_")
                {
                    *elided = lifetime(elided.span());
                }
                visit(&mut reference.elem, lifetime);
            }
            Type::Path(path) => {
                if let Some(qself) = &mut path.qself {
                    visit(&mut qself.ty, lifetime);
                }
                for segment in &mut path.path.segments {
                    if let PathArguments::AngleBracketed(args) = &mut segment.arguments {
                        for arg in &mut args.args {
                            match arg {
                                GenericArgument::Lifetime(elided) if elided.ident == "_" => {
                                    *elided = lifetime(elided.span());
                                }
                                GenericArgument::Type(ty) => visit(ty, lifetime),
                                _ => {}
                            }
                        }
                    }
                }
            }
            Type::Tuple(tuple) => tuple.elems.iter_mut().for_each(|ty| visit(ty, lifetime)),
            Type::Slice(slice) => visit(&mut slice.elem, lifetime),
            Type::Array(array) => visit(&mut array.elem, lifetime),
            Type::Paren(paren) => visit(&mut paren.elem, lifetime),
            Type::Group(group) => visit(&mut group.elem, lifetime),
            _ => {}
        }
    }
    let mut ty = ty.clone();
    visit(&mut ty, &mut lifetime);
    ty
}

/// `ty` with its elided lifetimes made `'static`, when it has any.
fn with_static_lifetimes(ty: &Type) -> Option<Type> {
    let mut elided = false;
    let fixed = replace_elided_lifetimes(ty, |span| {
        elided = true;
        syn::Lifetime::new("'static", span)
    });
    elided.then_some(fixed)
}

/// The companion struct: `NAME`, `options()`, `action()` and the `ActionItem` impl.
fn companion(
    kind: Kind,
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
        takes_param,
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
    // A type the function does not take stays generic: the action fits any order.
    // An async serial action's future is made and polled on a thread of combtest's, so the
    // types it fits must be `Send`.
    let send = (kind == Kind::Serial && function.sig.asyncness.is_some())
        .then(|| quote!(+ ::core::marker::Send));
    let mut generic_params = Vec::new();
    let state_ty = state.as_ref().map_or_else(
        || {
            generic_params.push(quote!(__CombtestState: 'static #send));
            quote!(__CombtestState)
        },
        |state| quote!(#state),
    );
    // The run's shared context is always a parameter: a function that takes `&App` (or
    // `&mut App`) fits any context that lends one, the `App` itself or a borrow of it that
    // lives in the test (see `combtest::Lend`). A function that takes none fits any context.
    let shared_ty = quote!(__CombtestShared);
    let (lent_ty, lifetimes) = shared
        .as_ref()
        .map(name_elided_lifetimes)
        .map_or((None, Vec::new()), |(ty, named)| (Some(ty), named));
    let lend = match (kind, &lent_ty) {
        (_, None) => quote!(),
        (Kind::Regular, Some(shared)) => quote!(#private::Lend<#shared>),
        (Kind::Serial, Some(shared)) => quote!(#private::LendMut<#shared>),
    };
    let lend_bound = match (&send, shared) {
        (None, None) => quote!(),
        (Some(_), None) => quote!(: ::core::marker::Send),
        (_, Some(_)) => quote!(: #lend #send),
    };
    // The body of an async action is a function (its future borrows its arguments); it
    // repeats the companion's generic state parameter, which it cannot see. It takes the
    // shared context as the function does, already lent: a function generic over the
    // context would be `'static` only for a `'static` context, and a borrowed one is not.
    let is_async = function.sig.asyncness.is_some();
    let body_generics = generic_params.clone();
    let body_generic_args: Vec<TokenStream> = state
        .is_none()
        .then(|| quote!(__CombtestState))
        .into_iter()
        .collect();
    generic_params.push(quote!(__CombtestShared #lend_bound));
    // Lifetimes first, as Rust requires.
    for lifetime in lifetimes.iter().rev() {
        generic_params.insert(0, quote!(#lifetime));
    }
    let generics = if generic_params.is_empty() {
        quote!()
    } else {
        quote!(<#(#generic_params),*>)
    };
    let (constructor, closure, direct_call) = match kind {
        Kind::Regular => {
            // An action without a param is called without its `()` option.
            let param_arg = takes_param.then(|| quote!(param,));
            let call = match shared {
                None => quote!(#ident(#param_arg state)),
                Some(_) => quote!(#ident(#param_arg state, #private::Lend::lend(shared))),
            };
            let body = if is_async {
                let (body_call, body_shared, lent) = match shared {
                    None => (quote!(#ident(#param_arg state)), quote!(), quote!()),
                    Some(shared) => (
                        quote!(#ident(#param_arg state, shared)),
                        quote!(shared: &'a #shared,),
                        quote!(#private::Lend::lend(shared)),
                    ),
                };
                let boxed = quote_spanned! {function.sig.ident.span()=>
                    ::std::boxed::Box::pin(#body_call)
                };
                quote! {{
                    fn __combtest_body<'a, #(#body_generics),*>(
                        param: #param,
                        state: &'a mut #state_ty,
                        #body_shared
                    ) -> #private::ActionFuture<'a, #output> {
                        let _ = &param;
                        #boxed
                    }
                    |param, state, shared| {
                        let _ = &shared;
                        __combtest_body::<#(#body_generic_args),*>(param, state, #lent)
                    }
                }}
            } else {
                quote! {
                    |param: #param, state: &mut #state_ty, shared: &#shared_ty| {
                        let _ = (&param, &shared);
                        #call
                    }
                }
            };
            (
                if is_async {
                    quote!(new_async)
                } else {
                    quote!(new)
                },
                body,
                if is_async {
                    quote! {
                        let _ = (param, state, shared);
                        ::core::unreachable!("an async action is awaited by the async executor")
                    }
                } else {
                    quote! {
                        let _ = (&param, &shared);
                        #private::ActionReturn::into_step_result(#call)
                    }
                },
            )
        }
        Kind::Serial => {
            let mut args = vec![quote!(param)];
            if shared.is_some() {
                args.push(quote!(#private::LendMut::lend_mut(shared)));
            }
            if state.is_some() {
                args.push(quote!(states));
            }
            let body = if is_async {
                let mut body_args = vec![quote!(param)];
                let (body_shared, lent) = match shared {
                    None => (quote!(), quote!()),
                    Some(shared) => {
                        body_args.push(quote!(shared));
                        (
                            quote!(shared: &'a mut #shared,),
                            quote!(#private::LendMut::lend_mut(shared),),
                        )
                    }
                };
                if state.is_some() {
                    body_args.push(quote!(states));
                }
                let boxed = quote_spanned! {function.sig.ident.span()=>
                    ::std::boxed::Box::pin(#ident(#(#body_args),*))
                };
                quote! {{
                    fn __combtest_body<'a, #(#body_generics),*>(
                        param: #param,
                        #body_shared
                        states: #private::States<'a, #state_ty>,
                    ) -> #private::SerialFuture<'a, #output> {
                        let _ = &states;
                        #boxed
                    }
                    |param, shared, states| {
                        let _ = &shared;
                        __combtest_body::<#(#body_generic_args),*>(param, #lent states)
                    }
                }}
            } else {
                quote! {
                    |param: #param, shared: &mut #shared_ty, states: #private::States<'_, #state_ty>| {
                        let _ = (&shared, &states);
                        #ident(#(#args),*)
                    }
                }
            };
            (
                if is_async {
                    quote!(serial_async)
                } else {
                    quote!(serial)
                },
                body,
                quote! {
                    let _ = (param, state, shared);
                    ::core::unreachable!("a serial action never runs inside a walk")
                },
            )
        }
    };
    // The requirements on the user's types are `where` clauses spanned on those types: an
    // unmet one is reported once, on the user's token, and the bodies that assume it add
    // no error of their own.
    let serial = kind == Kind::Serial;
    let bounds = quote_spanned! {param.span()=> #param: ::combtest::__private::Param,};
    let return_bound =
        quote_spanned! {output.span()=> #output: ::combtest::__private::ActionReturn,};
    quote! {
        #[doc = #doc]
        #[allow(non_camel_case_types)]
        #vis struct #ident {}

        // The function may be `#[deprecated]`: calling it is what the companion is for, and
        // the warning would land on the attribute, once per call here.
        #[allow(dead_code, deprecated)]
        impl #ident {
            /// The action's name, as reports and traces show it.
            pub const NAME: &'static str = #name;

            /// Evaluates the action's option list.
            pub fn options() -> ::std::vec::Vec<#param> {
                #options
            }

            /// The action as an entry of a `combtest::Combtest` order.
            pub fn action #generics () -> #private::Action<#state_ty, #shared_ty>
            where
                #bounds
                #return_bound
            {
                #private::Action::#constructor(Self::NAME, Self::options, #closure)
            }
        }

        #[allow(deprecated)]
        impl #generics #private::ActionItem<#state_ty, #shared_ty> for #ident
        where
            #bounds
            #return_bound
        {
            type Param = #param;
            const NAME: &'static str = #name;
            const SERIAL: bool = #serial;
            const ASYNC: bool = #is_async;

            fn action() -> #private::Action<#state_ty, #shared_ty> {
                #ident::action()
            }

            #[inline]
            fn call(
                param: #param,
                state: &mut #state_ty,
                shared: &#shared_ty,
            ) -> #private::StepResult {
                #direct_call
            }
        }
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
        assert_eq!(type_string(sig.state.as_ref().unwrap()), "Vec < u8 >");
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
            unsafe fn a<T>(x: T, s: S, g: &mut G, extra: u8) {}
        ));
        assert_eq!(errors.len(), 5, "{errors:?}");
        assert!(errors[0].contains("cannot be `unsafe fn`"));
        assert!(errors[1].contains("cannot be generic"));
        assert!(errors[2].contains("too many arguments"));
        assert!(errors[3].contains("`&mut S`"));
        assert!(errors[4].contains("only a `#[serial_action]` gets `&mut G`"));
    }

    #[test]
    fn an_action_without_a_param_takes_the_state_first() {
        let (sig, errors) = check(parse_quote!(
            fn verify(s: &mut Db) {}
        ));
        assert!(errors.is_empty(), "{errors:?}");
        let sig = sig.unwrap();
        assert!(!sig.takes_param);
        assert_eq!(type_string(&sig.param), "()");
        assert_eq!(type_string(sig.state.as_ref().unwrap()), "Db");
        let (sig, errors) = check(parse_quote!(
            fn verify(s: &mut Db, app: &App) {}
        ));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(type_string(sig.unwrap().shared.as_ref().unwrap()), "App");
        let out = expand(
            Kind::Regular,
            quote!(),
            quote!(
                fn verify(s: &mut Db) {}
            ),
        )
        .to_string();
        assert!(out.contains("verify (state)"), "{out}");
        assert!(!out.contains("compile_error"), "{out}");
        let out = expand(
            Kind::Regular,
            quote!(options = [1]),
            quote!(
                fn verify(s: &mut Db) {}
            ),
        )
        .to_string();
        assert!(out.contains("takes no param"), "{out}");
    }

    #[test]
    fn swapped_arguments_say_the_param_comes_first() {
        for function in [
            parse_quote!(
                fn a(s: &mut S, n: u32) {}
            ),
            parse_quote!(
                fn a(s: &mut S, n: &'static str) {}
            ),
        ] {
            let (sig, errors) = check(function);
            // The placeholder keeps the state, so the order's state is still inferred.
            assert_eq!(type_string(sig.unwrap().state.as_ref().unwrap()), "S");
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert!(errors[0].contains("the param comes first"), "{errors:?}");
        }
        let (_, errors) = check(parse_quote!(
            fn a(s: &mut S, n: u32) {}
        ));
        assert!(
            errors[0].contains("`fn a(n: u32, s: &mut S)`"),
            "{errors:?}"
        );
    }

    #[test]
    fn a_borrowed_param_must_be_static() {
        let (_, errors) = check(parse_quote!(
            fn a(name: &str, s: &mut S) {}
        ));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("params are `'static`"), "{errors:?}");
        assert!(errors[0].contains("`&'static str`"), "{errors:?}");
        let (_, errors) = check(parse_quote!(
            fn a(name: &'static str, s: &mut S) {}
        ));
        assert!(errors.is_empty(), "{errors:?}");
        let (_, errors) = check_serial(parse_quote!(
            fn s(name: &'_ [u8]) {}
        ));
        assert!(errors[0].contains("params are `'static`"), "{errors:?}");
    }

    #[test]
    fn the_companion_says_the_kind_of_its_action() {
        let kinds = |kind, function| {
            let out = expand(kind, quote!(options = [1]), function).to_string();
            let serial = out.contains("const SERIAL : bool = true");
            let asynchronous = out.contains("const ASYNC : bool = true");
            assert!(
                out.contains("const SERIAL : bool") && out.contains("const ASYNC : bool"),
                "{out}"
            );
            (serial, asynchronous)
        };
        let regular = quote!(
            fn a(x: u8, s: &mut Vec<u8>) {}
        );
        assert_eq!(kinds(Kind::Regular, regular), (false, false));
        let regular_async = quote!(
            async fn a(x: u8, s: &mut Vec<u8>) {}
        );
        assert_eq!(kinds(Kind::Regular, regular_async), (false, true));
        let serial = quote!(
            fn s(x: u8) {}
        );
        assert_eq!(kinds(Kind::Serial, serial), (true, false));
        let serial_async = quote!(
            async fn s(x: u8) {}
        );
        assert_eq!(kinds(Kind::Serial, serial_async), (true, true));
        // A function whose signature is wrong gets a placeholder companion: it still says a
        // kind, so that its error is the only one.
        let wrong = quote!(
            fn no_state(x: u8) {}
        );
        assert_eq!(kinds(Kind::Regular, wrong), (false, false));
    }

    #[test]
    fn async_actions_are_accepted_and_boxed_as_futures() {
        let (_, errors) = check(parse_quote!(
            async fn a(x: u8, s: &mut Vec<u8>) {}
        ));
        assert!(errors.is_empty(), "{errors:?}");
        let out = expand(
            Kind::Regular,
            quote!(options = [1]),
            quote!(
                async fn a(x: u8, s: &mut Vec<u8>) {}
            ),
        )
        .to_string();
        assert!(out.contains("Action :: new_async"), "{out}");
        assert!(out.contains("ActionFuture < 'a , () >"), "{out}");
        let out = expand(
            Kind::Serial,
            quote!(options = [1]),
            quote!(
                async fn s(x: u8) {}
            ),
        )
        .to_string();
        assert!(out.contains("Action :: serial_async"), "{out}");
        assert!(
            out.contains("__CombtestState : 'static + :: core :: marker :: Send"),
            "{out}"
        );
    }

    #[test]
    fn an_impl_trait_param_is_one_error() {
        let (_, errors) = check(parse_quote!(
            fn a(x: impl Into<u8>, s: &mut S) {}
        ));
        assert_eq!(errors.len(), 1, "one mistake, one error: {errors:?}");
        assert!(errors[0].contains("not `impl Trait`"), "{errors:?}");
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
        assert_eq!(errors.len(), 1, "one mistake, one error: {errors:?}");
        assert!(errors[0].contains("not a method"), "{errors:?}");
    }

    #[test]
    fn an_associated_function_is_one_error_and_no_companion() {
        let function = quote!(
            fn set(value: u8, form: &mut Self) {}
        );
        let out = expand(Kind::Regular, quote!(options = [1]), function).to_string();
        assert!(out.contains("not an associated function"), "{out}");
        assert!(!out.contains("struct set"), "{out}");
    }

    #[test]
    fn expansion_keeps_the_function_and_adds_the_companion() {
        let out = expand(
            Kind::Regular,
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
    fn a_bad_signature_gets_the_placeholder_not_a_call() {
        let function = quote!(
            fn a(x: u8, s: &mut S, g: &G, extra: u8) {}
        );
        let out = expand(Kind::Regular, quote!(options = [1]), function).to_string();
        assert!(out.contains("too many arguments"), "{out}");
        assert!(out.contains("unreachable"), "{out}");
        assert!(
            !out.contains("a (param"),
            "the function is not called: {out}"
        );
    }

    #[test]
    fn errors_still_emit_the_function() {
        let out = expand(
            Kind::Regular,
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
            Kind::Regular,
            quote!(),
            quote!(
                struct NotAFunction;
            ),
        )
        .to_string();
        assert!(out.contains("struct NotAFunction"), "{out}");
        assert!(out.contains("applies to a free function"), "{out}");
    }

    fn check_serial(function: ItemFn) -> (Option<ActionSignature>, Vec<String>) {
        let mut errors = Errors::default();
        let signature = check_serial_signature(&function, &mut errors);
        (signature, errors.messages())
    }

    #[test]
    fn serial_signatures_take_shared_and_states_optionally() {
        let (sig, errors) = check_serial(parse_quote!(
            fn s(p: u8) {}
        ));
        assert!(errors.is_empty(), "{errors:?}");
        let sig = sig.unwrap();
        assert!(sig.shared.is_none() && sig.state.is_none());

        let (sig, errors) = check_serial(parse_quote!(
            fn s(p: u8, app: &mut App, w: States<'_, Gui>) {}
        ));
        assert!(errors.is_empty(), "{errors:?}");
        let sig = sig.unwrap();
        assert_eq!(type_string(sig.shared.as_ref().unwrap()), "App");
        assert_eq!(type_string(sig.state.as_ref().unwrap()), "Gui");

        let (sig, errors) = check_serial(parse_quote!(
            fn s(p: u8, w: combtest::States<'_, Gui>) {}
        ));
        assert!(errors.is_empty(), "{errors:?}");
        assert!(sig.unwrap().shared.is_none());
    }

    #[test]
    fn per_walk_signatures_are_refused_for_serial_actions() {
        let (_, errors) = check_serial(parse_quote!(
            fn s(p: u8, state: &mut S, shared: &G) {}
        ));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("unexpected argument"), "{errors:?}");
        let (_, errors) = check_serial(parse_quote!(
            fn s(p: u8, shared: &G) {}
        ));
        assert!(errors[0].contains("`&mut G`"), "{errors:?}");
        let (_, errors) = check_serial(parse_quote!(
            fn s() {}
        ));
        assert!(errors[0].contains("missing argument"), "{errors:?}");
    }

    #[test]
    fn serial_expansion_is_generic_over_what_it_does_not_take() {
        let out = expand(
            Kind::Serial,
            quote!(options = [1]),
            quote!(
                fn s(p: u8, app: &mut App) {}
            ),
        )
        .to_string();
        // Generic over the state it does not take, and over any context that lends the
        // `App` it changes: the `App` itself or a `&mut App` borrowed from the test.
        assert!(
            out.contains("ActionItem < __CombtestState , __CombtestShared > for s"),
            "{out}"
        );
        assert!(
            out.contains("__CombtestShared : :: combtest :: __private :: LendMut < App >"),
            "{out}"
        );
        assert!(out.contains("Action :: serial"), "{out}");
        assert!(
            out.contains("s (param , :: combtest :: __private :: LendMut :: lend_mut (shared))"),
            "{out}"
        );
    }

    #[test]
    fn an_action_reads_any_context_that_lends_its_type() {
        let out = expand(
            Kind::Regular,
            quote!(options = [1]),
            quote!(
                fn a(p: u8, s: &mut Gui, app: &App) {}
            ),
        )
        .to_string();
        assert!(
            out.contains("__CombtestShared : :: combtest :: __private :: Lend < App >"),
            "{out}"
        );
        assert!(
            out.contains("a (param , state , :: combtest :: __private :: Lend :: lend (shared))"),
            "{out}"
        );
    }
}
