//! apk-tools version ordering (Alpine, Wolfi, Chainguard), written from the documented grammar
//! `number{.number}...{letter}{_suffix{number}}...{~hash}{-r#}` and apk-tools' test vectors.
//!
//! A version reads as a sequence of tokens. Two versions compare token by token; when the
//! token kinds differ, the one that continues with a number or letter is newer, a pre-release
//! suffix (`_alpha`, `_beta`, `_pre`, `_rc`) is older than anything, and an invalid token is
//! older still.

use std::cmp::Ordering;

use crate::number::{Number, split_digits};
use crate::{Scheme, VersionParseError, trimmed};

/// An apk package version.
#[derive(Debug, Clone)]
pub struct ApkVersion {
    tokens: Box<[Token]>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A numeric component. After the first, one that starts with `0` compares as a decimal
    /// fraction, i.e. by its digits as text.
    Digit {
        value: Number,
        digits: Box<str>,
        is_first: bool,
    },
    Letter(u8),
    /// `_alpha` … `_p`, by weight; [`NO_SUFFIX`] is the weight of no suffix.
    Suffix(u8),
    SuffixNumber(Number),
    Hash(Box<str>),
    Revision(Number),
    End,
    /// Something the grammar does not allow: the offending character's code plus one, or 0
    /// where the rest of the string is ignored.
    Invalid(u32),
}

const SUFFIXES: [&str; 9] = ["alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"];
/// Weight of "no suffix": `_alpha`.. `_rc` are below it, `_cvs`.. `_p` above.
const NO_SUFFIX: u8 = 4;

fn suffix_weight(word: &str) -> Option<u8> {
    let index = SUFFIXES.iter().position(|suffix| *suffix == word)?;
    let index = u8::try_from(index).ok()?;
    Some(if index < NO_SUFFIX { index } else { index + 1 })
}

impl Token {
    /// Rank used when two tokens of different kinds meet: higher is newer.
    fn rank(&self) -> u8 {
        match self {
            Self::Invalid(_) => 0,
            Self::Suffix(weight) if *weight < NO_SUFFIX => 1,
            Self::End => 2,
            Self::Revision(_) => 3,
            Self::Hash(_) => 4,
            Self::SuffixNumber(_) => 5,
            Self::Suffix(_) => 6,
            Self::Letter(_) => 7,
            Self::Digit { .. } => 8,
        }
    }

