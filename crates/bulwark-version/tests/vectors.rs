//! Every comparison in `testdata/<Ecosystem>.txt` (copied from `shared/data/fixtures/versions`,
//! see `testdata/README.md`), and the consistency of each file's versions under the ordering.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;

use bulwark_inventory::Ecosystem;
use bulwark_version::{Scheme, Version};
use test_case::test_case;

/// Lines whose versions the ecosystem's own tool rejects, so a parse error is the right answer.
const SEMVER_EXCEPTIONS: &[(&str, &str)] = &[
    (
        "999999999999999999999999999991 < 999999999999999999999999999999",
        "numbers beyond u64 (node-semver rejects beyond 2^53 - 1, Cargo beyond u64)",
    ),
    (
        "999999999999999999999999999991.999999999999999999999999999991.999999999999999999999999999991 < 999999999999999999999999999999.999999999999999999999999999991.999999999999999999999999999991",
        "numbers beyond u64 (node-semver rejects beyond 2^53 - 1, Cargo beyond u64)",
    ),
    (
        "1.1.3.4.5 = 1.1.3.4.5",
        "five numeric parts are not SemVer (node-semver and Cargo reject it)",
    ),
];

const PUB_EXCEPTIONS: &[(&str, &str)] = &[
    (
        "999999999999999999999999999991 < 999999999999999999999999999999",
        "not MAJOR.MINOR.PATCH (pub_semver's Version.parse rejects it)",
    ),
    (
        "1.1.3.4.5 = 1.1.3.4.5",
        "five numeric parts (pub_semver's Version.parse rejects it)",
    ),
];

fn known_exceptions(ecosystem: Ecosystem) -> &'static [(&'static str, &'static str)] {
    match ecosystem {
        Ecosystem::Npm | Ecosystem::CratesIo | Ecosystem::Go | Ecosystem::Hex => SEMVER_EXCEPTIONS,
        Ecosystem::Pub => PUB_EXCEPTIONS,
        _ => &[],
    }
}

/// Why the Maven lines below disagree with Maven 3.9's `ComparableVersion`, which bulwark
/// follows (it also passes every line of Maven's own `ComparableVersionTest`).
const MAVEN_OLDER_COMPARATOR: &str = "ordered by an older maven-artifact (before `1.0.0.X1 < \
    1.0.0-X2`, treat `.X` as `-X`), whose ordering is not transitive; Maven 3.9 orders it the \
    other way";

/// Lines whose expected answer comes from an implementation that disagrees with the one
/// bulwark follows, with the answer bulwark gives. Maven's own `ComparableVersion` (the
/// maven-artifact 3.8.7 jar of Debian's `maven` package, run by hand:
/// `java -cp maven-artifact-3.x.jar org.apache.maven.artifact.versioning.ComparableVersion A B`)
/// gives bulwark's answer on every one of them.
const MAVEN_ORDER_EXCEPTIONS: &[(&str, Ordering, &str)] = &[
    (
        "1-1 = 1-ga-1",
        Ordering::Greater,
        "from an older ComparableVersionTest; in Maven 3.9 `ga` is dropped and `1-ga-1` \
         reads `1-[[1]]`, which sorts before `1-[1]`",
    ),
    (
        "1.0.0-RC16 < 1.0.0.RC8-beta",
        Ordering::Greater,
        MAVEN_OLDER_COMPARATOR,
    ),
    (
        "1.0.0-gradle-rework-beta3 < 1.0.0.RC7-3",
        Ordering::Greater,
        MAVEN_OLDER_COMPARATOR,
    ),
    (
        "2.9.0-1 < 2.9.0.RC1",
        Ordering::Greater,
        MAVEN_OLDER_COMPARATOR,
    ),
    (
        "6.1.12.rc5 < 6.1.12rc1",
        Ordering::Greater,
        MAVEN_OLDER_COMPARATOR,
    ),
    (
        "1.1.31.sec10 < 1.1.31_noneautotype",
        Ordering::Greater,
        MAVEN_OLDER_COMPARATOR,
    ),
    (
        "1.1.34.sec10 < 1.1.34_noneautotype",
        Ordering::Greater,
        MAVEN_OLDER_COMPARATOR,
    ),
    (
        "1.1.46.sec10 < 1.1.46_noneautotype",
        Ordering::Greater,
        MAVEN_OLDER_COMPARATOR,
    ),
    (
        "1.2.8.sec10_noneautotype < 1.2.8_noneautotype",
        Ordering::Greater,
        MAVEN_OLDER_COMPARATOR,
    ),
    (
        "1.2.31.sec10 < 1.2.31_noneautotype",
        Ordering::Greater,
        MAVEN_OLDER_COMPARATOR,
    ),
    (
        "1.2.48.sec10 < 1.2.48_noneautotype",
        Ordering::Greater,
        MAVEN_OLDER_COMPARATOR,
    ),
    (
        "1.2.50.sec10 < 1.2.50_noneautotype",
        Ordering::Greater,
        MAVEN_OLDER_COMPARATOR,
    ),
    (
        "1.2.54.sec10 < 1.2.54_noneautotype",
        Ordering::Greater,
        MAVEN_OLDER_COMPARATOR,
    ),
    (
        "1.2.57.sec10 < 1.2.57_noneautotype",
        Ordering::Greater,
        MAVEN_OLDER_COMPARATOR,
    ),
    (
        "1.2.60.sec10 < 1.2.60_noneautotype",
        Ordering::Greater,
        MAVEN_OLDER_COMPARATOR,
    ),
    (
        "1.2.67.sec10 < 1.2.67_noneautotype",
        Ordering::Greater,
        MAVEN_OLDER_COMPARATOR,
    ),
    (
        "1.0.0rc0 < 1.0.beta8",
        Ordering::Greater,
        MAVEN_OLDER_COMPARATOR,
    ),
    (
        "1.5.9.RC1 < 1.5.9-RC0",
        Ordering::Greater,
        MAVEN_OLDER_COMPARATOR,
    ),
    (
        "1.1.0-01-glassfish < 1.1.0.Beta1",
        Ordering::Greater,
        MAVEN_OLDER_COMPARATOR,
    ),
];

