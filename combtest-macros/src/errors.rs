//! Collecting several errors instead of stopping at the first.

use proc_macro2::{Span, TokenStream};
use std::fmt::Display;

/// Errors found so far; each keeps the span of the user's token it is about.
#[derive(Default)]
pub(crate) struct Errors {
    collected: Option<syn::Error>,
}

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.collected {
            Some(collected) => collected.combine(error),
            None => self.collected = Some(error),
        }
    }

    pub(crate) fn at(&mut self, span: Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    pub(crate) fn spanned(&mut self, tokens: impl quote::ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// Takes every error of `other`.
    pub(crate) fn extend(&mut self, other: Errors) {
        if let Some(error) = other.collected {
            self.push(error);
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.collected.is_none()
    }

    /// `compile_error!` invocations for every collected error (nothing when there is none).
    pub(crate) fn to_compile_errors(&self) -> TokenStream {
        self.collected
            .as_ref()
            .map(syn::Error::to_compile_error)
            .unwrap_or_default()
    }

    #[cfg(test)]
    pub(crate) fn messages(&self) -> Vec<String> {
        self.collected
            .iter()
            .flat_map(|e| e.clone().into_iter())
            .map(|e| e.to_string())
            .collect()
    }
}

/// The known name closest to `word`, if it is a plausible typo of it.
pub(crate) fn suggestion<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::levenshtein(word, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min()
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_misses_only() {
        assert_eq!(suggestion("option", &["options"]), Some("options"));
        assert_eq!(suggestion("theads", &["threads", "state"]), Some("threads"));
        assert_eq!(suggestion("colour", &["options"]), None);
    }

    #[test]
    fn collects_every_error() {
        let mut errors = Errors::default();
        assert!(errors.is_empty());
        errors.at(Span::call_site(), "first");
        errors.at(Span::call_site(), "second");
        assert_eq!(errors.messages(), vec!["first", "second"]);
    }
}
