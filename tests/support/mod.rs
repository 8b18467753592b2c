//! Test files made by the tests themselves: every format Sori opens, from a synthesized tone.
#![allow(dead_code)]

use std::path::Path;

/// Interleaved test tone: channel c is a sine at 220·(c+1) Hz, amplitude 0.5.
pub fn tone(rate: u32, channels: usize, secs: f64) -> Vec<f32> {
    let frames = (rate as f64 * secs).round() as usize;
    let mut v = Vec::with_capacity(frames * channels);
    for i in 0..frames {
        for c in 0..channels {
            let f = 220.0 * (c + 1) as f64;
            v.push((0.5 * (2.0 * std::f64::consts::PI * f * i as f64 / rate as f64).sin()) as f32);
        }
    }
    v
}

#[path = "../../src/testdir.rs"]
mod testdir;
#[allow(unused_imports)]
pub use testdir::{TestDir, process_dir};

/// Points `SORI_DATA_DIR` (notes of the demo, recovery copies, pictures) at one folder of this
/// process's own, the same for every test that calls it, so that no test writes to the user's.
pub fn use_test_data_dir() {
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let d = process_dir("data");
        // SAFETY: set once per process, by the first test that needs it, before that test's
        // code reads it; std's environment lock orders it with the other tests' reads.
        unsafe { std::env::set_var("SORI_DATA_DIR", &d) };
        d
    });
}

/// A fresh temporary folder, removed with its files when the returned guard is dropped.
pub fn tmpdir(name: &str) -> TestDir {
    TestDir::new(name)
}

fn i16s(s: &[f32]) -> Vec<i16> {
    s.iter()
        .map(|x| (x.clamp(-1.0, 1.0) * 32767.0).round() as i16)
        .collect()
}

#[derive(Debug, Clone, Copy)]
pub enum WavFmt {
    U8,
    I16,
    I24,
    I32,
    F32,
    F64,
}

/// Writes a RIFF/WAVE file by hand (so every variant, including WAVE_FORMAT_EXTENSIBLE and
/// 64-bit float, is covered).
pub fn wav(
    path: &Path,
    rate: u32,
    channels: usize,
    fmt: WavFmt,
    extensible: bool,
    samples: &[f32],
) {
    let (bits, float) = match fmt {
        WavFmt::U8 => (8u16, false),
        WavFmt::I16 => (16, false),
        WavFmt::I24 => (24, false),
        WavFmt::I32 => (32, false),
        WavFmt::F32 => (32, true),
        WavFmt::F64 => (64, true),
    };
    let mut data = Vec::new();
    for &x in samples {
        let x = x.clamp(-1.0, 1.0) as f64;
        match fmt {
            WavFmt::U8 => data.push((x * 127.0 + 128.0).round() as u8),
            WavFmt::I16 => data.extend(((x * 32767.0).round() as i16).to_le_bytes()),
            WavFmt::I24 => data.extend(&((x * 8_388_607.0).round() as i32).to_le_bytes()[..3]),
            WavFmt::I32 => data.extend(((x * 2_147_483_647.0).round() as i32).to_le_bytes()),
            WavFmt::F32 => data.extend((x as f32).to_le_bytes()),
            WavFmt::F64 => data.extend(x.to_le_bytes()),
        }
    }
    let block = channels as u16 * bits / 8;
    let mut fmt_chunk = Vec::new();
    let tag: u16 = if extensible {
        0xFFFE
    } else if float {
        3
    } else {
        1
    };
    fmt_chunk.extend(tag.to_le_bytes());
    fmt_chunk.extend((channels as u16).to_le_bytes());
    fmt_chunk.extend(rate.to_le_bytes());
    fmt_chunk.extend((rate * block as u32).to_le_bytes());
    fmt_chunk.extend(block.to_le_bytes());
    fmt_chunk.extend(bits.to_le_bytes());
    if extensible {
        fmt_chunk.extend(22u16.to_le_bytes());
        fmt_chunk.extend(bits.to_le_bytes()); // valid bits
        let mask: u32 = if channels >= 32 {
            u32::MAX
        } else {
            (1u32 << channels) - 1
        };
        fmt_chunk.extend(mask.to_le_bytes());
        // KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT GUID
        let sub: u32 = if float { 3 } else { 1 };
        fmt_chunk.extend(sub.to_le_bytes());
        fmt_chunk.extend([
            0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
        ]);
    }
    let out = iff(
        b"RIFF",
        b"WAVE",
        &[(b"fmt ", &fmt_chunk), (b"data", &data)],
        false,
    );
    std::fs::write(path, out).expect("write wav");
}

