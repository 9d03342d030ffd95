//! Maven `ComparableVersion`, ported from Apache Maven 3.9 (Apache-2.0,
//! `org.apache.maven.artifact.versioning.ComparableVersion` in `maven-artifact`), the
//! implementation that ordered the OSV Maven test vectors.
//!
//! A version is a list of items. `.` separates items of one list; `-`, and a change between
//! letters and digits, opens a nested list. A nested list sorts before a number
//! (`1-1 < 1.1`) and after a qualifier (`1-1 > 1-sp`). Trailing "null" items (zero, empty and
//! release qualifiers, empty lists) are dropped, so `1.0.0` = `1` = `1-ga`.

use std::cmp::Ordering;

use crate::number::Number;
use crate::{ParseErrorKind, Scheme, VersionParseError, trimmed};

/// Longest version Maven accepts; it also bounds the nesting depth of the item lists.
const MAX_LENGTH: usize = 256;

/// A Maven version, ordered like `ComparableVersion`.
#[derive(Debug, Clone)]
pub struct MavenVersion {
    items: Vec<Item>,
}

#[derive(Debug, Clone)]
enum Item {
    Number(Number),
    Text(Rank),
    List(Vec<Item>),
}

/// Known qualifiers by index, then unknown ones in lexical order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    Known(u8),
    Unknown(Box<str>),
}

/// The rank of a release: no qualifier, `ga`, `final`, `release`.
const RELEASE: Rank = Rank::Known(5);

fn qualifier(text: &str, followed_by_digit: bool) -> Rank {
    let text = match text {
        "a" if followed_by_digit => "alpha",
        "b" if followed_by_digit => "beta",
        "m" if followed_by_digit => "milestone",
        other => other,
    };
    match text {
        "alpha" => Rank::Known(0),
        "beta" => Rank::Known(1),
        "milestone" => Rank::Known(2),
        "rc" | "cr" => Rank::Known(3),
        "snapshot" => Rank::Known(4),
        "" | "ga" | "final" | "release" => RELEASE,
        "sp" => Rank::Known(6),
        other => Rank::Unknown(other.into()),
    }
}

impl Item {
    fn is_null(&self) -> bool {
        match self {
            Self::Number(number) => number.is_zero(),
            Self::Text(rank) => *rank == RELEASE,
            Self::List(items) => items.is_empty(),
        }
    }

    /// `compareTo(null)`: how the item compares with a missing item.
    fn compare_to_null(&self) -> Ordering {
        match self {
            Self::Number(number) => {
                if number.is_zero() {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                }
            }
            Self::Text(rank) => rank.cmp(&RELEASE),
            Self::List(items) => items
                .iter()
                .map(Self::compare_to_null)
                .find(|ordering| ordering.is_ne())
                .unwrap_or(Ordering::Equal),
        }
    }

    fn compare(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Self::Number(left), Self::Number(right)) => left.cmp(right),
            (Self::Number(_), _) => Ordering::Greater,
            (Self::Text(_), Self::Number(_) | Self::List(_)) => Ordering::Less,
            (Self::Text(left), Self::Text(right)) => left.cmp(right),
            (Self::List(_), Self::Number(_)) => Ordering::Less,
            (Self::List(_), Self::Text(_)) => Ordering::Greater,
            (Self::List(left), Self::List(right)) => compare_lists(left, right),
        }
    }
}

fn compare_lists(left: &[Item], right: &[Item]) -> Ordering {
    for index in 0..left.len().max(right.len()) {
        let result = match (left.get(index), right.get(index)) {
            (Some(left), Some(right)) => left.compare(right),
            (Some(left), None) => left.compare_to_null(),
            (None, Some(right)) => right.compare_to_null().reverse(),
            (None, None) => Ordering::Equal,
        };
        if result.is_ne() {
            return result;
        }
    }
    Ordering::Equal
}

fn parse_item(is_digit: bool, text: &str) -> Item {
    if is_digit {
        Item::Number(Number::from_digits(text))
    } else {
        Item::Text(qualifier(text, false))
    }
}

/// Drops trailing null items, looking past nested lists.
fn normalize(items: &mut Vec<Item>) {
    let mut index = items.len();
    while index > 0 {
        index -= 1;
        if items[index].is_null() {
            items.remove(index);
        } else if !matches!(items[index], Item::List(_)) {
            break;
        }
    }
}

impl MavenVersion {
    pub(crate) fn parse(text: &str) -> Result<Self, VersionParseError> {
        let body = trimmed(Scheme::Maven, text)?;
        if body.chars().count() > MAX_LENGTH {
            return Err(VersionParseError::new(
                Scheme::Maven,
                text,
                ParseErrorKind::TooLong { limit: MAX_LENGTH },
            ));
        }
        let lower = body.to_lowercase();
        // The innermost list is last; each list is the last item of the one before it.
        let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
        let mut is_digit = false;
        let mut start = 0;
        for (index, character) in lower.char_indices() {
            if character == '.' || character == '-' {
                let item = if index == start {
                    Item::Number(Number::ZERO)
                } else {
                    parse_item(is_digit, &lower[start..index])
                };
                push(&mut stack, item);
                start = index + 1;
                if character == '-' {
                    stack.push(Vec::new());
                }
            } else if character.is_ascii_digit() {
                if !is_digit && index > start {
                    // `1.0.0.X1 < 1.0.0-X2`: treat `.X` as `-X` for any qualifier X.
                    open_list_unless_empty(&mut stack);
                    push(
                        &mut stack,
                        Item::Text(qualifier(&lower[start..index], true)),
                    );
                    start = index;
                    stack.push(Vec::new());
                }
                is_digit = true;
            } else {
                if is_digit && index > start {
                    push(&mut stack, parse_item(true, &lower[start..index]));
                    start = index;
                    stack.push(Vec::new());
                }
                is_digit = false;
            }
        }
        if lower.len() > start {
            if !is_digit {
                open_list_unless_empty(&mut stack);
            }
            push(&mut stack, parse_item(is_digit, &lower[start..]));
        }
        let mut child: Option<Vec<Item>> = None;
        while let Some(mut list) = stack.pop() {
            if let Some(inner) = child.take() {
                list.push(Item::List(inner));
            }
            normalize(&mut list);
            child = Some(list);
        }
        let items = child.unwrap_or_default();
        Ok(Self { items })
    }
}

fn push(stack: &mut [Vec<Item>], item: Item) {
    if let Some(list) = stack.last_mut() {
        list.push(item);
    }
}

fn open_list_unless_empty(stack: &mut Vec<Vec<Item>>) {
    if stack.last().is_some_and(|list| !list.is_empty()) {
        stack.push(Vec::new());
    }
}

impl Ord for MavenVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_lists(&self.items, &other.items)
    }
}

impl PartialOrd for MavenVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for MavenVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for MavenVersion {}
