//! Static Ruby literals, as RubyGems writes them into installed gemspecs: strings (`"…"`,
//! `'…'`, `%q<…>`, `%Q{…}`, each optionally `.freeze`d) and one-line arrays of them.
//!
//! This is not a Ruby parser. It recognises exactly the literals whose value is known without
//! running anything, and gives up (`None`) on everything else: an interpolating string
//! (`"#{name}"`), a constant, a method call, an array with any such element.

/// A static literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    String(String),
    Array(Vec<String>),
}

/// At most this many elements are read from one array (gemspec arrays list a few authors or
/// licenses; a longer one is hostile).
const MAX_ARRAY: usize = 1_000;

/// Parses the literal at the start of `text` (leading spaces allowed). Returns the value and
/// whether the statement ends after it: only a comment or a modifier (`if …`, `unless …`)
/// may follow an assigned literal, anything else (`"a" + b`, `'a' 'b'`) makes the value
/// computed.
pub(crate) fn parse(text: &str) -> Option<(Value, bool)> {
    let text = text.trim_start();
    let (value, rest) = if let Some(inner) = text.strip_prefix('[') {
        let (items, rest) = array(inner)?;
        (Value::Array(items), rest)
    } else {
        let (string, rest) = string(text)?;
        (Value::String(string), rest)
    };
    let rest = strip_freeze(rest).trim_start();
    let ends = rest.is_empty()
        || rest.starts_with('#')
        || rest.starts_with("if ")
        || rest.starts_with("unless ");
    Some((value, ends))
}

fn strip_freeze(rest: &str) -> &str {
    rest.strip_prefix(".freeze").unwrap_or(rest)
}

/// The elements of an array whose `[` has been consumed, and the text after its `]`.
fn array(mut text: &str) -> Option<(Vec<String>, &str)> {
    let mut items = Vec::new();
    loop {
        text = text.trim_start();
        if let Some(rest) = text.strip_prefix(']') {
            return Some((items, rest));
        }
        if items.len() >= MAX_ARRAY {
            return None;
        }
        let (item, rest) = string(text)?;
        items.push(item);
        text = strip_freeze(rest).trim_start();
        if let Some(rest) = text.strip_prefix(',') {
            text = rest;
        } else if !text.starts_with(']') {
            return None;
        }
    }
}

/// A string literal at the start of `text`, and the text after it.
fn string(text: &str) -> Option<(String, &str)> {
    if let Some(rest) = text.strip_prefix('"') {
        return double_quoted(rest, '"', None);
    }
    if let Some(rest) = text.strip_prefix('\'') {
        return single_quoted(rest, '\'', None);
    }
    let rest = text.strip_prefix('%')?;
    let (interpolating, rest) = match rest.as_bytes().first()? {
        b'q' => (false, &rest[1..]),
        b'Q' => (true, &rest[1..]),
        _ => (true, rest),
    };
    let open = rest.chars().next()?;
    let close = match open {
        '<' => '>',
        '(' => ')',
        '{' => '}',
        '[' => ']',
        c if c.is_ascii_punctuation() => c,
        _ => return None,
    };
    let nesting = (open != close).then_some(open);
    let body = &rest[open.len_utf8()..];
    if interpolating {
        double_quoted(body, close, nesting)
    } else {
        single_quoted(body, close, nesting)
    }
}

/// `'…'` and `%q`: only `\\` and an escaped delimiter are escapes. Bracket delimiters nest.
fn single_quoted(text: &str, close: char, open: Option<char>) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut depth = 0usize;
    let mut chars = text.char_indices();
    while let Some((index, c)) = chars.next() {
        match c {
            '\\' => {
                let (_, next) = chars.next()?;
                if next != '\\' && next != close && Some(next) != open {
                    out.push('\\');
                }
                out.push(next);
            }
            c if c == close && depth == 0 => return Some((out, &text[index + 1..])),
            c if c == close => {
                depth -= 1;
                out.push(c);
            }
            c if Some(c) == open => {
                depth += 1;
                out.push(c);
            }
            c => out.push(c),
        }
    }
    None
}