    fn compare(&self, other: &Self) -> Ordering {
        match (self, other) {
            (
                Self::Digit {
                    value: left,
                    digits: left_digits,
                    is_first: left_first,
                },
                Self::Digit {
                    value: right,
                    digits: right_digits,
                    is_first: right_first,
                },
            ) => {
                let fractional = !*left_first
                    && !*right_first
                    && (left_digits.starts_with('0') || right_digits.starts_with('0'));
                if fractional {
                    left_digits.cmp(right_digits)
                } else {
                    left.cmp(right)
                }
            }
            (Self::Letter(left), Self::Letter(right)) => left.cmp(right),
            (Self::Suffix(left), Self::Suffix(right)) => left.cmp(right),
            (Self::SuffixNumber(left), Self::SuffixNumber(right))
            | (Self::Revision(left), Self::Revision(right)) => left.cmp(right),
            (Self::Hash(left), Self::Hash(right)) => left.cmp(right),
            (Self::Invalid(left), Self::Invalid(right)) => left.cmp(right),
            (Self::End, Self::End) => Ordering::Equal,
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

/// What the tokenizer expects next.
#[derive(Clone, Copy)]
enum Expect {
    Digit,
    /// After a number: separator, letter, suffix, hash, revision or end.
    AfterDigit,
    /// After a letter: a number, suffix, hash, revision or end.
    AfterLetter,
    AfterSuffix,
    AfterHash,
}

fn tokenize(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut position = 0;
    let mut expect = Expect::Digit;
    let invalid_at = |position: usize| {
        text[position..]
            .chars()
            .next()
            .map_or(0, |character| u32::from(character) + 1)
    };
    loop {
        let next = bytes.get(position).copied();
        match expect {
            Expect::Digit => {
                let (digits, _) = split_digits(&text[position..]);
                if digits.is_empty() {
                    if next.is_none() {
                        tokens.push(Token::Invalid(0));
                        break;
                    }
                    // Skip the offending character and look for a number again.
                    let character = invalid_at(position);
                    tokens.push(Token::Invalid(character));
                    position += text[position..].chars().next().map_or(1, char::len_utf8);
                    continue;
                }
                let is_first = !tokens
                    .iter()
                    .any(|token| matches!(token, Token::Digit { .. }));
                tokens.push(Token::Digit {
                    value: Number::from_digits(digits),
                    digits: digits.into(),
                    is_first,
                });
                position += digits.len();
                expect = Expect::AfterDigit;
            }
            Expect::AfterDigit | Expect::AfterLetter | Expect::AfterSuffix | Expect::AfterHash => {
                let Some(byte) = next else {
                    tokens.push(Token::End);
                    break;
                };
                match (expect, byte) {
                    (Expect::AfterDigit, b'.') => {
                        position += 1;
                        expect = Expect::Digit;
                    }
                    (Expect::AfterDigit, letter) if letter.is_ascii_alphabetic() => {
                        tokens.push(Token::Letter(letter));
                        position += 1;
                        expect = Expect::AfterLetter;
                    }
                    (Expect::AfterLetter, digit) if digit.is_ascii_digit() => {
                        expect = Expect::Digit;
                    }
                    (Expect::AfterDigit | Expect::AfterLetter | Expect::AfterSuffix, b'_') => {
                        let start = position + 1;
                        let end = bytes[start..]
                            .iter()
                            .position(|byte| !byte.is_ascii_lowercase())
                            .map_or(bytes.len(), |offset| start + offset);
                        let Some(weight) = suffix_weight(&text[start..end]) else {
                            tokens.push(Token::Invalid(0));
                            break;
                        };
                        tokens.push(Token::Suffix(weight));
                        let (digits, _) = split_digits(&text[end..]);
                        if !digits.is_empty() {
                            tokens.push(Token::SuffixNumber(Number::from_digits(digits)));
                        }
                        position = end + digits.len();
                        expect = Expect::AfterSuffix;
                    }
                    (Expect::AfterDigit | Expect::AfterLetter | Expect::AfterSuffix, b'~') => {
                        let start = position + 1;
                        let end = bytes[start..]
                            .iter()
                            .position(|byte| !matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
                            .map_or(bytes.len(), |offset| start + offset);
                        if end == start {
                            tokens.push(Token::Invalid(0));
                            break;
                        }
                        tokens.push(Token::Hash(text[start..end].into()));
                        position = end;
                        expect = Expect::AfterHash;
                    }
                    (_, b'-') => {
                        // `-r#` must end the version; anything else voids the rest.
                        let rest = &text[position + 1..];
                        let revision = rest
                            .strip_prefix('r')
                            .map(split_digits)
                            .filter(|(_, after)| after.is_empty());
                        match revision {
                            Some((digits, _)) => {
                                tokens.push(Token::Revision(Number::from_digits(digits)));
                                tokens.push(Token::End);
                            }
                            None => tokens.push(Token::Invalid(0)),
                        }
                        break;
                    }
                    _ => {
                        let character = invalid_at(position);
                        tokens.push(Token::Invalid(character));
                        position += text[position..].chars().next().map_or(1, char::len_utf8);
                        expect = Expect::Digit;
                    }
                }
            }
        }
    }
    tokens
}

impl ApkVersion {
    pub(crate) fn parse(text: &str) -> Result<Self, VersionParseError> {
        let body = trimmed(Scheme::Apk, text)?;
        Ok(Self {
            tokens: tokenize(body).into_boxed_slice(),
        })
    }

    /// Whether the version follows apk's grammar. Invalid versions still order (after the
    /// manner of apk-tools), but before any valid version with the same prefix.
    pub fn is_valid(&self) -> bool {
        !self
            .tokens
            .iter()
            .any(|token| matches!(token, Token::Invalid(_)))
    }
}

impl Ord for ApkVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        for (left, right) in self.tokens.iter().zip(other.tokens.iter()) {
            let result = left.compare(right);
            if result.is_ne() {
                return result;
            }
            if matches!(left, Token::End) {
                return Ordering::Equal;
            }
        }
        // Both sequences end in `End` or `Invalid(0)`, so equal prefixes mean equal lengths.
        self.tokens.len().cmp(&other.tokens.len())
    }
}

impl PartialOrd for ApkVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for ApkVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for ApkVersion {}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(text: &str) -> ApkVersion {
        ApkVersion::parse(text).unwrap()
    }

    #[test]
    fn suffix_order() {
        let ordered = [
            "1.0_alpha",
            "1.0_beta",
            "1.0_pre",
            "1.0_rc1",
            "1.0",
            "1.0-r1",
            "1.0_cvs",
            "1.0_svn",
            "1.0_git",
            "1.0_hg",
            "1.0_p1",
            "1.0a",
            "1.0.1",
        ];
        for pair in ordered.windows(2) {
            assert!(version(pair[0]) < version(pair[1]), "{pair:?}");
        }
        assert!(version("1.02") < version("1.1"));
        assert!(!version("1.0_foo").is_valid());
    }
}