/// An IFF-style file (RIFF little-endian, AIFF big-endian): outer id, form type, chunks.
fn iff(outer: &[u8; 4], form: &[u8; 4], chunks: &[(&[u8; 4], &[u8])], big_endian: bool) -> Vec<u8> {
    let size = |n: usize| {
        if big_endian {
            (n as u32).to_be_bytes()
        } else {
            (n as u32).to_le_bytes()
        }
    };
    let mut body = form.to_vec();
    for (id, data) in chunks {
        body.extend(*id);
        body.extend(size(data.len()));
        body.extend(*data);
        if data.len() % 2 == 1 {
            body.push(0); // chunks are padded to even length; the size does not count the pad
        }
    }
    let mut out = outer.to_vec();
    out.extend(size(body.len()));
    out.extend(body);
    out
}

/// 80-bit IEEE extended (AIFF's sample-rate field).
fn extended(v: f64) -> [u8; 10] {
    let mut out = [0u8; 10];
    if v <= 0.0 {
        return out;
    }
    let exp = v.log2().floor() as i32;
    let mant = (v / 2f64.powi(exp) * (1u64 << 63) as f64) as u64;
    let e = (exp + 16383) as u16;
    out[..2].copy_from_slice(&e.to_be_bytes());
    out[2..].copy_from_slice(&mant.to_be_bytes());
    out
}

/// 16-bit big-endian AIFF.
pub fn aiff(path: &Path, rate: u32, channels: usize, samples: &[f32]) {
    let frames = samples.len() / channels;
    let mut comm = Vec::new();
    comm.extend((channels as u16).to_be_bytes());
    comm.extend((frames as u32).to_be_bytes());
    comm.extend(16u16.to_be_bytes());
    comm.extend(extended(rate as f64));
    let mut ssnd = vec![0u8; 8];
    for s in i16s(samples) {
        ssnd.extend(s.to_be_bytes());
    }
    let out = iff(
        b"FORM",
        b"AIFF",
        &[(b"COMM", &comm), (b"SSND", &ssnd)],
        true,
    );
    std::fs::write(path, out).expect("write aiff");
}

pub fn flac(path: &Path, rate: u32, channels: usize, samples: &[f32]) {
    use flacenc::component::BitRepr;
    use flacenc::error::Verify;
    let ints: Vec<i32> = i16s(samples).into_iter().map(i32::from).collect();
    // A block size that divides the tone's length (multiples of 0.1 s) keeps every block the
    // same size: symphonia 0.6 rejects a STREAMINFO whose minimum block size is the short last
    // block, which flacenc writes otherwise.
    let mut config = flacenc::config::Encoder::default();
    config.block_size = rate as usize / 10;
    let config = config.into_verified().expect("flac config");
    let source = flacenc::source::MemSource::from_samples(&ints, channels, 16, rate as usize);
    let stream = flacenc::encode_with_fixed_block_size(&config, source, config.block_size)
        .expect("flac encode");
    let mut sink = flacenc::bitsink::ByteSink::new();
    stream.write(&mut sink).expect("flac write");
    std::fs::write(path, sink.as_slice()).expect("write flac");
}

