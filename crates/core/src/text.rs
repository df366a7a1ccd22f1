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
