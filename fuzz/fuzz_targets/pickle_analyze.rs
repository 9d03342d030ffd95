#![no_main]

//! The symbolic pickle machine on arbitrary bytes: never panics, always bounded.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = bulwark_pickle::analyze(data, &bulwark_pickle::Limits::default());
});
