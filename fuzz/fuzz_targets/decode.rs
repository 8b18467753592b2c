#![no_main]
//! Opening and decoding an audio file of any kind from its bytes.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    sori::fuzzing::decode(data);
});