pub fn mp3(path: &Path, rate: u32, channels: usize, samples: &[f32]) {
    use mp3lame_encoder::{Bitrate, Builder, FlushNoGap, InterleavedPcm, MonoPcm};
    let mut b = Builder::new().expect("lame");
    b.set_num_channels(channels as u8).expect("channels");
    b.set_sample_rate(rate).expect("rate");
    b.set_brate(Bitrate::Kbps128).expect("bitrate");
    let mut enc = b.build().expect("lame build");
    let pcm = i16s(samples);
    let mut out = Vec::with_capacity(mp3lame_encoder::max_required_buffer_size(pcm.len()) + 7200);
    if channels == 1 {
        enc.encode_to_vec(MonoPcm(&pcm), &mut out).expect("encode");
    } else {
        enc.encode_to_vec(InterleavedPcm(&pcm), &mut out)
            .expect("encode");
    }
    out.reserve(7200);
    enc.flush_to_vec::<FlushNoGap>(&mut out).expect("flush");
    std::fs::write(path, out).expect("write mp3");
}

pub fn vorbis(path: &Path, rate: u32, channels: usize, samples: &[f32]) {
    use std::num::{NonZeroU8, NonZeroU32};
    let file = std::fs::File::create(path).expect("create ogg");
    let mut enc = vorbis_rs::VorbisEncoderBuilder::new_with_serial(
        NonZeroU32::new(rate).expect("rate"),
        NonZeroU8::new(channels as u8).expect("channels"),
        file,
        1234,
    )
    .build()
    .expect("vorbis encoder");
    let frames = samples.len() / channels;
    for start in (0..frames).step_by(4096) {
        let end = (start + 4096).min(frames);
        let planar: Vec<Vec<f32>> = (0..channels)
            .map(|c| (start..end).map(|f| samples[f * channels + c]).collect())
            .collect();
        enc.encode_audio_block(&planar).expect("vorbis block");
    }
    enc.finish().expect("vorbis finish");
}

pub fn opus(path: &Path, channels: usize, samples48k: &[f32]) {
    use opus_pure::{Application, MAX_PACKET_BYTES, OggOpusWriter, OpusEncoder, OpusHead};
    let frame = 960;
    let mut enc = OpusEncoder::new(48_000, channels, Application::Audio).expect("opus encoder");
    let head = OpusHead::for_encoder(&enc, 48_000);
    let pre_skip = head.pre_skip as usize;
    let mut w = OggOpusWriter::new(Vec::new(), head).expect("ogg writer");
    let mut packet = vec![0u8; MAX_PACKET_BYTES];
    let mut padded = samples48k.to_vec();
    let frames = samples48k.len() / channels;
    // The decoder drops pre_skip samples at the start; the last page's granule trims the end.
    let end = frames + pre_skip;
    padded.resize(end.div_ceil(frame) * frame * channels, 0.0);
    let total = padded.len() / channels;
    for (i, block) in padded.chunks_exact(frame * channels).enumerate() {
        let n = enc.encode(block, frame, &mut packet).expect("opus encode");
        let last = (i + 1) * frame == total;
        if last {
            let keep = end - i * frame;
            w.write_packet_with_duration(&packet[..n], keep as u32)
                .expect("write packet");
        } else {
            w.write_packet(&packet[..n]).expect("write packet");
        }
    }
    std::fs::write(path, w.finish().expect("finish ogg")).expect("write opus");
}

// ---- A minimal MP4 (M4A) muxer for AAC and ALAC test files --------------------------------

fn atom(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    v.extend(kind);
    v.extend(body);
    v
}
fn full(kind: &[u8; 4], version_flags: u32, body: &[u8]) -> Vec<u8> {
    let mut b = version_flags.to_be_bytes().to_vec();
    b.extend(body);
    atom(kind, &b)
}
fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
    parts.concat()
}

