//! Evaluating one OSV range (`ECOSYSTEM` or `SEMVER`) for one version.
//!
//! The events are parsed once per package ([`PreparedEvents::prepare`]) and sorted by
//! version; [`PreparedEvents::evaluate`] then walks them for each version to check, as the
//! OSV specification's evaluation algorithm does:
//!
//! - `introduced` at or below the version opens the range (`introduced: "0"` is below every
//!   version and is never parsed);
//! - `fixed` at or below the version closes it (the fixed version itself is not affected);
//! - `last_affected` strictly below the version closes it (the last affected version itself
//!   is affected);
//! - `limit` events bound the whole range: a version is only affected when it is below at
//!   least one limit (`limit: "*"` is no bound).
//!
//! Events at equal versions sort `introduced` first, so `introduced: 1.0, last_affected: 1.0`
//! affects exactly `1.0` and `introduced: 1.0, fixed: 1.0` affects nothing.

use std::cmp::Ordering;

use bulwark_vulndb::osv::Event;

/// Which of the four OSV event keys an event has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum EventKind {
    Introduced,
    Fixed,
    LastAffected,
    Limit,
}

impl EventKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Introduced => "introduced",
            Self::Fixed => "fixed",
            Self::LastAffected => "last_affected",
            Self::Limit => "limit",
        }
    }
}

/// An event's version, parsed; `introduced: "0"` is [`Bound::Bottom`] and `limit: "*"` is
/// [`Bound::Top`], neither of which is a version of any scheme.
#[derive(Debug, Clone)]
pub(crate) enum Bound<P> {
    Bottom,
    Version(P),
    Top,
}

/// One event, parsed.
#[derive(Debug, Clone)]
pub(crate) struct PreparedEvent<P> {
    pub(crate) kind: EventKind,
    pub(crate) text: String,
    pub(crate) bound: Bound<P>,
}

impl<P> PreparedEvent<P> {
    /// The event in OSV's own shape, for explanations.
    pub(crate) fn to_event(&self) -> Event {
        let text = self.text.clone();
        match self.kind {
            EventKind::Introduced => Event::Introduced(text),
            EventKind::Fixed => Event::Fixed(text),
            EventKind::LastAffected => Event::LastAffected(text),
            EventKind::Limit => Event::Limit(text),
        }
    }

    fn describe(&self) -> String {
        format!("{} {}", self.kind.as_str(), self.text)
    }
}

/// The events of one range, parsed and sorted by version.
#[derive(Debug, Clone)]
pub(crate) struct PreparedEvents<P> {
    events: Vec<PreparedEvent<P>>,
}

/// Why a version is inside a range.
#[derive(Debug, Clone)]
pub(crate) struct Inside {
    /// The events that bracket the version: the `introduced` that opened the range, the
    /// closing event above it (if any) and the limit that bounds it (if any).
    pub(crate) events: Vec<Event>,
    /// The comparisons, e.g. `introduced 0 <= 2.1.2 < fixed 2.2.0`.
    pub(crate) comparison: String,
    /// Every `fixed` version of the range above the checked version.
    pub(crate) fixed_above: Vec<String>,
    /// The `last_affected` event that closes the interval holding the version, if any.
    pub(crate) last_affected: Option<String>,
}

impl<P> PreparedEvents<P> {
    /// Parses and sorts `events` with `parse` and `compare`.
    ///
    /// # Errors
    /// The first event whose version `parse` rejects.
    pub(crate) fn prepare<E>(
        events: &[Event],
        parse: impl Fn(&str) -> Result<P, E>,
        compare: impl Fn(&P, &P) -> Ordering,
    ) -> Result<Self, E> {
        let mut prepared = Vec::with_capacity(events.len());
        for event in events {
            let (kind, text) = match event {
                Event::Introduced(text) => (EventKind::Introduced, text),
                Event::Fixed(text) => (EventKind::Fixed, text),
                Event::LastAffected(text) => (EventKind::LastAffected, text),
                Event::Limit(text) => (EventKind::Limit, text),
            };
            let bound = match (kind, text.trim()) {
                (EventKind::Introduced, "0") => Bound::Bottom,
                (EventKind::Limit, "*") => Bound::Top,
                (_, trimmed) => Bound::Version(parse(trimmed)?),
            };
            prepared.push(PreparedEvent {
                kind,
                text: text.clone(),
                bound,
            });
        }
        prepared.sort_by(|left, right| {
            compare_bounds(&left.bound, &right.bound, &compare).then(left.kind.cmp(&right.kind))
        });
        Ok(Self { events: prepared })
    }

