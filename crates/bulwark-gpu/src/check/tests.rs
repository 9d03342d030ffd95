//! `check` over trees scanned and annotated end to end.

use std::path::Path;

use crate::annotate::tests::{SITE, install, ml_venv, scan, write};

use super::*;

fn proc_driver(root: &Path, version: &str) {
    write(
        root,
        "proc/driver/nvidia/version",
        &format!(
            "NVRM version: NVIDIA UNIX x86_64 Kernel Module  {version}  Sat Aug 19 01:15:15 UTC 2023\n\
             GCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n"
        ),
    );
}

fn issues(root: &Path) -> Vec<GpuIssue> {
    check(&scan(root))
}

fn ids(issues: &[GpuIssue]) -> Vec<(Severity, &'static str)> {
    issues.iter().map(|i| (i.severity, i.id)).collect()
}

#[test]
fn driver_too_old_for_the_ml_venv() {
    let dir = tempfile::tempdir().unwrap();
    ml_venv(dir.path(), SITE);
    proc_driver(dir.path(), "470.82.01");
    let found = issues(dir.path());
    assert_eq!(
        ids(&found),
        [(Severity::Error, DRIVER_TOO_OLD)],
        "{found:#?}"
    );
    let issue = &found[0];
    assert!(
        issue.message.starts_with(
            "NVIDIA driver 470.82.01 is too old for CUDA 12.1, which needs driver 525.60.13"
        ),
        "{}",
        issue.message
    );
    assert!(
        issue.message.contains("torch 2.1.2 (CUDA 12.1)"),
        "{}",
        issue.message
    );
    for purl in [
        "pkg:generic/nvidia/nvidia-driver@470.82.01",
        "pkg:pypi/torch@2.1.2",
        "pkg:pypi/nvidia-cuda-runtime-cu12@12.1.105",
    ] {
        assert!(
            issue.components.iter().any(|c| c == purl),
            "{purl}: {issue:#?}"
        );
    }
    let json = serde_json::to_value(issue).unwrap();
    assert_eq!(json["severity"], "error");
    assert_eq!(json["id"], "BWG-DRIVER-TOO-OLD");
}

#[test]
fn a_current_driver_passes_and_an_older_one_runs_under_minor_compatibility() {
    let dir = tempfile::tempdir().unwrap();
    ml_venv(dir.path(), SITE);
    proc_driver(dir.path(), "535.104.05");
    assert_eq!(issues(dir.path()), []);

    proc_driver(dir.path(), "525.85.12");
    let found = issues(dir.path());
    assert_eq!(
        ids(&found),
        [(Severity::Info, DRIVER_MINOR_COMPAT)],
        "{found:#?}"
    );
    assert!(
        found[0]
            .message
            .contains("CUDA 12.1's own minimum (530.30.02)"),
        "{}",
        found[0].message
    );
}

#[test]
fn forward_compatibility_turns_the_error_into_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    ml_venv(dir.path(), SITE);
    proc_driver(dir.path(), "470.82.01");
    write(
        dir.path(),
        "usr/local/cuda-12.1/compat/libcuda.so.530.30.02",
        "",
    );
    let found = issues(dir.path());
    assert_eq!(
        ids(&found),
        [(Severity::Warning, DRIVER_TOO_OLD)],
        "{found:#?}"
    );
    assert!(
        found[0].message.contains("data-center GPUs only"),
        "{}",
        found[0].message
    );
    assert!(
        found[0]
            .components
            .contains(&"pkg:generic/nvidia/cuda-compat@530.30.02".to_owned())
    );
}

#[test]
fn without_a_driver_nothing_is_said_about_it() {
    let dir = tempfile::tempdir().unwrap();
    ml_venv(dir.path(), SITE);
    assert_eq!(issues(dir.path()), []);
    let empty = tempfile::tempdir().unwrap();
    proc_driver(empty.path(), "470.82.01");
    assert_eq!(issues(empty.path()), []);
}

#[test]
fn kernel_module_and_user_space_disagree() {
    let dir = tempfile::tempdir().unwrap();
    proc_driver(dir.path(), "535.104.05");
    write(
        dir.path(),
        "usr/lib/x86_64-linux-gnu/libcuda.so.530.30.02",
        "",
    );
    let found = issues(dir.path());
    assert_eq!(
        ids(&found),
        [(Severity::Warning, DRIVER_VERSION_MISMATCH)],
        "{found:#?}"
    );
}

