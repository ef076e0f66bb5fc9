//! How one step of a walk is written in reports, traces' summaries and messages:
//! `name(param)`, or `name` alone for an action without a param.

use std::fmt;

/// The `Debug` text of the one option of an action without a param.
const NO_PARAM: &str = "()";

/// `name(param)`; `name` when the param is the `()` of an action without a param, whose
/// parentheses would say nothing.
pub(crate) struct StepText<'a, P> {
    pub(crate) name: &'a str,
    /// The param's text, as `Debug` prints it.
    pub(crate) param: P,
}

impl<P: fmt::Display> fmt::Display for StepText<'_, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let param = self.param.to_string();
        if param == NO_PARAM {
            f.write_str(self.name)
        } else {
            write!(f, "{}({param})", self.name)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unit_param_is_left_out() {
        let text = |param: &str| {
            StepText {
                name: "verify",
                param,
            }
            .to_string()
        };
        assert_eq!(text("()"), "verify");
        assert_eq!(text("3"), "verify(3)");
        assert_eq!(text("\"()\""), "verify(\"()\")");
    }
}