/// Writes an .m4a with one audio track. `entry` is the sample entry (mp4a/alac box).
fn m4a(
    path: &Path,
    rate: u32,
    entry: Vec<u8>,
    packets: &[Vec<u8>],
    frames_per_packet: u32,
    total_frames: u64,
) {
    let ftyp = atom(
        b"ftyp",
        &cat(&[
            b"M4A ".to_vec(),
            0u32.to_be_bytes().to_vec(),
            b"M4A mp42isom".to_vec(),
        ]),
    );
    let mvhd = full(
        b"mvhd",
        0,
        &cat(&[
            vec![0; 8],
            rate.to_be_bytes().to_vec(),
            (total_frames as u32).to_be_bytes().to_vec(),
            0x0001_0000u32.to_be_bytes().to_vec(),
            0x0100u16.to_be_bytes().to_vec(),
            vec![0; 10],
            [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000]
                .iter()
                .flat_map(|x| x.to_be_bytes())
                .collect(),
            vec![0; 24],
            2u32.to_be_bytes().to_vec(),
        ]),
    );
    let tkhd = full(
        b"tkhd",
        7,
        &cat(&[
            vec![0; 8],
            1u32.to_be_bytes().to_vec(),
            vec![0; 4],
            (total_frames as u32).to_be_bytes().to_vec(),
            vec![0; 8],
            0u16.to_be_bytes().to_vec(),
            0u16.to_be_bytes().to_vec(),
            0x0100u16.to_be_bytes().to_vec(),
            vec![0; 2],
            [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000]
                .iter()
                .flat_map(|x| x.to_be_bytes())
                .collect(),
            vec![0; 8],
        ]),
    );
    let mdhd = full(
        b"mdhd",
        0,
        &cat(&[
            vec![0; 8],
            rate.to_be_bytes().to_vec(),
            (total_frames as u32).to_be_bytes().to_vec(),
            vec![0x55, 0xc4, 0, 0],
        ]),
    );
    let hdlr = full(
        b"hdlr",
        0,
        &cat(&[
            vec![0; 4],
            b"soun".to_vec(),
            vec![0; 12],
            b"SoundHandler\0".to_vec(),
        ]),
    );
    let smhd = full(b"smhd", 0, &[0; 4]);
    let dinf = atom(
        b"dinf",
        &full(
            b"dref",
            0,
            &cat(&[1u32.to_be_bytes().to_vec(), full(b"url ", 1, &[])]),
        ),
    );
    let stsd = full(b"stsd", 0, &cat(&[1u32.to_be_bytes().to_vec(), entry]));
    let n = packets.len() as u32;
    let last_frames = (total_frames - (n as u64 - 1) * frames_per_packet as u64) as u32;
    let stts = if last_frames == frames_per_packet || n == 1 {
        full(
            b"stts",
            0,
            &cat(&[
                1u32.to_be_bytes().to_vec(),
                n.to_be_bytes().to_vec(),
                frames_per_packet.to_be_bytes().to_vec(),
            ]),
        )
    } else {
        full(
            b"stts",
            0,
            &cat(&[
                2u32.to_be_bytes().to_vec(),
                (n - 1).to_be_bytes().to_vec(),
                frames_per_packet.to_be_bytes().to_vec(),
                1u32.to_be_bytes().to_vec(),
                last_frames.to_be_bytes().to_vec(),
            ]),
        )
    };
    let stsc = full(
        b"stsc",
        0,
        &cat(&[
            1u32.to_be_bytes().to_vec(),
            1u32.to_be_bytes().to_vec(),
            n.to_be_bytes().to_vec(),
            1u32.to_be_bytes().to_vec(),
        ]),
    );
    let mut sizes = vec![0u8; 4];
    sizes.extend(n.to_be_bytes());
    for p in packets {
        sizes.extend((p.len() as u32).to_be_bytes());
    }
    let stsz = full(b"stsz", 0, &sizes);
    // stco offset is patched once the moov size is known.
    let build = |offset: u32| {
        let stco = full(
            b"stco",
            0,
            &cat(&[1u32.to_be_bytes().to_vec(), offset.to_be_bytes().to_vec()]),
        );
        let stbl = atom(
            b"stbl",
            &cat(&[stsd.clone(), stts.clone(), stsc.clone(), stsz.clone(), stco]),
        );
        let minf = atom(b"minf", &cat(&[smhd.clone(), dinf.clone(), stbl]));
        let mdia = atom(b"mdia", &cat(&[mdhd.clone(), hdlr.clone(), minf]));
        let trak = atom(b"trak", &cat(&[tkhd.clone(), mdia]));
        atom(b"moov", &cat(&[mvhd.clone(), trak]))
    };
    let moov_len = build(0).len();
    let offset = (ftyp.len() + moov_len + 8) as u32;
    let moov = build(offset);
    let mdat = atom(b"mdat", &packets.concat());
    std::fs::write(path, cat(&[ftyp, moov, mdat])).expect("write m4a");
}

