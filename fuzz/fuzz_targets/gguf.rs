#![no_main]

//! GGUF v1-v3 metadata and tensor infos.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = bulwark_model::gguf::parse(data);
});
