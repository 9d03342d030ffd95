#![no_main]

//! The safetensors header: length prefix, JSON, offsets.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = bulwark_model::safetensors::parse_header(data);
});
