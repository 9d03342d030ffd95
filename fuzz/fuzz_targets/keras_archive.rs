#![no_main]

//! Keras v3 archives: the zip and its config.json.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = bulwark_model::keras::read_archive(std::io::Cursor::new(data));
});
