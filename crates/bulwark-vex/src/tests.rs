//! Tests of the public API: the writers against snapshots and the specs, the reader against
//! hand-written documents in other tools' shapes, and round trips over every state and
//! justification.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use time::macros::datetime;

use crate::{
    Document, ExportOptions, Format, Justification, State, Statement, VexError, parse,
    to_cyclonedx, to_openvex,
};

const SERIAL: &str = "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79";

fn options() -> ExportOptions<'static> {
    ExportOptions {
        author: "Acme Security <security@acme.invalid>",
        id: SERIAL,
        timestamp: datetime!(2026-03-01 12:30:45.5 +01:00),
        tool_version: "0.1.0",
    }
}

/// A statement about `vulnerability` with no product, aliases, justification or detail.
fn statement(vulnerability: &str, state: State) -> Statement {
    Statement {
        vulnerability: vulnerability.to_owned(),
        aliases: Vec::new(),
        purl: None,
        component_name: None,
        state,
        justification: None,
        detail: None,
    }
}

fn on_purl(purl: &str, statement: Statement) -> Statement {
    Statement {
        purl: Some(purl.to_owned()),
        ..statement
    }
}

fn on_name(name: &str, statement: Statement) -> Statement {
    Statement {
        component_name: Some(name.to_owned()),
        ..statement
    }
}

fn justified(justification: Justification, statement: Statement) -> Statement {
    Statement {
        justification: Some(justification),
        ..statement
    }
}

fn detailed(detail: &str, statement: Statement) -> Statement {
    Statement {
        detail: Some(detail.to_owned()),
        ..statement
    }
}

fn aliased(aliases: &[&str], statement: Statement) -> Statement {
    Statement {
        aliases: aliases.iter().map(|alias| (*alias).to_owned()).collect(),
        ..statement
    }
}

/// A project's triage: every state, both vocabularies of justification, a finding shared by
/// two components, name-only components (a model, a GPU library) and a statement without
/// product.
fn sample() -> Vec<Statement> {
    use Justification as J;
    use State as S;
    vec![
        aliased(
            &["GHSA-jfh8-c2jp-5v3q"],
            detailed(
                "Reachable through the request logging filter; upgrade scheduled for 2.4.1.",
                on_purl(
                    "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
                    statement("CVE-2021-44228", S::Exploitable),
                ),
            ),
        ),
        aliased(
            &["CVE-2020-36518"],
            detailed(
                "Only server-generated JSON is deserialized.",
                justified(
                    J::CodeNotReachable,
                    on_purl(
                        "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.13.2",
                        statement("GHSA-57j2-w4cx-62h2", S::NotAffected),
                    ),
                ),
            ),
        ),
        detailed(
            "Only server-generated JSON is deserialized.",
            justified(
                J::CodeNotReachable,
                on_purl(
                    "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.12.6",
                    statement("GHSA-57j2-w4cx-62h2", S::NotAffected),
                ),
            ),
        ),
        aliased(
            &["CVE-2024-1135"],
            detailed(
                "Needs a front proxy that forwards conflicting Transfer-Encoding headers; we run none.",
                justified(
                    J::RequiresEnvironment,
                    on_purl(
                        "pkg:pypi/gunicorn@21.2.0",
                        statement("PYSEC-2024-38", S::NotAffected),
                    ),
                ),
            ),
        ),
        detailed(
            "The advisory is about the C++ frontend, which the wheel does not ship.",
            on_purl(
                "pkg:pypi/torch@2.1.2%2Bcu121",
                statement("GHSA-pg7h-5qx3-wjr3", S::FalsePositive),
            ),
        ),
        detailed(
            "Traversal helpers are only used at build time.",
            justified(
                J::InlineMitigationsAlreadyExist,
                on_purl(
                    "pkg:npm/%40babel/traverse@7.22.5",
                    statement("CVE-2023-45133", S::NotAffected),
                ),
            ),
        ),
        on_purl(
            "pkg:cargo/smallvec@1.6.0",
            statement("RUSTSEC-2021-0003", S::NotAffected),
        ),
        on_name(
            "models/classifier.pkl",
            statement("BWM-PICKLE-CODE-EXEC", S::InTriage),
        ),
        detailed(
            "Upgraded to cuDNN 9.0 in image 2.4.1.",
            on_name("cudnn 8.9.7", statement("CVE-2024-0072", S::Resolved)),
        ),
        justified(
            J::ComponentNotPresent,
            statement("CVE-2024-3094", S::NotAffected),
        ),
    ]
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).expect("the writers write UTF-8")
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("the writers write JSON")
}

fn testdata(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn schemas() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../bulwark-sbom/testdata/schemas/cyclonedx")
}