/// `"…"`, `%Q` and `%`: backslash escapes; any interpolation (`#{`, `#@`, `#$`) makes the
/// value dynamic, so `None`.
fn double_quoted(text: &str, close: char, open: Option<char>) -> Option<(String, &str)> {
    let mut out = String::new();
    let mut depth = 0usize;
    let mut chars = text.char_indices().peekable();
    while let Some((index, c)) = chars.next() {
        match c {
            '\\' => {
                let (_, next) = chars.next()?;
                match next {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    's' => out.push(' '),
                    '0' => out.push('\0'),
                    'e' => out.push('\u{1b}'),
                    'u' => out.push(unicode_escape(&mut chars)?),
                    other => out.push(other),
                }
            }
            '#' if matches!(chars.peek(), Some((_, '{' | '@' | '$'))) => return None,
            c if c == close && depth == 0 => return Some((out, &text[index + 1..])),
            c if c == close => {
                depth -= 1;
                out.push(c);
            }
            c if Some(c) == open => {
                depth += 1;
                out.push(c);
            }
            c => out.push(c),
        }
    }
    None
}

/// The rest of `\uXXXX` or `\u{X…}` after the `u`.
fn unicode_escape(chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>) -> Option<char> {
    let mut digits = String::new();
    if chars.peek().is_some_and(|(_, c)| *c == '{') {
        chars.next();
        for (_, c) in chars.by_ref() {
            if c == '}' {
                break;
            }
            if digits.len() >= 6 {
                return None;
            }
            digits.push(c);
        }
    } else {
        for _ in 0..4 {
            digits.push(chars.next()?.1);
        }
    }
    char::from_u32(u32::from_str_radix(&digits, 16).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> Option<Value> {
        parse(text).filter(|(_, ends)| *ends).map(|(v, _)| v)
    }

    fn string_value(text: &str) -> Option<String> {
        match value(text)? {
            Value::String(s) => Some(s),
            Value::Array(_) => None,
        }
    }

    #[test]
    fn strings() {
        assert_eq!(string_value("\"1.15.4\".freeze").as_deref(), Some("1.15.4"));
        assert_eq!(string_value("'x'").as_deref(), Some("x"));
        assert_eq!(string_value("%q<racc>").as_deref(), Some("racc"));
        assert_eq!(string_value("%q{a {b} c}").as_deref(), Some("a {b} c"));
        assert_eq!(string_value("%Q(a)").as_deref(), Some("a"));
        assert_eq!(
            string_value(r#""Nokogiri (\u92F8) \"x\" \#{y}""#).as_deref(),
            Some("Nokogiri (\u{92F8}) \"x\" #{y}")
        );
        assert_eq!(string_value(r"'a\'b\\c\d'").as_deref(), Some(r"a'b\c\d"));
        assert_eq!(
            string_value("\"x\" if s.respond_to? :x=").as_deref(),
            Some("x")
        );
    }

    #[test]
    fn dynamic_values_are_refused() {
        assert_eq!(value("\"#{name}\""), None);
        assert_eq!(value("%Q<#@x>"), None);
        assert_eq!(value("VERSION"), None);
        assert_eq!(value("\"a\" + b"), None);
        assert_eq!(value("\"unterminated"), None);
        assert_eq!(value("[\"a\", b]"), None);
        assert_eq!(value("\"\\u{110000}\""), None);
    }

    #[test]
    fn arrays() {
        assert_eq!(
            value("[\"MIT\".freeze, %q<Ruby>]"),
            Some(Value::Array(vec!["MIT".into(), "Ruby".into()]))
        );
        assert_eq!(value("[]"), Some(Value::Array(vec![])));
        assert_eq!(value("[\"a\""), None);
        let huge = format!("[{}\"x\"]", "\"x\",".repeat(MAX_ARRAY + 1));
        assert_eq!(value(&huge), None);
    }
}
