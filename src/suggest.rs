//! Words for help texts: "did you mean" suggestions, lists, and characters people can read.

/// The candidate closest to `input`, if it is close enough to be a likely typo: at most one edit
/// per four characters (case ignored), so that `acount` finds `account` but `acme-dev` never
/// finds `acme-prod`.
pub fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let input_lower = input.to_lowercase();
    let budget = (input.chars().count() / 4).max(1);
    candidates
        .into_iter()
        .map(|candidate| {
            let distance = strsim::damerau_levenshtein(&input_lower, &candidate.to_lowercase());
            (distance, candidate)
        })
        .filter(|(distance, _)| *distance <= budget)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// `a`, `b` or `c`, for help texts.
pub fn list<S: AsRef<str>>(items: &[S]) -> String {
    join(items, "or")
}

fn join<S: AsRef<str>>(items: &[S], word: &str) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|item| format!("`{}`", item.as_ref()))
        .collect();
    plain(&quoted, word)
}

/// `a, b and c`, without quoting, for messages.
pub fn and_list<S: AsRef<str>>(items: &[S]) -> String {
    plain(items, "and")
}

fn plain<S: AsRef<str>>(items: &[S], word: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_owned(),
        [init @ .., last] => {
            let init: Vec<&str> = init.iter().map(AsRef::as_ref).collect();
            format!("{} {word} {}", init.join(", "), last.as_ref())
        }
    }
}

/// `text` safe to print on a terminal: control characters (but line breaks and tabs) and the
/// bidirectional-text overrides are written as `\u{..}` escapes, so a name from AWS can neither
/// move the cursor, recolour the screen nor reorder what a reviewer reads.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    escape_where(text, |c| {
        (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c)
    })
}

/// [`printable`] for text that must stay on one line (a name, an address, a table cell): line
/// breaks and tabs are escaped too.
pub fn printable_line(text: &str) -> std::borrow::Cow<'_, str> {
    escape_where(text, |c| c.is_control() || is_bidi_control(c))
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn escape_where(text: &str, escaped: impl Fn(char) -> bool) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(&escaped) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if escaped(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A character as a reader can see it: `a space`, `a tab`, or the character in backticks.
pub fn describe_char(c: char) -> String {
    match c {
        ' ' => "a space".to_owned(),
        '\t' => "a tab".to_owned(),
        '\n' | '\r' => "a line break".to_owned(),
        c if c.is_control() || c.is_whitespace() => format!("the character U+{:04X}", u32::from(c)),
        c => format!("`{c}`"),
    }
}

/// The distinct characters of `text` that `allowed` rejects, described for a message, or `None`.
pub fn disallowed_chars(text: &str, allowed: impl Fn(char) -> bool) -> Option<String> {
    let mut seen: Vec<char> = Vec::new();
    for c in text.chars().filter(|c| !allowed(*c)) {
        if !seen.contains(&c) {
            seen.push(c);
        }
    }
    if seen.is_empty() {
        return None;
    }
    let described: Vec<String> = seen.iter().map(|c| describe_char(*c)).collect();
    Some(and_list(&described))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_a_close_name() {
        assert_eq!(
            closest("acount", ["accounts", "ou", "account"]),
            Some("account")
        );
        assert_eq!(
            closest("bussiness_model", ["business_model", "payer"]),
            Some("business_model")
        );
        assert_eq!(closest("Tags", ["tags", "ou"]), Some("tags"));
    }

    #[test]
    fn suggests_nothing_for_a_different_name() {
        assert_eq!(closest("zzz", ["accounts", "policies"]), None);
        assert_eq!(closest("acme-dev", ["acme-prod", "acme-audit"]), None);
        assert_eq!(
            closest("Workloads/Dev", ["Workloads", "Workloads/Prod"]),
            None
        );
    }

    #[test]
    fn lists_with_or_and_and() {
        assert_eq!(list(&["a"]), "`a`");
        assert_eq!(list(&["a", "b", "c"]), "`a`, `b` or `c`");
        assert_eq!(and_list(&["OUs", "root tags"]), "OUs and root tags");
    }

    #[test]
    fn describes_characters_people_cannot_see() {
        assert_eq!(describe_char(' '), "a space");
        assert_eq!(describe_char('<'), "`<`");
        assert_eq!(
            disallowed_chars("a <b> c", |c| c.is_alphanumeric()).as_deref(),
            Some("a space, `<` and `>`")
        );
        assert_eq!(disallowed_chars("abc", |c| c.is_alphanumeric()), None);
    }

    #[test]
    fn escapes_what_would_act_on_a_terminal() {
        assert_eq!(printable("plain\tline\n"), "plain\tline\n");
        assert_eq!(printable("red\u{1b}[31m"), "red\\u{1b}[31m");
        assert_eq!(printable("a\u{202e}b\u{7}"), "a\\u{202e}b\\u{7}");
        assert_eq!(printable_line("two\nlines\r"), "two\\u{a}lines\\u{d}");
        assert!(matches!(printable("café"), std::borrow::Cow::Borrowed(_)));
    }
}