fn load_json(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn cyclonedx_validator() -> jsonschema::Validator {
    let dir = schemas();
    let registry = jsonschema::Registry::new()
        .add(
            "http://cyclonedx.org/schema/spdx.schema.json",
            load_json(&dir.join("spdx.schema.json")),
        )
        .unwrap()
        .add(
            "http://cyclonedx.org/schema/jsf-0.82.schema.json",
            load_json(&dir.join("jsf-0.82.schema.json")),
        )
        .unwrap()
        .prepare()
        .unwrap();
    jsonschema::options()
        .with_registry(&registry)
        .should_validate_formats(true)
        .build(&load_json(&dir.join("bom-1.6.schema.json")))
        .unwrap()
}

fn assert_valid_cyclonedx(document: &Value) {
    let errors: Vec<String> = cyclonedx_validator()
        .iter_errors(document)
        .map(|error| format!("{error} at {}", error.instance_path()))
        .collect();
    assert!(errors.is_empty(), "schema errors:\n{}", errors.join("\n"));
}

/// The rules of OpenVEX v0.2.0's JSON schema a writer could break.
fn assert_valid_openvex(document: &Value) {
    let is_iri = |text: &str| {
        text.split_once(':').is_some_and(|(scheme, rest)| {
            !rest.is_empty()
                && scheme
                    .chars()
                    .next()
                    .is_some_and(|first| first.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }) && !text.contains(|c: char| c.is_whitespace() || "<>\"{}|\\^`".contains(c))
    };
    let root = document.as_object().expect("an object");
    for key in [
        "@context",
        "@id",
        "author",
        "timestamp",
        "version",
        "statements",
    ] {
        assert!(root.contains_key(key), "no {key}");
    }
    assert!(is_iri(root["@id"].as_str().expect("@id")));
    assert!(root["version"].as_u64().is_some_and(|version| version >= 1));
    let statements = root["statements"].as_array().expect("statements");
    assert!(!statements.is_empty());
    let allowed = [
        "vulnerability",
        "products",
        "status",
        "justification",
        "impact_statement",
        "action_statement",
        "status_notes",
    ];
    for statement in statements {
        let statement = statement.as_object().expect("a statement object");
        assert!(
            statement.keys().all(|key| allowed.contains(&key.as_str())),
            "{statement:?}"
        );
        assert!(
            statement["vulnerability"]["name"].is_string(),
            "{statement:?}"
        );
        let status = statement["status"].as_str().expect("a status");
        assert!(
            ["not_affected", "affected", "fixed", "under_investigation"].contains(&status),
            "{status}"
        );
        if let Some(justification) = statement.get("justification") {
            let justification: Justification = justification
                .as_str()
                .expect("a string")
                .parse()
                .expect("a justification");
            assert!(justification.is_openvex(), "{justification}");
        }
        if status == "not_affected" {
            assert!(
                statement.contains_key("justification")
                    != statement.contains_key("impact_statement"),
                "not_affected needs exactly one of justification and impact_statement: {statement:?}"
            );
        }
        if status == "affected" {
            assert!(statement.contains_key("action_statement"), "{statement:?}");
        }
        for product in statement
            .get("products")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            assert!(is_iri(product["@id"].as_str().expect("@id")), "{product}");
        }
    }
}

#[test]
fn names_parse_back_and_unknown_names_are_errors() {
    for state in State::ALL {
        assert_eq!(state.as_str().parse::<State>(), Ok(*state));
        assert_eq!(state.to_string(), state.as_str());
    }
    for justification in Justification::ALL {
        assert_eq!(
            justification.as_str().parse::<Justification>(),
            Ok(*justification)
        );
    }
    for format in Format::ALL {
        assert_eq!(format.as_str().parse::<Format>(), Ok(*format));
    }
    assert_eq!(State::ALL.len(), 5);
    assert_eq!(Justification::ALL.len(), 14);
    let error = "resolved_with_pedigree".parse::<State>().unwrap_err();
    assert_eq!(
        error.to_string(),
        "unknown triage state `resolved_with_pedigree` (expected one of: in_triage, exploitable, \
         not_affected, false_positive, resolved)"
    );
    assert!("Code_Not_Present".parse::<Justification>().is_err());
    assert!("csaf".parse::<Format>().is_err());
}

#[test]
fn justifications_map_to_the_nearest_of_the_other_vocabulary() {
    use Justification as J;
    let table = [
        (
            J::CodeNotPresent,
            J::CodeNotPresent,
            Some(J::VulnerableCodeNotPresent),
        ),
        (
            J::CodeNotReachable,
            J::CodeNotReachable,
            Some(J::VulnerableCodeNotInExecutePath),
        ),
        (J::RequiresConfiguration, J::RequiresConfiguration, None),
        (J::RequiresDependency, J::RequiresDependency, None),
        (J::RequiresEnvironment, J::RequiresEnvironment, None),
        (
            J::ProtectedByCompiler,
            J::ProtectedByCompiler,
            Some(J::InlineMitigationsAlreadyExist),
        ),
        (
            J::ProtectedAtRuntime,
            J::ProtectedAtRuntime,
            Some(J::InlineMitigationsAlreadyExist),
        ),
        (J::ProtectedAtPerimeter, J::ProtectedAtPerimeter, None),
        (
            J::ProtectedByMitigatingControl,
            J::ProtectedByMitigatingControl,
            Some(J::InlineMitigationsAlreadyExist),
        ),
        (
            J::ComponentNotPresent,
            J::CodeNotPresent,
            Some(J::ComponentNotPresent),
        ),
        (
            J::VulnerableCodeNotPresent,
            J::CodeNotPresent,
            Some(J::VulnerableCodeNotPresent),
        ),
        (
            J::VulnerableCodeNotInExecutePath,
            J::CodeNotReachable,
            Some(J::VulnerableCodeNotInExecutePath),
        ),
        (
            J::VulnerableCodeCannotBeControlledByAdversary,
            J::ProtectedByMitigatingControl,
            Some(J::VulnerableCodeCannotBeControlledByAdversary),
        ),
        (
            J::InlineMitigationsAlreadyExist,
            J::ProtectedByMitigatingControl,
            Some(J::InlineMitigationsAlreadyExist),
        ),
    ];
    assert_eq!(table.len(), Justification::ALL.len());
    for (justification, cyclonedx, openvex) in table {
        assert_eq!(justification.to_cyclonedx(), cyclonedx, "{justification}");
        assert_eq!(justification.to_openvex(), openvex, "{justification}");
        assert!(!cyclonedx.is_openvex());
        assert!(openvex.is_none_or(Justification::is_openvex));
    }
}

#[test]
fn snapshots() {
    insta::assert_snapshot!(
        "cyclonedx",
        text(to_cyclonedx(&sample(), &options()).unwrap())
    );
    insta::assert_snapshot!("openvex", text(to_openvex(&sample(), &options()).unwrap()));
}

#[test]
fn output_does_not_depend_on_input_order() {
    let mut reversed = sample();
    reversed.reverse();
    assert_eq!(
        to_cyclonedx(&sample(), &options()).unwrap(),
        to_cyclonedx(&reversed, &options()).unwrap()
    );
    assert_eq!(
        to_openvex(&sample(), &options()).unwrap(),
        to_openvex(&reversed, &options()).unwrap()
    );
    let bytes = to_openvex(&sample(), &options()).unwrap();
    assert!(bytes.ends_with(b"}\n"));
}

#[test]
fn cyclonedx_output_is_valid_cyclonedx_1_6() {
    assert_valid_cyclonedx(&json(&to_cyclonedx(&sample(), &options()).unwrap()));
    assert_valid_cyclonedx(&json(
        &to_cyclonedx(&every_combination(), &options()).unwrap(),
    ));
    assert_valid_cyclonedx(&json(&to_cyclonedx(&[], &options()).unwrap()));
}

#[test]
fn openvex_output_follows_the_openvex_schema_rules() {
    assert_valid_openvex(&json(&to_openvex(&sample(), &options()).unwrap()));
    assert_valid_openvex(&json(
        &to_openvex(&every_combination(), &options()).unwrap(),
    ));
}

#[test]
fn cyclonedx_groups_one_analysis_of_a_vulnerability_into_one_entry() {
    let mut statements = sample();
    // The same vulnerability on a third component, triaged differently.
    statements.push(on_purl(
        "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.10",
        statement("GHSA-57j2-w4cx-62h2", State::Exploitable),
    ));
    let document = json(&to_cyclonedx(&statements, &options()).unwrap());
    let entries: Vec<&Value> = document["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["id"] == "GHSA-57j2-w4cx-62h2")
        .collect();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["analysis"]["state"], "exploitable");
    assert_eq!(
        entries[0]["affects"],
        json!([{ "ref": "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.9.10" }])
    );
    assert_eq!(entries[1]["analysis"]["state"], "not_affected");
    assert_eq!(
        entries[1]["affects"],
        json!([
            { "ref": "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.12.6" },
            { "ref": "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.13.2" },
        ])
    );
    // Aliases belong to the vulnerability: both entries carry the one alias given.
    for entry in entries {
        assert_eq!(entry["references"][0]["id"], "CVE-2020-36518");
    }

    let openvex = json(&to_openvex(&statements, &options()).unwrap());
    let products: Vec<&Value> = openvex["statements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["vulnerability"]["name"] == "GHSA-57j2-w4cx-62h2")
        .map(|entry| &entry["products"])
        .collect();
    assert_eq!(products.len(), 3, "one OpenVEX statement per product");
    assert!(
        products
            .iter()
            .all(|products| products.as_array().unwrap().len() == 1)
    );
}

#[test]
fn cyclonedx_components_are_one_per_product() {
    let statements = [
        on_name(
            "models/b.onnx",
            statement("BWM-ONNX-EXTERNAL-DATA", State::InTriage),
        ),
        on_name(
            "models/a.pkl",
            statement("BWM-PICKLE-CODE-EXEC", State::InTriage),
        ),
        on_name(
            "models/a.pkl",
            statement("BWM-KERAS-LAMBDA", State::InTriage),
        ),
        // A purl that spells a generated ref, and a name given next to a purl.
        on_purl("component-1", statement("CVE-2024-0001", State::InTriage)),
        on_name(
            "PyYAML",
            on_purl(
                "pkg:pypi/pyyaml@5.3",
                statement("CVE-2020-14343", State::Exploitable),
            ),
        ),
    ];
    let document = json(&to_cyclonedx(&statements, &options()).unwrap());
    assert_eq!(
        document["components"],
        json!([
            { "type": "library", "bom-ref": "component-2", "name": "models/a.pkl" },
            { "type": "library", "bom-ref": "component-3", "name": "models/b.onnx" },
            { "type": "library", "bom-ref": "component-1", "name": "component-1", "purl": "component-1" },
            {
                "type": "library",
                "bom-ref": "pkg:pypi/pyyaml@5.3",
                "name": "PyYAML",
                "version": "5.3",
                "purl": "pkg:pypi/pyyaml@5.3",
            },
        ])
    );
    let parsed = parse(&to_cyclonedx(&statements, &options()).unwrap(), "x").unwrap();
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    assert_eq!(parsed.statements.len(), 5);
}

#[test]
fn identical_statements_collapse_and_aliases_unite() {
    let one = aliased(
        &["CVE-2024-0002", "GHSA-aaaa-bbbb-cccc"],
        on_purl("pkg:pypi/a@1", statement("PYSEC-2024-1", State::InTriage)),
    );
    let two = aliased(
        &["OSV-2024-3", "PYSEC-2024-1", "", "CVE-2024-0002"],
        on_purl("pkg:pypi/b@1", statement("PYSEC-2024-1", State::InTriage)),
    );
    let statements = [one.clone(), two.clone(), one.clone()];
    let aliases = ["CVE-2024-0002", "GHSA-aaaa-bbbb-cccc", "OSV-2024-3"];
    for format in Format::ALL {
        let bytes = match format {
            Format::CycloneDx => to_cyclonedx(&statements, &options()),
            Format::OpenVex => to_openvex(&statements, &options()),
        }
        .unwrap();
        let document = parse(&bytes, "x").unwrap();
        assert_eq!(document.statements.len(), 2, "{format}");
        for read in &document.statements {
            assert_eq!(read.aliases, aliases, "{format}");
        }
    }
}

#[test]
fn statements_that_cannot_be_written_are_errors() {
    let base = on_purl("pkg:pypi/a@1", statement("CVE-2024-1", State::NotAffected));
    let conflict = [
        justified(Justification::CodeNotPresent, base.clone()),
        justified(Justification::CodeNotReachable, base.clone()),
    ];
    let error = to_cyclonedx(&conflict, &options()).unwrap_err();
    assert!(matches!(error, VexError::Conflict { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "two statements about CVE-2024-1 in pkg:pypi/a@1 disagree: code_not_present vs \
         code_not_reachable"
    );
    let states = [
        base.clone(),
        Statement {
            state: State::Resolved,
            ..base.clone()
        },
    ];
    assert!(matches!(
        to_openvex(&states, &options()),
        Err(VexError::Conflict { .. })
    ));
    let details = [base.clone(), detailed("why", base.clone())];
    assert!(matches!(
        to_openvex(&details, &options()),
        Err(VexError::Conflict { .. })
    ));

    let invalid = [
        (
            statement(" ", State::InTriage),
            "the vulnerability id is empty",
        ),
        (
            on_purl("", statement("CVE-2024-1", State::InTriage)),
            "the purl is empty",
        ),
        (
            on_name("", statement("CVE-2024-1", State::InTriage)),
            "the component name is empty",
        ),
    ];
    for (bad, expected) in invalid {
        let statements = [base.clone(), bad];
        for result in [
            to_cyclonedx(&statements, &options()),
            to_openvex(&statements, &options()),
        ] {
            match result {
                Err(VexError::InvalidStatement {
                    index: 1, reason, ..
                }) => {
                    assert_eq!(reason, expected);
                }
                other => panic!("{other:?}"),
            }
        }
    }
}

#[test]
fn options_that_cannot_be_written_are_errors() {
    let statements = sample();
    for id in [
        "https://acme.invalid/vex/1",
        "3e671687-395b-41f5-a30f-a58921a69b79",
        "urn:uuid:3e671687",
    ] {
        let options = ExportOptions { id, ..options() };
        let error = to_cyclonedx(&statements, &options).unwrap_err();
        assert!(
            matches!(
                error,
                VexError::InvalidOption {
                    option: "id",
                    format: Format::CycloneDx,
                    ..
                }
            ),
            "{error:?}"
        );
        // OpenVEX takes any IRI.
        assert!(to_openvex(&statements, &options).is_ok());
    }
    let upper = ExportOptions {
        id: "urn:uuid:3E671687-395B-41F5-A30F-A58921A69B79",
        ..options()
    };
    assert_eq!(
        json(&to_cyclonedx(&statements, &upper).unwrap())["serialNumber"],
        SERIAL
    );
    for (id, author, option) in [("", "me", "id"), ("urn:x:1", " ", "author")] {
        let options = ExportOptions {
            id,
            author,
            ..options()
        };
        assert!(matches!(
            to_openvex(&statements, &options),
            Err(VexError::InvalidOption { option: o, .. }) if o == option
        ));
    }
    assert!(matches!(
        to_openvex(&[], &options()),
        Err(VexError::NoStatements)
    ));
    let far = ExportOptions {
        timestamp: datetime!(9999-12-31 23:59:59 -01:00),
        ..options()
    };
    assert!(matches!(
        to_cyclonedx(&statements, &far),
        Err(VexError::InvalidOption {
            option: "timestamp",
            ..
        })
    ));
}

/// Every state with no justification and with each justification, on each kind of product,
/// with and without detail; each under its own vulnerability id.
fn every_combination() -> Vec<Statement> {
    let justifications = std::iter::once(None).chain(Justification::ALL.iter().copied().map(Some));
    let mut statements = Vec::new();
    for state in State::ALL {
        for justification in justifications.clone() {
            for product in 0..4 {
                for detail in [None, Some("Line one: see ticket SEC-42.\nLine two.")] {
                    let number = statements.len();
                    let mut statement = Statement {
                        vulnerability: format!("CVE-2024-{number:05}"),
                        aliases: if number % 3 == 0 {
                            vec![
                                format!("GHSA-{number:04}-zzzz-yyyy"),
                                "OSV-B".to_owned(),
                                "OSV-B".to_owned(),
                            ]
                        } else {
                            Vec::new()
                        },
                        purl: None,
                        component_name: None,
                        state: *state,
                        justification,
                        detail: detail.map(str::to_owned),
                    };
                    match product {
                        0 => {
                            statement.purl = Some(format!("pkg:pypi/package-{number}@1.0%2Blocal"))
                        }
                        1 => {
                            statement.component_name =
                                Some(format!("libcudnn.so.{number} #{number}"))
                        }
                        2 => {
                            statement.purl = Some(format!("pkg:npm/%40scope/name-{number}@2.0.0"));
                            statement.component_name = Some(format!("@scope/name-{number}"));
                        }
                        _ => {}
                    }
                    statements.push(statement);
                }
            }
        }
    }
    statements
}

/// What reading back `written`, one of `all` the statements written, gives (crate docs,
/// "Round trips").
fn after_round_trip(format: Format, written: &Statement, all: &[Statement]) -> Statement {
    let mut expected = written.clone();
    if expected.purl.is_some() {
        expected.component_name = None;
    }
    expected.aliases = all
        .iter()
        .filter(|other| other.vulnerability == written.vulnerability)
        .flat_map(|other| other.aliases.iter().cloned())
        .filter(|alias| *alias != written.vulnerability)
        .collect();
    expected.aliases.sort();
    expected.aliases.dedup();
    expected.justification = match (format, written.state) {
        (Format::CycloneDx, _) => written.justification.map(Justification::to_cyclonedx),
        (Format::OpenVex, State::NotAffected | State::FalsePositive) => written
            .justification
            .map(|justification| justification.to_openvex().unwrap_or(justification)),
        (Format::OpenVex, _) => None,
    };
    expected
}

#[test]
fn round_trips_keep_every_state_and_justification() {
    let statements = every_combination();
    assert_eq!(statements.len(), 5 * 15 * 4 * 2);
    for format in Format::ALL {
        let bytes = match format {
            Format::CycloneDx => to_cyclonedx(&statements, &options()),
            Format::OpenVex => to_openvex(&statements, &options()),
        }
        .unwrap();
        let document = parse(&bytes, "round-trip.json").unwrap();
        assert_eq!(document.format, *format);
        assert!(
            document.warnings.is_empty(),
            "{format}: {:?}",
            document.warnings
        );
        assert_eq!(document.statements.len(), statements.len(), "{format}");
        let mut expected: Vec<Statement> = statements
            .iter()
            .map(|statement| after_round_trip(*format, statement, &statements))
            .collect();
        let mut got = document.statements;
        let key = |statement: &Statement| statement.vulnerability.clone();
        expected.sort_by_key(key);
        got.sort_by_key(key);
        for (got, expected) in got.iter().zip(&expected) {
            assert_eq!(got, expected, "{format}");
        }
    }
}

#[test]
fn round_trips_of_the_sample() {
    let sample = sample();
    for format in Format::ALL {
        let bytes = match format {
            Format::CycloneDx => to_cyclonedx(&sample, &options()),
            Format::OpenVex => to_openvex(&sample, &options()),
        }
        .unwrap();
        let document = parse(&bytes, "sample.json").unwrap();
        assert!(
            document.warnings.is_empty(),
            "{format}: {:?}",
            document.warnings
        );
        let mut expected: Vec<Statement> = sample
            .iter()
            .map(|statement| after_round_trip(*format, statement, &sample))
            .collect();
        let key = |statement: &Statement| {
            (
                statement.vulnerability.clone(),
                statement.purl.clone(),
                statement.component_name.clone(),
            )
        };
        expected.sort_by_key(key);
        assert_eq!(document.statements, expected, "{format}");
    }
}

#[test]
fn reads_a_dependency_track_export() {
    use Justification as J;
    use State as S;
    let document = parse(&testdata("dependency-track.cdx.json"), "dt.json").unwrap();
    assert_eq!(document.format, Format::CycloneDx);
    assert!(document.warnings.is_empty(), "{:?}", document.warnings);
    let expected = vec![
        detailed(
            "The NVD CPE matches every spring-web release; the flaw is in \
             HttpInvokerServiceExporter, which was removed from our build in 5.3.x and is not on \
             the classpath.",
            on_purl(
                "pkg:maven/org.springframework/spring-web@5.3.18?type=jar",
                statement("CVE-2016-1000027", S::FalsePositive),
            ),
        ),
        detailed(
            "Reachable through the request logging filter, which logs the User-Agent header. \
             Upgrade to 2.17.1 is scheduled for 2.4.1.",
            on_purl(
                "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar",
                statement("CVE-2021-44228", S::Exploitable),
            ),
        ),
        on_purl(
            "pkg:maven/org.yaml/snakeyaml@1.30?type=jar",
            statement("CVE-2022-1471", S::InTriage),
        ),
        detailed(
            "spring-web is pinned to 5.3.34 in the parent POM since 2.4.0-rc2; this SBOM predates \
             the pin.",
            on_purl(
                "pkg:maven/org.springframework/spring-web@5.3.18?type=jar",
                statement("CVE-2024-22243", S::Resolved),
            ),
        ),
        aliased(
            &["CVE-2020-36518"],
            detailed(
                "Only server-generated JSON is deserialized; request bodies go through the \
                 Gson-based parser.",
                justified(
                    J::CodeNotReachable,
                    on_purl(
                        "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.13.2?type=jar",
                        statement("GHSA-57j2-w4cx-62h2", S::NotAffected),
                    ),
                ),
            ),
        ),
        detailed(
            "payments-api keeps the default 30 second tolerance.",
            justified(
                J::RequiresConfiguration,
                on_name(
                    "acme-auth-client",
                    statement("INT-2024-0007", S::NotAffected),
                ),
            ),
        ),
    ];
    assert_eq!(document.statements, expected);
}

#[test]
fn reads_a_vexctl_document() {
    use Justification as J;
    use State as S;
    let document = parse(&testdata("vexctl.openvex.json"), "vexctl.json").unwrap();
    assert_eq!(document.format, Format::OpenVex);
    assert_eq!(
        document.warnings,
        [
            "statements[2] (GHSA-9wx4-h78v-vm56): in_triage for pkg:pypi/requests@2.31.0 is \
          superseded by resolved in the later statements[4]"
        ]
    );
    let expected = vec![
        aliased(
            &["GHSA-qppj-fm5r-hxr3", "GO-2023-2102"],
            detailed(
                "Upgrade golang.org/x/net to v0.17.0 or later and rebuild the sidecar.",
                on_purl(
                    "pkg:golang/golang.org/x/net@v0.15.0",
                    statement("CVE-2023-44487", S::Exploitable),
                ),
            ),
        ),
        // The image's subcomponent is what the statement is about.
        detailed(
            "MiniZip is not part of Debian's zlib1g; the overflow is in zipOpenNewFileInZip4_64.",
            justified(
                J::VulnerableCodeNotPresent,
                on_purl(
                    "pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64&distro=debian-12",
                    statement("CVE-2023-45853", S::NotAffected),
                ),
            ),
        ),
        justified(
            J::ComponentNotPresent,
            on_name(
                "registry.acme.invalid/payments-worker:2.4.0",
                statement("CVE-2024-3094", S::NotAffected),
            ),
        ),
        aliased(
            &["CVE-2024-35195"],
            detailed(
                "requests is pinned to 2.32.0 since image 2.4.1.",
                on_purl(
                    "pkg:pypi/requests@2.31.0",
                    statement("GHSA-9wx4-h78v-vm56", S::Resolved),
                ),
            ),
        ),
    ];
    assert_eq!(document.statements, expected);
}

#[test]
fn reads_an_openvex_0_0_1_document() {
    use State as S;
    let document = parse(&testdata("vexctl-v0.0.1.openvex.json"), "old.json").unwrap();
    assert_eq!(document.format, Format::OpenVex);
    assert!(document.warnings.is_empty(), "{:?}", document.warnings);
    let fixed = |purl| {
        detailed(
            "Fixed upstream in git 2.38.1.",
            on_purl(purl, statement("CVE-2022-39253", S::Resolved)),
        )
    };
    let expected = vec![
        fixed("pkg:apk/wolfi/git@2.38.1-r0?arch=aarch64"),
        fixed("pkg:apk/wolfi/git@2.38.1-r0?arch=x86_64"),
        justified(
            Justification::InlineMitigationsAlreadyExist,
            on_purl(
                "pkg:apk/wolfi/git@2.38.1-r0?arch=x86_64",
                statement("CVE-2023-12345", S::NotAffected),
            ),
        ),
        detailed(
            "Update to git 2.39.2-r0.",
            on_purl(
                "pkg:apk/wolfi/git@2.38.1-r0?arch=x86_64",
                statement("CVE-2023-22490", S::Exploitable),
            ),
        ),
    ];
    assert_eq!(document.statements, expected);
}

fn parse_value(value: &Value) -> Document {
    parse(value.to_string().as_bytes(), "inline.json").unwrap()
}

fn cyclonedx_bom(vulnerabilities: Value) -> Value {
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "metadata": { "component": { "bom-ref": "app", "name": "payments-api" } },
        "components": [
            { "bom-ref": "torch", "name": "torch", "purl": "pkg:pypi/torch@2.1.2" },
            {
                "bom-ref": "image",
                "name": "image",
                "components": [{ "bom-ref": "nested-cudnn", "name": "cudnn" }],
            },
            { "bom-ref": "pkg:pypi/numpy@1.26.4", "name": "numpy" },
            { "bom-ref": "no-name" },
        ],
        "vulnerabilities": vulnerabilities,
    })
}

#[test]
fn cyclonedx_refs_resolve_through_components() {
    let document = parse_value(&cyclonedx_bom(json!([{
        "id": "CVE-2024-1",
        "analysis": { "state": "in_triage" },
        "affects": [
            { "ref": "torch" },
            { "ref": "nested-cudnn" },
            { "ref": "app" },
            { "ref": "pkg:pypi/numpy@1.26.4" },
            { "ref": "pkg:npm/lodash@4.17.20" },
            { "ref": "urn:cdx:5f0d7a1e-2c4b-4d7e-9a51-7d3c6b2e8f10/1#torch" },
            { "ref": "urn:cdx:5f0d7a1e-2c4b-4d7e-9a51-7d3c6b2e8f10/3#pkg:golang/golang.org%2Fx%2Fnet@v0.15.0" },
            { "ref": "urn:cdx:5f0d7a1e-2c4b-4d7e-9a51-7d3c6b2e8f10/1#elsewhere" },
            { "ref": "no-name" },
            {},
        ],
    }])));
    let products: Vec<(Option<&str>, Option<&str>)> = document
        .statements
        .iter()
        .map(|statement| {
            (
                statement.purl.as_deref(),
                statement.component_name.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        products,
        [
            (None, None),
            (Some("pkg:golang/golang.org/x/net@v0.15.0"), None),
            (Some("pkg:npm/lodash@4.17.20"), None),
            (Some("pkg:pypi/numpy@1.26.4"), None),
            (Some("pkg:pypi/torch@2.1.2"), None),
            (None, Some("cudnn")),
            (None, Some("payments-api")),
        ]
    );
    assert_eq!(
        document.warnings,
        [
            "vulnerabilities[0] (CVE-2024-1): affects ref \
             `urn:cdx:5f0d7a1e-2c4b-4d7e-9a51-7d3c6b2e8f10/1#elsewhere` is no component of the BOM \
             and no purl; read without product",
            "vulnerabilities[0] (CVE-2024-1): affects ref `no-name` is no component of the BOM and \
             no purl; read without product",
            "vulnerabilities[0] (CVE-2024-1): affects[9] has no ref; skipped",
        ]
    );
}

#[test]
fn cyclonedx_vulnerabilities_that_cannot_be_read_are_skipped_with_warnings() {
    let document = parse_value(&cyclonedx_bom(json!([
        "CVE-2024-0",
        { "analysis": { "state": "in_triage" } },
        { "id": "CVE-2024-2" },
        { "id": "CVE-2024-3", "analysis": { "state": "fixed" } },
        {
            "id": "CVE-2024-4",
            "analysis": { "state": "not_affected", "justification": "too_hard", "detail": "" },
            "affects": [{ "ref": "torch" }],
        },
        {
            "id": "CVE-2024-5",
            "analysis": { "state": "resolved_with_pedigree" },
            "affects": [{ "ref": "torch" }],
        },
        { "id": "CVE-2024-6", "analysis": { "state": "exploitable" }, "affects": [] },
    ])));
    assert_eq!(
        document.warnings,
        [
            "vulnerabilities[0] is not an object; skipped",
            "vulnerabilities[1] has no id; skipped",
            "vulnerabilities[2] (CVE-2024-2) has no analysis.state; skipped",
            "vulnerabilities[3] (CVE-2024-3): unknown analysis.state `fixed`; skipped",
            "vulnerabilities[4] (CVE-2024-4): unknown analysis.justification `too_hard`; read \
             without one",
        ]
    );
    assert_eq!(
        document.statements,
        [
            on_purl(
                "pkg:pypi/torch@2.1.2",
                statement("CVE-2024-4", State::NotAffected)
            ),
            on_purl(
                "pkg:pypi/torch@2.1.2",
                statement("CVE-2024-5", State::Resolved)
            ),
            statement("CVE-2024-6", State::Exploitable),
        ]
    );

    let sbom =
        parse_value(&json!({ "bomFormat": "CycloneDX", "specVersion": "1.6", "components": [] }));
    assert!(sbom.statements.is_empty());
    assert_eq!(
        sbom.warnings,
        ["the BOM has no `vulnerabilities`: there is nothing to read"]
    );
}

fn openvex(statements: Value) -> Value {
    json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "urn:uuid:0b6f4d1e-7a3c-4e59-9d82-1c5a7e3b9f46",
        "author": "someone",
        "timestamp": "2024-05-01T00:00:00Z",
        "version": 1,
        "statements": statements,
    })
}

#[test]
fn openvex_products_prefer_identifiers_and_keep_other_ids_as_names() {
    let document = parse_value(&openvex(json!([{
        "vulnerability": { "name": "CVE-2024-7" },
        "products": [
            { "@id": "https://acme.invalid/products/a", "identifiers": { "purl": "pkg:pypi/a@1" } },
            { "@id": "pkg:pypi/b@1" },
            { "@id": "urn:bulwark:component:cudnn%208.9.7%20%2350" },
            { "@id": "https://acme.invalid/products/c" },
            { "identifiers": { "cpe23": "cpe:2.3:a:nvidia:cudnn:8.9.7:*:*:*:*:*:*:*" } },
            "pkg:pypi/d@1",
            { "hashes": { "sha-256": "00" } },
            {
                "@id": "pkg:oci/app",
                "subcomponents": [{ "identifiers": { "purl": "pkg:pypi/e@1" } }],
            },
        ],
        "status": "under_investigation",
    }])));
    let products: Vec<(Option<&str>, Option<&str>)> = document
        .statements
        .iter()
        .map(|statement| {
            (
                statement.purl.as_deref(),
                statement.component_name.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        products,
        [
            (None, None),
            (Some("pkg:pypi/a@1"), None),
            (Some("pkg:pypi/b@1"), None),
            (Some("pkg:pypi/d@1"), None),
            (Some("pkg:pypi/e@1"), None),
            (None, Some("cpe:2.3:a:nvidia:cudnn:8.9.7:*:*:*:*:*:*:*")),
            (None, Some("cudnn 8.9.7 #50")),
            (None, Some("https://acme.invalid/products/c")),
        ]
    );
    assert_eq!(
        document.warnings,
        ["statements[0] (CVE-2024-7): a product without purl, @id or CPE; read without product"]
    );
}

#[test]
fn openvex_statements_that_cannot_be_read_are_skipped_with_warnings() {
    let document = parse_value(&openvex(json!([
        7,
        { "status": "fixed" },
        { "vulnerability": { "@id": "https://nvd.invalid/CVE-2024-1" }, "status": "fixed" },
        { "vulnerability": { "name": "CVE-2024-2" } },
        { "vulnerability": { "name": "CVE-2024-3" }, "status": "wontfix" },
        {
            "vulnerability": { "name": "CVE-2024-4" },
            "status": "not_affected",
            "justification": "not_my_problem",
            "impact_statement": "It is fine.",
        },
        // Text with both an impact statement and notes, and bulwark's placeholders.
        {
            "vulnerability": { "name": "CVE-2024-5" },
            "status": "not_affected",
            "justification": "vulnerable_code_not_present",
            "impact_statement": "Removed by the build.",
            "status_notes": "See SEC-7.",
        },
        {
            "vulnerability": { "name": "CVE-2024-6" },
            "status": "affected",
            "action_statement": "No remediation recorded",
        },
        {
            "vulnerability": { "name": "CVE-2024-8" },
            "status": "not_affected",
            "impact_statement": "No justification recorded",
        },
        {
            "vulnerability": { "name": "CVE-2024-9" },
            "status": "not_affected",
            "impact_statement": "false_positive matches happen: this one is real",
        },
    ])));
    assert_eq!(
        document.warnings,
        [
            "statements[0] is not an object; skipped",
            "statements[1] has no vulnerability; skipped",
            "statements[2] has no vulnerability name; skipped",
            "statements[3] (CVE-2024-2) has no status; skipped",
            "statements[4] (CVE-2024-3): unknown status `wontfix`; skipped",
            "statements[5] (CVE-2024-4): unknown justification `not_my_problem`; read without one",
        ]
    );
    assert_eq!(
        document.statements,
        [
            detailed("It is fine.", statement("CVE-2024-4", State::NotAffected)),
            detailed(
                "Removed by the build.\n\nSee SEC-7.",
                justified(
                    Justification::VulnerableCodeNotPresent,
                    statement("CVE-2024-5", State::NotAffected),
                ),
            ),
            statement("CVE-2024-6", State::Exploitable),
            statement("CVE-2024-8", State::NotAffected),
            detailed(
                "false_positive matches happen: this one is real",
                statement("CVE-2024-9", State::NotAffected),
            ),
        ]
    );
}

#[test]
fn later_statements_supersede_earlier_ones() {
    let about = |status: &str, timestamp: Option<&str>| {
        let mut statement = json!({
            "vulnerability": { "name": "CVE-2024-10" },
            "products": [{ "@id": "pkg:pypi/a@1" }],
            "status": status,
        });
        if let Some(timestamp) = timestamp {
            statement["timestamp"] = json!(timestamp);
        }
        statement
    };
    // By timestamp: the newest wins wherever it stands.
    let document = parse_value(&openvex(json!([
        about("affected", Some("2024-05-03T00:00:00Z")),
        about("fixed", Some("2024-05-02T00:00:00Z")),
    ])));
    assert_eq!(document.statements[0].state, State::Exploitable);
    assert_eq!(
        document.warnings,
        [
            "statements[1] (CVE-2024-10): resolved for pkg:pypi/a@1 is superseded by exploitable in \
          the later statements[0]"
        ]
    );
    // Without statement timestamps (all take the document's): the last one wins.
    let document = parse_value(&openvex(json!([
        about("fixed", None),
        about("under_investigation", None)
    ])));
    assert_eq!(document.statements[0].state, State::InTriage);
    // Agreeing statements need no warning.
    let document = parse_value(&openvex(json!([
        about("fixed", None),
        about("fixed", None)
    ])));
    assert_eq!(document.statements.len(), 1);
    assert!(document.warnings.is_empty());

    // CycloneDX: analysis.lastUpdated.
    let document = parse_value(&cyclonedx_bom(json!([
        {
            "id": "CVE-2024-11",
            "analysis": { "state": "exploitable", "lastUpdated": "2024-05-03T00:00:00Z" },
            "affects": [{ "ref": "torch" }],
        },
        {
            "id": "CVE-2024-11",
            "analysis": { "state": "resolved", "lastUpdated": "2024-05-01T00:00:00Z" },
            "affects": [{ "ref": "torch" }],
        },
    ])));
    assert_eq!(document.statements.len(), 1);
    assert_eq!(document.statements[0].state, State::Exploitable);
    assert_eq!(document.warnings.len(), 1);
}

#[test]
fn openvex_contexts() {
    let mut document = openvex(json!([{ "vulnerability": "CVE-2024-12", "status": "fixed" }]));
    for context in [
        "https://openvex.dev/ns",
        "https://openvex.dev/ns/v0.0.1",
        "https://openvex.dev/ns/v0.2.0/",
    ] {
        document["@context"] = json!(context);
        let read = parse_value(&document);
        assert_eq!(read.statements.len(), 1, "{context}");
        assert!(read.warnings.is_empty(), "{context}: {:?}", read.warnings);
    }
    document["@context"] = json!([
        "https://www.w3.org/ns/credentials/v2",
        "https://openvex.dev/ns/v0.2.0"
    ]);
    assert_eq!(parse_value(&document).format, Format::OpenVex);
    document["@context"] = json!("https://openvex.dev/ns/v1.0.0");
    let read = parse_value(&document);
    assert_eq!(read.statements.len(), 1);
    assert_eq!(
        read.warnings,
        ["unknown OpenVEX context `https://openvex.dev/ns/v1.0.0`; read as v0.2.0"]
    );
}

#[test]
fn documents_that_cannot_be_read_are_errors_naming_them() {
    let cases: [(&[u8], &str); 8] = [
        (b"", "`vex.json` is not a VEX document bulwark can read: the document is empty"),
        (b"{\"statements\": [", "`vex.json` is not well-formed JSON"),
        (
            b"\xEF\xBB\xBF<?xml version=\"1.0\"?><bom xmlns=\"http://cyclonedx.org/schema/bom/1.6\"/>",
            "`vex.json` is not a VEX document bulwark can read: it is XML; bulwark reads \
             CycloneDX VEX as JSON and OpenVEX",
        ),
        (
            b"[1, 2]",
            "`vex.json` is not a VEX document bulwark can read: the top level is not a JSON object",
        ),
        (
            b"{\"spdxVersion\": \"SPDX-2.3\"}",
            "`vex.json` is not a VEX document bulwark can read: neither OpenVEX (an `@context` \
             under https://openvex.dev/ns) nor CycloneDX (`\"bomFormat\": \"CycloneDX\"`)",
        ),
        (
            b"{\"@context\": \"https://www.w3.org/2018/credentials/v1\"}",
            "`vex.json` is not a VEX document bulwark can read: neither OpenVEX (an `@context` \
             under https://openvex.dev/ns) nor CycloneDX (`\"bomFormat\": \"CycloneDX\"`)",
        ),
        (
            b"{\"@context\": \"https://openvex.dev/ns/v0.2.0\", \"statements\": {}}",
            "`vex.json` is not a VEX document bulwark can read: the OpenVEX document has no \
             `statements` array",
        ),
        (
            b"  \n {\"bomFormat\": \"SPDX\"}",
            "`vex.json` is not a VEX document bulwark can read: neither OpenVEX (an `@context` \
             under https://openvex.dev/ns) nor CycloneDX (`\"bomFormat\": \"CycloneDX\"`)",
        ),
    ];
    for (bytes, message) in cases {
        let error = parse(bytes, "vex.json").unwrap_err();
        assert_eq!(error.to_string(), message);
    }
    let error = parse(b"{\"a\": }", "vex.json").unwrap_err();
    assert!(matches!(&error, VexError::Json { source_name, .. } if source_name == "vex.json"));
    let source = std::error::Error::source(&error)
        .expect("the parser's error")
        .to_string();
    assert!(source.contains("line 1 column 7"), "{source}");
}

#[test]
fn the_format_is_sniffed_from_the_content_not_the_name() {
    let openvex = to_openvex(&sample(), &options()).unwrap();
    let cyclonedx = to_cyclonedx(&sample(), &options()).unwrap();
    assert_eq!(
        parse(&openvex, "bom.cdx.json").unwrap().format,
        Format::OpenVex
    );
    assert_eq!(
        parse(&cyclonedx, "vex.openvex.json").unwrap().format,
        Format::CycloneDx
    );
}