fn audio_sample_entry(kind: &[u8; 4], channels: usize, rate: u32, children: Vec<u8>) -> Vec<u8> {
    atom(
        kind,
        &cat(&[
            vec![0; 6],
            1u16.to_be_bytes().to_vec(),
            vec![0; 8],
            (channels as u16).to_be_bytes().to_vec(),
            16u16.to_be_bytes().to_vec(),
            vec![0; 4],
            ((rate.min(65535)) << 16).to_be_bytes().to_vec(),
            children,
        ]),
    )
}

fn descriptor(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![tag, 0x80, 0x80, 0x80, body.len() as u8];
    v.extend(body);
    v
}

pub fn m4a_aac(path: &Path, rate: u32, channels: usize, samples: &[f32]) {
    use fdk_aac::enc::{AudioObjectType, BitRate, ChannelMode, Encoder, EncoderParams, Transport};
    let enc = Encoder::new(EncoderParams {
        bit_rate: BitRate::VbrMedium,
        sample_rate: rate,
        transport: Transport::Raw,
        channels: if channels == 1 {
            ChannelMode::Mono
        } else {
            ChannelMode::Stereo
        },
        audio_object_type: AudioObjectType::Mpeg4LowComplexity,
    })
    .expect("aac encoder");
    let info = enc.info().expect("aac info");
    let asc = info.confBuf[..info.confSize as usize].to_vec();
    let pcm = i16s(samples);
    let mut packets = Vec::new();
    let mut buf = vec![0u8; 8192];
    let step = 1024 * channels;
    let mut padded = pcm.clone();
    padded.resize((pcm.len().div_ceil(step) + 3) * step, 0);
    for chunk in padded.chunks(step) {
        let mut input = chunk;
        while !input.is_empty() {
            let r = enc.encode(input, &mut buf).expect("aac encode");
            if r.output_size > 0 {
                packets.push(buf[..r.output_size].to_vec());
            }
            input = &input[r.input_consumed..];
            if r.input_consumed == 0 {
                break;
            }
        }
    }
    let mut dcd = vec![0x40, 0x15, 0, 0, 0];
    dcd.extend(128_000u32.to_be_bytes());
    dcd.extend(128_000u32.to_be_bytes());
    dcd.extend(descriptor(0x05, &asc));
    let mut es = vec![0, 1, 0];
    es.extend(descriptor(0x04, &dcd));
    es.extend(descriptor(0x06, &[2]));
    let esds = full(b"esds", 0, &descriptor(0x03, &es));
    let entry = audio_sample_entry(b"mp4a", channels, rate, esds);
    let total = packets.len() as u64 * 1024;
    m4a(path, rate, entry, &packets, 1024, total);
}

pub fn m4a_alac(path: &Path, rate: u32, channels: usize, samples: &[f32]) {
    use alac_encoder::{AlacEncoder, FormatDescription};
    let fpp = 4096u32;
    let out_fmt = FormatDescription::alac(rate as f64, fpp, channels as u32);
    let in_fmt = FormatDescription::pcm::<i16>(rate as f64, channels as u32);
    let mut enc = AlacEncoder::new(&out_fmt);
    let cookie = enc.magic_cookie();
    let bytes: Vec<u8> = i16s(samples).iter().flat_map(|s| s.to_le_bytes()).collect();
    let mut out = vec![0u8; out_fmt.max_packet_size()];
    let mut packets = Vec::new();
    for chunk in bytes.chunks(fpp as usize * channels * 2) {
        let n = enc.encode(&in_fmt, chunk, &mut out);
        packets.push(out[..n].to_vec());
    }
    let alac_box = full(b"alac", 0, &cookie[..24.min(cookie.len())]);
    let entry = audio_sample_entry(b"alac", channels, rate, alac_box);
    let total = (samples.len() / channels) as u64;
    m4a(path, rate, entry, &packets, fpp, total);
}

