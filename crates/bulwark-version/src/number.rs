//! Unbounded non-negative integers for version components.

use std::cmp::Ordering;

/// A non-negative integer of any length, as written in a version string.
///
/// Values that fit in a `u64` are stored inline; longer digit runs keep their digits (leading
/// zeros removed), so `999999999999999999999999999991` still orders correctly.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Number {
    Small(u64),
    Big(Box<str>),
}

impl Number {
    pub(crate) const ZERO: Self = Self::Small(0);

    /// Reads a run of ASCII digits. An empty run reads as zero.
    pub(crate) fn from_digits(digits: &str) -> Self {
        debug_assert!(digits.bytes().all(|byte| byte.is_ascii_digit()));
        let trimmed = digits.trim_start_matches('0');
        if trimmed.len() <= 19 {
            let mut value = 0_u64;
            for byte in trimmed.bytes() {
                value = value * 10 + u64::from(byte - b'0');
            }
            return Self::Small(value);
        }
        match trimmed.parse::<u64>() {
            Ok(value) => Self::Small(value),
            Err(_) => Self::Big(trimmed.into()),
        }
    }

    pub(crate) fn is_zero(&self) -> bool {
        matches!(self, Self::Small(0))
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Self::Small(left), Self::Small(right)) => left.cmp(right),
            (Self::Small(_), Self::Big(_)) => Ordering::Less,
            (Self::Big(_), Self::Small(_)) => Ordering::Greater,
            (Self::Big(left), Self::Big(right)) => {
                left.len().cmp(&right.len()).then_with(|| left.cmp(right))
            }
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Splits `text` at the end of its leading run of ASCII digits.
pub(crate) fn split_digits(text: &str) -> (&str, &str) {
    let end = text
        .bytes()
        .position(|byte| !byte.is_ascii_digit())
        .unwrap_or(text.len());
    text.split_at(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_by_value_whatever_the_length() {
        let values = [
            "0",
            "007",
            "18446744073709551615",
            "18446744073709551616",
            "999999999999999999999999999991",
            "999999999999999999999999999999",
        ];
        for pair in values.windows(2) {
            assert!(
                Number::from_digits(pair[0]) < Number::from_digits(pair[1]),
                "{pair:?}"
            );
        }
        assert_eq!(Number::from_digits(""), Number::ZERO);
        assert_eq!(Number::from_digits("000"), Number::ZERO);
    }
}
