#![no_main]

//! Container detection and every container reader (zip, tar, legacy .pt, npy/npz).

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut reader = std::io::Cursor::new(data);
    let _ = bulwark_pickle::scan_file(&mut reader, "fuzz.pt", &bulwark_pickle::Limits::default());
});
