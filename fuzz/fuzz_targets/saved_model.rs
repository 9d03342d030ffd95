#![no_main]

//! TensorFlow saved_model.pb op scanning.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = bulwark_model::tensorflow::parse_saved_model(data);
});
