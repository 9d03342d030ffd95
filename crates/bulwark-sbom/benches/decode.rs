//! Decoding a 50,000-component CycloneDX JSON document, shaped like Syft's output (purl,
//! bom-ref, CPE, license, hash, properties, occurrences, one dependency per component).

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

const COMPONENTS: usize = 50_000;

fn document() -> String {
    let mut out = String::from(
        r#"{"$schema":"http://cyclonedx.org/schema/bom-1.6.schema.json","bomFormat":"CycloneDX","specVersion":"1.6","version":1,"metadata":{"component":{"type":"application","bom-ref":"root","name":"big"}},"components":["#,
    );
    for index in 0..COMPONENTS {
        if index > 0 {
            out.push(',');
        }
        let name = format!("package-{index}");
        let version = format!("{}.{}.{}", index % 7, index % 13, index % 101);
        let _ = write!(
            out,
            r#"{{"bom-ref":"pkg:pypi/{name}@{version}?package-id={index:016x}","type":"library","author":"Author {index} <author{index}@example.invalid>","name":"{name}","version":"{version}","licenses":[{{"license":{{"id":"MIT"}}}}],"hashes":[{{"alg":"SHA-256","content":"{index:064x}"}}],"cpe":"cpe:2.3:a:{name}:{name}:{version}:*:*:*:*:*:*:*","purl":"pkg:pypi/{name}@{version}","properties":[{{"name":"syft:package:foundBy","value":"python-installed-package-cataloger"}},{{"name":"syft:package:language","value":"python"}},{{"name":"syft:package:type","value":"python"}},{{"name":"syft:location:0:path","value":"/usr/lib/python3/site-packages/{name}-{version}.dist-info/METADATA"}}],"evidence":{{"occurrences":[{{"location":"usr/lib/python3/site-packages/{name}-{version}.dist-info/RECORD"}}]}}}}"#
        );
    }
    out.push_str(r#"],"dependencies":["#);
    for index in 0..COMPONENTS {
        if index > 0 {
            out.push(',');
        }
        let next = (index + 1) % COMPONENTS;
        let _ = write!(
            out,
            r#"{{"ref":"pkg:pypi/package-{index}@{}.{}.{}?package-id={index:016x}","dependsOn":["pkg:pypi/package-{next}@{}.{}.{}?package-id={next:016x}"]}}"#,
            index % 7,
            index % 13,
            index % 101,
            next % 7,
            next % 13,
            next % 101,
        );
    }
    out.push_str("]}");
    out
}

fn decode_50k(c: &mut Criterion) {
    let document = document();
    let mut group = c.benchmark_group("decode");
    group.sample_size(10);
    group.bench_function("cyclonedx_json_50k", |b| {
        b.iter(|| bulwark_sbom::decode(black_box(document.as_bytes()), "sbom-50k.cdx.json"));
    });
    group.finish();
}

criterion_group!(benches, decode_50k);
criterion_main!(benches);
