#![no_main]

//! Hugging Face config.json, model cards (YAML front matter) and shard indexes.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = bulwark_model::hf::parse_config(data);
    let _ = bulwark_model::hf::index_shards(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = bulwark_model::hf::parse_model_card(text);
        let _ = bulwark_model::chat_template::suspicious_names(text);
    }
});
