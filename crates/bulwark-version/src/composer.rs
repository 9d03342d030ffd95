//! PHP `version_compare` ordering, as used for Packagist (Composer) versions.

use std::cmp::Ordering;

use crate::number::Number;
use crate::{Scheme, VersionParseError, trimmed};

/// A Packagist version, canonicalised like PHP's `version_compare` after dropping leading
/// `v`/`V`: `-`, `_`, `+` become `.`, and a `.` goes between digits and non-digits.
#[derive(Debug, Clone)]
pub struct ComposerVersion {
    tokens: Box<[Token]>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A run of digits. PHP reads it with `strtol`, which saturates; the OSV reference
    /// implementation and its vectors compare the full value.
    Number(Number),
    /// A word, by the rank of the special form it starts with.
    Word(i8),
}

/// The rank of `#`, the stand-in for a number when a number meets a word.
const NUMBER_RANK: i8 = 4;

/// `compare_special_version_forms`: the first special form that is a prefix of the word.
fn special_rank(word: &[u8]) -> i8 {
    const FORMS: [(&[u8], i8); 10] = [
        (b"dev", 0),
        (b"alpha", 1),
        (b"a", 1),
        (b"beta", 2),
        (b"b", 2),
        (b"RC", 3),
        (b"rc", 3),
        (b"#", NUMBER_RANK),
        (b"pl", 5),
        (b"p", 5),
    ];
    FORMS
        .iter()
        .find(|(form, _)| word.starts_with(form))
        .map_or(-1, |(_, rank)| *rank)
}

/// `php_canonicalize_version`. Other punctuation is kept as it is, so `1.2.3.#` reads `#` as
/// the special form that stands for a number.
fn canonicalize(version: &[u8]) -> Vec<u8> {
    let is_digit = |byte: u8| byte.is_ascii_digit();
    let is_non_digit = |byte: u8| !byte.is_ascii_digit() && byte != b'.';
    let Some((&first, rest)) = version.split_first() else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(version.len() * 2);
    out.push(first);
    let mut previous = first;
    for &byte in rest {
        let last_is_dot = out.last() == Some(&b'.');
        if matches!(byte, b'-' | b'_' | b'+') {
            if !last_is_dot {
                out.push(b'.');
            }
        } else if (is_non_digit(previous) && is_digit(byte))
            || (is_digit(previous) && is_non_digit(byte))
        {
            if !last_is_dot {
                out.push(b'.');
            }
            out.push(byte);
        } else {
            out.push(byte);
        }
        previous = byte;
    }
    out
}

fn leading_number(token: &[u8]) -> Number {
    let end = token
        .iter()
        .position(|byte| !byte.is_ascii_digit())
        .unwrap_or(token.len());
    // The slice is ASCII digits, so it is valid UTF-8.
    Number::from_digits(std::str::from_utf8(&token[..end]).unwrap_or_default())
}

impl ComposerVersion {
    pub(crate) fn parse(text: &str) -> Result<Self, VersionParseError> {
        let body = trimmed(Scheme::Composer, text)?;
        let body = body.trim_start_matches(['v', 'V']);
        if body.is_empty() {
            return Ok(Self {
                tokens: Box::default(),
            });
        }
        let canonical = canonicalize(body.as_bytes());
        let tokens = canonical
            .split(|byte| *byte == b'.')
            .map(|token| {
                if token.first().is_some_and(u8::is_ascii_digit) {
                    Token::Number(leading_number(token))
                } else {
                    Token::Word(special_rank(token))
                }
            })
            .collect();
        Ok(Self { tokens })
    }
}

fn compare_tokens(left: &Token, right: &Token) -> Ordering {
    match (left, right) {
        (Token::Number(left), Token::Number(right)) => left.cmp(right),
        (Token::Word(left), Token::Word(right)) => left.cmp(right),
        (Token::Number(_), Token::Word(right)) => NUMBER_RANK.cmp(right),
        (Token::Word(left), Token::Number(_)) => left.cmp(&NUMBER_RANK),
    }
}

/// The longer version's remaining tokens against nothing: a number is newer; a word is
/// compared with `#` (a number), and a tie moves on to the next token.
fn compare_rest(rest: &[Token]) -> Ordering {
    for token in rest {
        match *token {
            Token::Number(_) => return Ordering::Greater,
            Token::Word(rank) => {
                let result = rank.cmp(&NUMBER_RANK);
                if result.is_ne() {
                    return result;
                }
            }
        }
    }
    Ordering::Equal
}

impl Ord for ComposerVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let (left, right) = (&self.tokens, &other.tokens);
        match (left.is_empty(), right.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            (false, false) => {}
        }
        for (left, right) in left.iter().zip(right.iter()) {
            let result = compare_tokens(left, right);
            if result.is_ne() {
                return result;
            }
        }
        match left.len().cmp(&right.len()) {
            Ordering::Equal => Ordering::Equal,
            Ordering::Greater => compare_rest(&left[right.len()..]),
            Ordering::Less => compare_rest(&right[left.len()..]).reverse(),
        }
    }
}

impl PartialEq for ComposerVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for ComposerVersion {}

impl PartialOrd for ComposerVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
