#![no_main]

//! The protobuf reader behind the ONNX parser.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = bulwark_model::onnx::parse(data);
});