    /// Whether `version` (written `text`) is inside the range, and why.
    pub(crate) fn evaluate(
        &self,
        version: &P,
        text: &str,
        compare: impl Fn(&P, &P) -> Ordering,
    ) -> Option<Inside> {
        // `version` compared with an event: Greater means the version is above the event.
        let against = |bound: &Bound<P>| match bound {
            Bound::Bottom => Ordering::Greater,
            Bound::Top => Ordering::Less,
            Bound::Version(event) => compare(version, event),
        };

        let mut opened_by: Option<&PreparedEvent<P>> = None;
        let mut first_above = self.events.len();
        for (index, event) in self.events.iter().enumerate() {
            let relation = against(&event.bound);
            match event.kind {
                EventKind::Introduced if relation != Ordering::Less => opened_by = Some(event),
                EventKind::Fixed if relation != Ordering::Less => opened_by = None,
                EventKind::LastAffected if relation == Ordering::Greater => opened_by = None,
                EventKind::Limit => continue,
                _ => {
                    // Sorted: this event and every later one lies above the version.
                    first_above = index;
                    break;
                }
            }
        }
        let opened_by = opened_by?;

        let limits: Vec<&PreparedEvent<P>> = self
            .events
            .iter()
            .filter(|event| event.kind == EventKind::Limit)
            .collect();
        let bounding_limit = if limits.is_empty() {
            None
        } else {
            Some(
                *limits
                    .iter()
                    .find(|limit| against(&limit.bound) == Ordering::Less)?,
            )
        };

        let closing = self.events[first_above..]
            .iter()
            .find(|event| matches!(event.kind, EventKind::Fixed | EventKind::LastAffected));

        let mut comparison = format!("{} <= {text}", opened_by.describe());
        let mut events = vec![opened_by.to_event()];
        let mut last_affected = None;
        if let Some(closing) = closing {
            let operator = if closing.kind == EventKind::Fixed {
                "<"
            } else {
                last_affected = Some(closing.text.clone());
                "<="
            };
            comparison.push_str(&format!(" {operator} {}", closing.describe()));
            events.push(closing.to_event());
        }
        if let Some(limit) = bounding_limit {
            comparison.push_str(&format!(" < {}", limit.describe()));
            events.push(limit.to_event());
        }
        if closing.is_none() && bounding_limit.is_none() {
            comparison.push_str(" (no fixed, last_affected or limit event above it)");
        }
        let fixed_above = self
            .events
            .iter()
            .filter(|event| {
                event.kind == EventKind::Fixed && against(&event.bound) == Ordering::Less
            })
            .map(|event| event.text.clone())
            .collect();
        Some(Inside {
            events,
            comparison,
            fixed_above,
            last_affected,
        })
    }
}