#[test]
fn cudnn_and_wheels_for_another_cuda_major() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), SITE, "torch", "2.1.2+cu118", &[], &[]);
    install(
        dir.path(),
        SITE,
        "nvidia-cudnn-cu12",
        "8.9.2.26",
        &[],
        &[("nvidia/cudnn/lib/libcudnn.so.8", "")],
    );
    let found = issues(dir.path());
    assert_eq!(
        ids(&found),
        [
            (Severity::Error, CUDNN_CUDA_MISMATCH),
            (Severity::Warning, FRAMEWORK_CUDA_MISMATCH)
        ],
        "{found:#?}"
    );
    assert!(
        found[0].message.starts_with(
            "cuDNN nvidia-cudnn-cu12 8.9.2.26 is built for CUDA 12, but torch 2.1.2+cu118 (CUDA 11)"
        ),
        "{}",
        found[0].message
    );
}

#[test]
fn framework_built_with_another_cudnn() {
    for (cudnn, want) in [
        ("9.1.0.70", Some(Severity::Error)),
        ("8.6.0.163", Some(Severity::Warning)),
        ("8.9.7.29", None),
    ] {
        let dir = tempfile::tempdir().unwrap();
        install(
            dir.path(),
            SITE,
            "jaxlib",
            "0.4.23+cuda12.cudnn89",
            &[],
            &[],
        );
        install(dir.path(), SITE, "nvidia-cudnn-cu12", cudnn, &[], &[]);
        let found = issues(dir.path());
        let want: Vec<_> = want
            .map(|s| (s, CUDNN_VERSION_MISMATCH))
            .into_iter()
            .collect();
        assert_eq!(ids(&found), want, "{cudnn}: {found:#?}");
    }
}

#[test]
fn two_versions_of_a_library_in_one_environment() {
    let dir = tempfile::tempdir().unwrap();
    install(
        dir.path(),
        SITE,
        "torch",
        "2.0.1",
        &[],
        &[("torch/lib/libcudnn.so.8.6.0", "")],
    );
    install(dir.path(), SITE, "nvidia-cudnn-cu12", "8.9.2.26", &[], &[]);
    let found = issues(dir.path());
    assert_eq!(
        ids(&found),
        [(Severity::Warning, LIBRARY_DUPLICATE)],
        "{found:#?}"
    );
    assert!(
        found[0].message.starts_with(&format!(
            "2 versions of cudnn in {SITE}: 8.6.0 ({SITE}/torch/lib/libcudnn.so.8.6.0), \
             8.9.2.26 (nvidia-cudnn-cu12 8.9.2.26)"
        )),
        "{}",
        found[0].message
    );
}

#[test]
fn separate_environments_do_not_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let other = "other/lib/python3.10/site-packages";
    install(dir.path(), SITE, "torch", "2.1.2+cu121", &[], &[]);
    install(dir.path(), SITE, "nvidia-cudnn-cu12", "8.9.2.26", &[], &[]);
    install(dir.path(), other, "torch", "2.0.1+cu118", &[], &[]);
    install(dir.path(), other, "nvidia-cudnn-cu11", "8.5.0.96", &[], &[]);
    assert_eq!(issues(dir.path()), []);
}

#[test]
fn framework_and_toolkit_majors() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), SITE, "torch", "2.1.2+cu118", &[], &[]);
    write(
        dir.path(),
        "usr/local/cuda-12.1/version.json",
        &fs_err::read_to_string(crate::test_support::testdata("cuda-12.1/version.json")).unwrap(),
    );
    let found = issues(dir.path());
    assert_eq!(
        ids(&found),
        [(Severity::Warning, FRAMEWORK_TOOLKIT_MISMATCH)],
        "{found:#?}"
    );

    write(
        dir.path(),
        "usr/local/cuda-11.8/version.txt",
        "CUDA Version 11.8.89\n",
    );
    assert_eq!(issues(dir.path()), []);
}

#[test]
fn side_by_side_toolkits_are_not_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "usr/local/cuda-12.1/lib64/libcudart.so.12.1.105",
        "",
    );
    write(
        dir.path(),
        "usr/local/cuda-11.8/lib64/libcudart.so.11.8.89",
        "",
    );
    assert_eq!(issues(dir.path()), []);
    // Outside toolkit directories they are.
    write(
        dir.path(),
        "usr/lib/x86_64-linux-gnu/libcudart.so.12.2.140",
        "",
    );
    write(dir.path(), "usr/lib64/libcudart.so.11.8.89", "");
    let found = issues(dir.path());
    assert_eq!(
        ids(&found),
        [(Severity::Warning, LIBRARY_DUPLICATE)],
        "{found:#?}"
    );
}
