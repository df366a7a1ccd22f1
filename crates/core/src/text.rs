//! Small plain-text helpers shared by the pure stages (the readers' recognisers and identity).
//! No I/O.

/// The text with everything in round or square brackets removed, brackets included: a form's
/// notes beside a heading ("(name / date of birth)") or a name ("(née Jones)"). Nested brackets
/// are removed whole; an unmatched closing bracket is dropped.
pub fn outside_brackets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// A stored spelling that names no variant of the enum it was read as: a typed error at read,
/// never a silent branch. Carries the enum's name and the (truncated) text found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownSpelling {
    pub kind: &'static str,
    pub value: String,
}

impl std::fmt::Display for UnknownSpelling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} is not a known {}", self.value, self.kind)
    }
}

impl std::error::Error for UnknownSpelling {}

/// Reads an enum stored as text back: the variant of `all` whose one spelling (`spell`, the
/// enum's `as_str`) is exactly `s`. The `FromStr` of every stored enum goes through here, so
/// `as_str` stays its only spelling.
pub fn from_spelling<T: Copy>(all: &[T], spell: fn(T) -> &'static str, kind: &'static str, s: &str) -> Result<T, UnknownSpelling> {
    all.iter().copied().find(|v| spell(*v) == s).ok_or_else(|| UnknownSpelling { kind, value: s.chars().take(40).collect() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_and_what_they_hold_are_removed() {
        assert_eq!(outside_brackets("Karen Smith (née Jones)"), "Karen Smith ");
        assert_eq!(outside_brackets("Children [name (first) / DOB] in the household"), "Children  in the household");
        assert_eq!(outside_brackets("a) b (c"), "a b ");
        assert_eq!(outside_brackets("no brackets"), "no brackets");
    }
}