fn order_exceptions(ecosystem: Ecosystem) -> &'static [(&'static str, Ordering, &'static str)] {
    match ecosystem {
        Ecosystem::Maven => MAVEN_ORDER_EXCEPTIONS,
        _ => &[],
    }
}

struct Line {
    number: usize,
    text: String,
    left: String,
    expected: Ordering,
    right: String,
}

fn read_lines(file: &str) -> Vec<Line> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(file);
    let content = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("reading {}: {error}", path.display()));
    let mut lines = Vec::new();
    for (index, text) in content.lines().enumerate() {
        let text = text.trim_end();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = text.split(' ').collect();
        let [left, operator, right] = fields[..] else {
            panic!("{file}:{}: not `A <op> B`: {text}", index + 1);
        };
        let expected = match operator {
            "<" => Ordering::Less,
            "=" => Ordering::Equal,
            ">" => Ordering::Greater,
            other => panic!("{file}:{}: unknown operator {other}", index + 1),
        };
        lines.push(Line {
            number: index + 1,
            text: text.to_owned(),
            left: left.to_owned(),
            expected,
            right: right.to_owned(),
        });
    }
    lines
}

fn symbol(ordering: Ordering) -> &'static str {
    match ordering {
        Ordering::Less => "<",
        Ordering::Equal => "=",
        Ordering::Greater => ">",
    }
}

fn scheme_of(ecosystem: Ecosystem) -> Scheme {
    Scheme::for_ecosystem(ecosystem).unwrap_or_else(|| panic!("no scheme for {ecosystem}"))
}

#[test_case(Ecosystem::PyPI, "PyPI.txt")]
#[test_case(Ecosystem::Npm, "npm.txt")]
#[test_case(Ecosystem::CratesIo, "crates.io.txt")]
#[test_case(Ecosystem::Go, "Go.txt")]
#[test_case(Ecosystem::Hex, "Hex.txt")]
#[test_case(Ecosystem::Maven, "Maven.txt")]
#[test_case(Ecosystem::Debian, "Debian.txt")]
#[test_case(Ecosystem::Alpine, "Alpine.txt")]
#[test_case(Ecosystem::RedHat, "RedHat.txt")]
#[test_case(Ecosystem::RubyGems, "RubyGems.txt")]
#[test_case(Ecosystem::Packagist, "Packagist.txt")]
#[test_case(Ecosystem::NuGet, "NuGet.txt")]
#[test_case(Ecosystem::Cran, "CRAN.txt")]
#[test_case(Ecosystem::Hackage, "Hackage.txt")]
#[test_case(Ecosystem::Pub, "Pub.txt")]
fn every_line_compares_as_written(ecosystem: Ecosystem, file: &str) {
    let scheme = scheme_of(ecosystem);
    let exceptions = known_exceptions(ecosystem);
    let lines = read_lines(file);
    let mut failures = String::new();
    let mut failed = 0;
    for line in &lines {
        let parsed = (scheme.parse(&line.left), scheme.parse(&line.right));
        if exceptions.iter().any(|(text, _)| *text == line.text) {
            if let (Ok(_), Ok(_)) = parsed {
                failed += 1;
                let _ = writeln!(
                    failures,
                    "{file}:{}: listed as a known exception but parses now: {}",
                    line.number, line.text
                );
            }
            continue;
        }
        let (left, right) = match parsed {
            (Ok(left), Ok(right)) => (left, right),
            (Err(error), _) | (_, Err(error)) => {
                failed += 1;
                let _ = writeln!(failures, "{file}:{}: {error}", line.number);
                continue;
            }
        };
        let expected = order_exceptions(ecosystem)
            .iter()
            .find(|(text, _, _)| *text == line.text)
            .map_or(line.expected, |(_, ours, _)| *ours);
        let forward = left.try_cmp(&right);
        let backward = right.try_cmp(&left);
        if forward != Some(expected) || backward != Some(expected.reverse()) {
            failed += 1;
            let _ = writeln!(
                failures,
                "{file}:{}: expected {} got {} (reverse {})",
                line.number,
                line.text,
                forward.map_or("none", symbol),
                backward.map_or("none", symbol),
            );
        }
    }
    let unused: Vec<&str> = order_exceptions(ecosystem)
        .iter()
        .filter(|(text, _, _)| !lines.iter().any(|line| line.text == *text))
        .map(|(text, _, _)| *text)
        .collect();
    assert!(
        unused.is_empty(),
        "order exceptions not in {file}: {unused:?}"
    );
    assert!(
        failed == 0,
        "{failed} of {} lines fail:\n{failures}",
        lines.len()
    );
}

