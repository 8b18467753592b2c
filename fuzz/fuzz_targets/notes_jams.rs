#![no_main]
//! The Jams notes parser (and writing back what it read).
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    sori::fuzzing::notes(sori::notes::interchange::Format::Jams, data);
});