// ---- A minimal WebM (Matroska) muxer for Opus test files ----------------------------------

fn ebml(id: &[u8], body: &[u8]) -> Vec<u8> {
    let mut v = id.to_vec();
    v.push(0x01); // 8-byte size
    v.extend(&(body.len() as u64).to_be_bytes()[1..]);
    v.extend(body);
    v
}
fn ebml_uint(id: &[u8], x: u64) -> Vec<u8> {
    ebml(id, &x.to_be_bytes())
}

/// Opus in WebM: one track, one cluster of SimpleBlocks, CodecPrivate = OpusHead.
pub fn webm_opus(path: &Path, channels: usize, samples48k: &[f32]) {
    use opus_pure::{Application, MAX_PACKET_BYTES, OpusEncoder, OpusHead};
    let frame = 960;
    let mut enc = OpusEncoder::new(48_000, channels, Application::Audio).expect("opus encoder");
    let pre_skip = OpusHead::for_encoder(&enc, 48_000).pre_skip;
    let mut head = b"OpusHead".to_vec();
    head.push(1);
    head.push(channels as u8);
    head.extend(pre_skip.to_le_bytes());
    head.extend(48_000u32.to_le_bytes());
    head.extend(0i16.to_le_bytes());
    head.push(0);
    let mut padded = samples48k.to_vec();
    let frames = samples48k.len() / channels;
    padded.resize(
        (frames + pre_skip as usize).div_ceil(frame) * frame * channels,
        0.0,
    );
    let mut packet = vec![0u8; MAX_PACKET_BYTES];
    let mut blocks = Vec::new();
    for (i, block) in padded.chunks_exact(frame * channels).enumerate() {
        let n = enc.encode(block, frame, &mut packet).expect("opus encode");
        let mut sb = vec![0x81];
        sb.extend(((i * 20) as i16).to_be_bytes());
        sb.push(0x80);
        sb.extend(&packet[..n]);
        blocks.extend(ebml(&[0xA3], &sb));
    }
    let header = cat(&[
        ebml_uint(&[0x42, 0x86], 1),
        ebml_uint(&[0x42, 0xF7], 1),
        ebml_uint(&[0x42, 0xF2], 4),
        ebml_uint(&[0x42, 0xF3], 8),
        ebml(&[0x42, 0x82], b"webm"),
        ebml_uint(&[0x42, 0x87], 4),
        ebml_uint(&[0x42, 0x85], 2),
    ]);
    let audio = cat(&[
        ebml(&[0xB5], &48_000f64.to_be_bytes()),
        ebml_uint(&[0x9F], channels as u64),
    ]);
    let track = cat(&[
        ebml_uint(&[0xD7], 1),
        ebml_uint(&[0x73, 0xC5], 1),
        ebml_uint(&[0x83], 2),
        ebml(&[0x86], b"A_OPUS"),
        ebml(&[0x63, 0xA2], &head),
        ebml(&[0xE1], &audio),
    ]);
    let segment = cat(&[
        ebml(
            &[0x15, 0x49, 0xA9, 0x66],
            &cat(&[
                ebml_uint(&[0x2A, 0xD7, 0xB1], 1_000_000),
                ebml(&[0x4D, 0x80], b"sori-test"),
                ebml(&[0x57, 0x41], b"sori-test"),
            ]),
        ),
        ebml(&[0x16, 0x54, 0xAE, 0x6B], &ebml(&[0xAE], &track)),
        ebml(
            &[0x1F, 0x43, 0xB6, 0x75],
            &cat(&[ebml_uint(&[0xE7], 0), blocks]),
        ),
    ]);
    let file = cat(&[
        ebml(&[0x1A, 0x45, 0xDF, 0xA3], &header),
        ebml(&[0x18, 0x53, 0x80, 0x67], &segment),
    ]);
    std::fs::write(path, file).expect("write webm");
}