fn compare_bounds<P>(
    left: &Bound<P>,
    right: &Bound<P>,
    compare: impl Fn(&P, &P) -> Ordering,
) -> Ordering {
    match (left, right) {
        (Bound::Bottom, Bound::Bottom) | (Bound::Top, Bound::Top) => Ordering::Equal,
        (Bound::Bottom, _) | (_, Bound::Top) => Ordering::Less,
        (_, Bound::Bottom) | (Bound::Top, _) => Ordering::Greater,
        (Bound::Version(left), Bound::Version(right)) => compare(left, right),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::VersionOrder as _;
    use crate::version::toy::DottedOrder;
    use bulwark_inventory::Ecosystem;

    fn events(spec: &[(&str, &str)]) -> Vec<Event> {
        spec.iter()
            .map(|(kind, version)| {
                let version = (*version).to_owned();
                match *kind {
                    "introduced" => Event::Introduced(version),
                    "fixed" => Event::Fixed(version),
                    "last_affected" => Event::LastAffected(version),
                    "limit" => Event::Limit(version),
                    other => panic!("unknown event kind {other}"),
                }
            })
            .collect()
    }

    fn inside(spec: &[(&str, &str)], version: &str) -> Option<Inside> {
        let order = DottedOrder;
        let prepared = PreparedEvents::prepare(
            &events(spec),
            |text| order.parse(Ecosystem::PyPI, text),
            |left, right| order.compare(left, right),
        )
        .unwrap();
        let parsed = order.parse(Ecosystem::PyPI, version).unwrap();
        prepared.evaluate(&parsed, version, |left, right| order.compare(left, right))
    }

    fn affected(spec: &[(&str, &str)], version: &str) -> bool {
        inside(spec, version).is_some()
    }

    #[test]
    fn introduced_fixed() {
        let spec = [("introduced", "1.0"), ("fixed", "2.0")];
        assert!(!affected(&spec, "0.9"));
        assert!(affected(&spec, "1.0"));
        assert!(affected(&spec, "1.9.9"));
        assert!(!affected(&spec, "2.0"));
        assert!(
            !affected(&spec, "2.0.0"),
            "2.0.0 equals 2.0 in the toy order"
        );
        assert!(!affected(&spec, "3"));
    }

    #[test]
    fn introduced_zero_is_below_everything() {
        let spec = [("introduced", "0"), ("fixed", "2.2.0")];
        let found = inside(&spec, "2.1.2").unwrap();
        assert_eq!(found.comparison, "introduced 0 <= 2.1.2 < fixed 2.2.0");
        assert_eq!(found.fixed_above, ["2.2.0"]);
        assert!(affected(&spec, "0"));
        assert!(affected(&spec, "0.0.1"));
    }

    #[test]
    fn last_affected_is_inclusive() {
        let spec = [("introduced", "1.0"), ("last_affected", "1.5")];
        assert!(affected(&spec, "1.5"));
        assert!(!affected(&spec, "1.5.1"));
        let found = inside(&spec, "1.2").unwrap();
        assert_eq!(
            found.comparison,
            "introduced 1.0 <= 1.2 <= last_affected 1.5"
        );
        assert_eq!(found.last_affected.as_deref(), Some("1.5"));
        assert!(found.fixed_above.is_empty());
    }

    #[test]
    fn open_ended() {
        let spec = [("introduced", "3.0")];
        let found = inside(&spec, "99").unwrap();
        assert_eq!(
            found.comparison,
            "introduced 3.0 <= 99 (no fixed, last_affected or limit event above it)"
        );
        assert!(!affected(&spec, "2.9"));
    }

    #[test]
    fn limit_bounds_the_range() {
        let spec = [("introduced", "0"), ("limit", "2.0")];
        assert!(affected(&spec, "1.9"));
        assert!(!affected(&spec, "2.0"));
        assert!(!affected(&spec, "5"));
        let star = [("introduced", "1.0"), ("limit", "*")];
        assert!(affected(&star, "100"));
        // A limit above the fix changes nothing.
        let both = [("introduced", "1.0"), ("fixed", "1.5"), ("limit", "3.0")];
        assert!(affected(&both, "1.2"));
        assert!(!affected(&both, "2.0"));
        assert_eq!(
            inside(&both, "1.2").unwrap().comparison,
            "introduced 1.0 <= 1.2 < fixed 1.5 < limit 3.0"
        );
    }

    #[test]
    fn several_intervals_in_one_range_and_unsorted_events() {
        // As urllib3's PYSEC-2023-192 writes them: the 2.x interval first.
        let spec = [
            ("introduced", "2.0.0"),
            ("fixed", "2.0.6"),
            ("introduced", "0"),
            ("fixed", "1.26.17"),
        ];
        assert!(affected(&spec, "1.26.15"));
        assert!(!affected(&spec, "1.26.17"));
        assert!(!affected(&spec, "1.27"));
        assert!(affected(&spec, "2.0.0"));
        assert!(affected(&spec, "2.0.5"));
        assert!(!affected(&spec, "2.0.6"));
        let found = inside(&spec, "1.26.15").unwrap();
        assert_eq!(found.comparison, "introduced 0 <= 1.26.15 < fixed 1.26.17");
        assert_eq!(found.fixed_above, ["1.26.17", "2.0.6"]);
    }

    #[test]
    fn equal_versions_sort_introduced_first() {
        assert!(affected(
            &[("introduced", "1.0"), ("last_affected", "1.0")],
            "1.0"
        ));
        assert!(!affected(&[("fixed", "1.0"), ("introduced", "1.0")], "1.0"));
    }

    #[test]
    fn unparsable_event_is_an_error() {
        let order = DottedOrder;
        let result = PreparedEvents::prepare(
            &events(&[("introduced", "0"), ("fixed", "1.0rc1")]),
            |text| order.parse(Ecosystem::PyPI, text),
            |left, right| order.compare(left, right),
        );
        assert!(result.is_err());
    }
}
