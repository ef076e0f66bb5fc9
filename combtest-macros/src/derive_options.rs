//! `#[derive(Options)]`: every variant of a fieldless enum, in declaration order.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields};

use crate::errors::Errors;

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    let mut errors = Errors::default();
    let variants = match &input.data {
        Data::Enum(data) => {
            if data.variants.is_empty() {
                errors.spanned(
                    &input.ident,
                    "an enum without variants has no options, so it would run no walk",
                );
            }
            for variant in &data.variants {
                if !matches!(variant.fields, Fields::Unit) {
                    errors.spanned(
                        &variant.fields,
                        format!(
                            "`Options` can only list fieldless variants; `{}` has fields: \
                             write the options out with `#[action(options = [...])]`",
                            variant.ident
                        ),
                    );
                }
            }
            data.variants.iter().map(|v| &v.ident).collect::<Vec<_>>()
        }
        Data::Struct(data) => {
            errors.spanned(
                data.struct_token,
                "`Options` can be derived for fieldless enums only",
            );
            Vec::new()
        }
        Data::Union(data) => {
            errors.spanned(
                data.union_token,
                "`Options` can be derived for fieldless enums only",
            );
            Vec::new()
        }
    };
    // With errors, the impl is still emitted, with a body that never runs (the program does
    // not compile), so that every action taking the type does not report it missing.
    let body = if errors.is_empty() {
        quote!(::std::vec![#(Self::#variants),*])
    } else {
        quote!(::core::unreachable!(
            "the type's `Options` derive did not compile"
        ))
    };
    let compile_errors = errors.to_compile_errors();
    let ident = &input.ident;
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        impl #impl_generics ::combtest::__private::Options for #ident #type_generics #where_clause {
            fn all_options() -> ::std::vec::Vec<Self> {
                #body
            }
        }
        #compile_errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_variant_in_order() {
        let out = expand(quote!(
            enum Theme {
                Light,
                Dark = 5,
            }
        ))
        .to_string();
        assert!(
            out.contains("vec ! [Self :: Light , Self :: Dark]"),
            "{out}"
        );
    }

    #[test]
    fn rejects_fields_structs_and_empty_enums() {
        let out = expand(quote!(
            enum E {
                A(u8),
                B { x: u8 },
                C,
            }
        ))
        .to_string();
        assert_eq!(out.matches("compile_error").count(), 2, "{out}");
        assert!(out.contains("`A` has fields"), "{out}");
        assert!(
            out.contains("Options for E") && out.contains("unreachable"),
            "the impl stands in, so uses of the type report nothing more: {out}"
        );
        let out = expand(quote!(
            struct S;
        ))
        .to_string();
        assert!(out.contains("fieldless enums only"), "{out}");
        let out = expand(quote!(
            enum Never {}
        ))
        .to_string();
        assert!(out.contains("without variants"), "{out}");
    }
}