/// A small deterministic generator for sampling pairs and triples.
struct Sampler(u64);

impl Sampler {
    fn below(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let bound = u64::try_from(bound).unwrap();
        usize::try_from((self.0 >> 33) % bound).unwrap()
    }
}

fn compare(left: &Version, right: &Version) -> Ordering {
    left.try_cmp(right).expect("same scheme")
}

#[test_case(Ecosystem::PyPI, "PyPI.txt")]
#[test_case(Ecosystem::Npm, "npm.txt")]
#[test_case(Ecosystem::CratesIo, "crates.io.txt")]
#[test_case(Ecosystem::Go, "Go.txt")]
#[test_case(Ecosystem::Hex, "Hex.txt")]
#[test_case(Ecosystem::Maven, "Maven.txt")]
#[test_case(Ecosystem::Debian, "Debian.txt")]
#[test_case(Ecosystem::Alpine, "Alpine.txt")]
#[test_case(Ecosystem::RedHat, "RedHat.txt")]
#[test_case(Ecosystem::RubyGems, "RubyGems.txt")]
#[test_case(Ecosystem::Packagist, "Packagist.txt")]
#[test_case(Ecosystem::NuGet, "NuGet.txt")]
#[test_case(Ecosystem::Cran, "CRAN.txt")]
#[test_case(Ecosystem::Hackage, "Hackage.txt")]
#[test_case(Ecosystem::Pub, "Pub.txt")]
fn the_ordering_is_total_over_the_files_versions(ecosystem: Ecosystem, file: &str) {
    let scheme = scheme_of(ecosystem);
    let texts: BTreeSet<String> = read_lines(file)
        .into_iter()
        .flat_map(|line| [line.left, line.right])
        .collect();
    let mut versions: Vec<(String, Version)> = texts
        .into_iter()
        .filter_map(|text| scheme.parse(&text).ok().map(|version| (text, version)))
        .collect();
    let mut failures = String::new();
    for (text, version) in &versions {
        if compare(version, version) != Ordering::Equal {
            let _ = writeln!(failures, "not equal to itself: {text}");
        }
    }
    // `sort_by` panics on comparators that are not total orders.
    versions.sort_by(|left, right| compare(&left.1, &right.1));
    for pair in versions.windows(2) {
        let ((left_text, left), (right_text, right)) = (&pair[0], &pair[1]);
        let forward = compare(left, right);
        if forward == Ordering::Greater || compare(right, left) != forward.reverse() {
            let _ = writeln!(
                failures,
                "adjacent after sorting: {left_text} vs {right_text}"
            );
        }
    }
    // Sorted and transitive means every earlier version is <= every later one.
    let mut sampler = Sampler(versions.len() as u64);
    let count = versions.len();
    for _ in 0..if count > 1 { 20_000 } else { 0 } {
        let mut picks = [
            sampler.below(count),
            sampler.below(count),
            sampler.below(count),
        ];
        picks.sort_unstable();
        let [first, second, third] = picks.map(|index| &versions[index]);
        let first_second = compare(&first.1, &second.1);
        let second_third = compare(&second.1, &third.1);
        let first_third = compare(&first.1, &third.1);
        let consistent = first_second != Ordering::Greater
            && second_third != Ordering::Greater
            && first_third != Ordering::Greater
            && compare(&third.1, &first.1) == first_third.reverse()
            && (first_second != Ordering::Equal
                || second_third != Ordering::Equal
                || first_third == Ordering::Equal);
        if !consistent {
            let _ = writeln!(
                failures,
                "inconsistent triple: {} {} {}",
                first.0, second.0, third.0
            );
        }
    }
    assert!(failures.is_empty(), "{file}:\n{failures}");
}
