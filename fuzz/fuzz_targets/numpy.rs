#![no_main]

//! .npy headers and .npz archives.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = bulwark_model::numpy::parse_header(data);
    let _ = bulwark_model::numpy::read_npz(std::io::Cursor::new(data));
});
