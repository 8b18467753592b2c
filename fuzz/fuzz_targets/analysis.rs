#![no_main]
//! The analysis (features, fusion lens, peaks, spectrogram) on arbitrary samples.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    sori::fuzzing::analysis(data);
});
