//! Header repair before probing: what recorders and editors leave behind when they crash or
//! write past a limit. A WAV or AIFF whose sizes run past the end of the file (or say
//! "unknown") is read as far as the file goes; an MP3 whose Xing/Info header announces an
//! impossible frame count is read by its frames. The file itself is never changed: the
//! corrected header bytes are laid over what is read.

use std::io::{Read, Seek, SeekFrom};

use symphonia::core::io::MediaSource;

/// What [`inspect`] found.
#[derive(Debug, Default)]
pub struct Repair {
    /// Bytes to lay over the source: (offset, replacement).
    pub patches: Vec<(u64, Vec<u8>)>,
    /// Frames the header announces, when the repair knows better than the container reader
    /// will (a size past the end of the file, or "unknown" meaning "to the end").
    pub announced_frames: Option<u64>,
    /// A size ran past the end of the file: it was cut short.
    pub cut_short: bool,
}

/// Most chunks walked before giving up (real files have a handful).
const MAX_CHUNKS: usize = 256;

/// Looks at the start of `src` (`len` bytes) and says what to correct. Reads only chunk
/// headers; leaves the position anywhere (the caller seeks back).
pub fn inspect(src: &mut (impl Read + Seek), len: u64) -> Repair {
    let mut head = [0u8; 12];
    if read_at(src, 0, &mut head).is_none() {
        return Repair::default();
    }
    match (&head[..4], &head[8..12]) {
        (b"RIFF", b"WAVE") => wav(src, len).unwrap_or_default(),
        (b"FORM", b"AIFF" | b"AIFC") => aiff(src, len).unwrap_or_default(),
        ([0x1A, 0x45, 0xDF, 0xA3], _) => matroska(src, len).unwrap_or_default(),
        _ if matches!(&head[4..8], b"ftyp" | b"moov" | b"free" | b"mdat" | b"wide") => {
            mp4(src, len).unwrap_or_default()
        }
        _ => mp3_xing(src, len).unwrap_or_default(),
    }
}

fn read_at(src: &mut (impl Read + Seek), at: u64, buf: &mut [u8]) -> Option<()> {
    src.seek(SeekFrom::Start(at)).ok()?;
    src.read_exact(buf).ok()
}

/// The chunks of a RIFF file (little-endian sizes) or an IFF one like AIFF (big-endian), from
/// offset 12: (id, where the chunk starts, the size of its body).
struct Chunks<'a, S> {
    src: &'a mut S,
    at: u64,
    len: u64,
    big_endian: bool,
    left: usize,
}

impl<'a, S: Read + Seek> Chunks<'a, S> {
    fn new(src: &'a mut S, len: u64, big_endian: bool) -> Self {
        Self {
            src,
            at: 12,
            len,
            big_endian,
            left: MAX_CHUNKS,
        }
    }

    fn next(&mut self) -> Option<([u8; 4], u64, u64)> {
        if self.left == 0 || self.at >= self.len {
            return None;
        }
        self.left -= 1;
        let mut h = [0u8; 8];
        read_at(self.src, self.at, &mut h)?;
        let size = self.u32_of([h[4], h[5], h[6], h[7]]) as u64;
        let at = self.at;
        self.at = at + 8 + size + (size & 1);
        Some(([h[0], h[1], h[2], h[3]], at, size))
    }

    fn u32_of(&self, b: [u8; 4]) -> u32 {
        if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    }

    fn bytes_of(&self, v: u64) -> Vec<u8> {
        let v = v.min(u32::MAX as u64) as u32;
        if self.big_endian {
            v.to_be_bytes().to_vec()
        } else {
            v.to_le_bytes().to_vec()
        }
    }

    /// The file's own length field (at offset 4) made to match the file; returns that length.
    fn fix_container_len(&mut self, r: &mut Repair) -> Option<u64> {
        let want = (self.len - 8).min(u32::MAX as u64);
        let mut b = [0u8; 4];
        read_at(self.src, 4, &mut b)?;
        if self.u32_of(b) as u64 != want {
            r.patches.push((4, self.bytes_of(want)));
        }
        Some(want)
    }
}

fn wav(src: &mut (impl Read + Seek), len: u64) -> Option<Repair> {
    let mut r = Repair::default();
    let mut chunks = Chunks::new(src, len, false);
    let riff_len = chunks.fix_container_len(&mut r)?;
    let mut block_align = 0u64;
    while let Some((id, at, size)) = chunks.next() {
        let body = at + 8;
        if &id == b"fmt " {
            let mut f = [0u8; 14];
            read_at(chunks.src, body, &mut f)?;
            block_align = u16::from_le_bytes([f[12], f[13]]) as u64;
        } else if &id == b"data" {
            let there = len.saturating_sub(body);
            // 0 and 0xFFFFFFFF are what streaming writers leave: "to the end of the file".
            let unknown = size == 0 || size == u32::MAX as u64;
            let claimed = if unknown { there } else { size };
            let readable = claimed.min(there).min((riff_len + 8).saturating_sub(body));
            r.cut_short = claimed > there;
            if readable != size {
                r.patches.push((at + 4, chunks.bytes_of(readable)));
                r.announced_frames = claimed.checked_div(block_align);
            }
            return Some(r);
        }
    }
    None
}

fn aiff(src: &mut (impl Read + Seek), len: u64) -> Option<Repair> {
    let mut r = Repair::default();
    let mut chunks = Chunks::new(src, len, true);
    let form_len = chunks.fix_container_len(&mut r)?;
    let mut comm: Option<(u64, u64, u64)> = None; // (offset of the frame count, frames, bytes per frame)
    while let Some((id, at, size)) = chunks.next() {
        let body = at + 8;
        if &id == b"COMM" {
            let mut c = [0u8; 8];
            read_at(chunks.src, body, &mut c)?;
            let channels = u16::from_be_bytes([c[0], c[1]]) as u64;
            let frames = u32::from_be_bytes([c[2], c[3], c[4], c[5]]) as u64;
            let bits = u16::from_be_bytes([c[6], c[7]]) as u64;
            comm = Some((body + 2, frames, channels * bits.div_ceil(8)));
        } else if &id == b"SSND" {
            let there = len.saturating_sub(body);
            let readable = size.min(there).min((form_len + 8).saturating_sub(body));
            r.cut_short = size > there;
            if readable != size {
                r.patches.push((at + 4, chunks.bytes_of(readable)));
            }
            if let Some((frames_at, frames, per_frame)) = comm
                && per_frame > 0
            {
                // The sound data starts 8 bytes in (offset and block size).
                let have = readable.saturating_sub(8) / per_frame;
                if have < frames {
                    r.patches.push((frames_at, chunks.bytes_of(have)));
                    r.announced_frames = Some(frames);
                }
            }
            return Some(r);
        }
    }
    None
}

/// An EBML variable-length integer at `at`: (its width in bytes, its value with the marker bit
/// removed, whether it is all ones: "unknown").
fn vint(src: &mut (impl Read + Seek), at: u64) -> Option<(u64, u64, bool)> {
    let mut first = [0u8; 1];
    read_at(src, at, &mut first)?;
    let width = first[0].leading_zeros() as u64 + 1;
    if width > 8 {
        return None;
    }
    let mut rest = [0u8; 7];
    read_at(src, at + 1, &mut rest[..width as usize - 1])?;
    let mask = if width == 8 { 0 } else { 0xFFu8 >> width };
    let mut value = (first[0] & mask) as u64;
    let mut ones = first[0] & mask == mask;
    for &b in &rest[..width as usize - 1] {
        value = (value << 8) | b as u64;
        ones &= b == 0xFF;
    }
    Some((width, value, ones))
}

/// The "unknown size" of `width` bytes: the marker bit and every bit after it set.
fn unknown_size(width: u64) -> Vec<u8> {
    let mut v = vec![0xFF; width as usize];
    v[0] = 0xFF >> (width - 1);
    v
}

/// Matroska/WebM cut short (an interrupted recording, a partial download): the Segment and
/// the Cluster that run past the end get the "unknown" size, which readers take as "to the
/// end", so every whole block before the cut is read.
fn matroska(src: &mut (impl Read + Seek), len: u64) -> Option<Repair> {
    let mut r = Repair::default();
    // The EBML header element, then the Segment.
    let (_, head_size, _) = vint(src, 4)?;
    let (w, _, _) = vint(src, 4)?;
    let mut at = 4 + w + head_size;
    let mut level_end = len;
    for _ in 0..MAX_CHUNKS {
        if at >= level_end {
            break;
        }
        let (id_w, _, _) = vint(src, at)?;
        let mut id = [0u8; 4];
        read_at(src, at, &mut id[..id_w.min(4) as usize])?;
        let (size_w, size, unknown) = vint(src, at + id_w)?;
        let body = at + id_w + size_w;
        let master = matches!(id, [0x18, 0x53, 0x80, 0x67] | [0x1F, 0x43, 0xB6, 0x75]);
        if !unknown && body.saturating_add(size) > len {
            r.patches.push((at + id_w, unknown_size(size_w)));
            r.cut_short = true;
        }
        if master {
            // Segment or Cluster: look inside it.
            at = body;
            if !unknown {
                level_end = body.saturating_add(size).min(len);
            }
        } else if unknown {
            break;
        } else {
            at = body.saturating_add(size);
        }
    }
    Some(r)
}

/// MP4/M4A cut short: the media data atom (`mdat`) that runs past the end is made to end with
/// the file, so the samples before the cut are read (the sample tables, in `moov`, must be
/// there: without them nothing can be).
fn mp4(src: &mut (impl Read + Seek), len: u64) -> Option<Repair> {
    let mut r = Repair::default();
    let mut at = 0u64;
    for _ in 0..MAX_CHUNKS {
        if at + 8 > len {
            break;
        }
        let mut h = [0u8; 16];
        let n = (len - at).min(16) as usize;
        read_at(src, at, &mut h[..n])?;
        let size32 = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as u64;
        let (size, wide) = match size32 {
            0 => break, // to the end of the file
            1 if n == 16 => (u64::from_be_bytes(h[8..16].try_into().ok()?), true),
            1 => break,
            s => (s, false),
        };
        if size < 8 {
            break;
        }
        if at.saturating_add(size) > len {
            if &h[4..8] == b"mdat" {
                let fits = len - at;
                r.patches.push(if wide {
                    (at + 8, fits.to_be_bytes().to_vec())
                } else {
                    (at, (fits as u32).to_be_bytes().to_vec())
                });
                r.cut_short = true;
            }
            break;
        }
        at += size;
    }
    Some(r)
}

/// The smallest MPEG audio frame there is (MPEG-2.5 layer III at 8 kbps is larger still):
/// a Xing count above `len / 16` cannot be true.
const MIN_FRAME_BYTES: u64 = 16;

fn mp3_xing(src: &mut (impl Read + Seek), len: u64) -> Option<Repair> {
    // Skip an ID3v2 tag: "ID3", version, flags, then a 28-bit size in 4 bytes of 7 bits.
    let mut id3 = [0u8; 10];
    read_at(src, 0, &mut id3)?;
    let start = if &id3[..3] == b"ID3" {
        let s = id3[6..10]
            .iter()
            .fold(0u64, |acc, &b| (acc << 7) | (b & 0x7F) as u64);
        10 + s + if id3[5] & 0x10 != 0 { 10 } else { 0 }
    } else {
        0
    };
    let mut f = [0u8; 64];
    read_at(src, start, &mut f)?;
    if f[0] != 0xFF || f[1] & 0xE0 != 0xE0 || (f[1] >> 1) & 3 != 1 {
        return None; // not an MPEG layer III frame header
    }
    let mpeg1 = (f[1] >> 3) & 3 == 3;
    let mono = f[3] >> 6 == 3;
    let side = match (mpeg1, mono) {
        (true, false) => 32,
        (true, true) | (false, false) => 17,
        (false, true) => 9,
    };
    let tag = 4 + side;
    if &f[tag..tag + 4] != b"Xing" && &f[tag..tag + 4] != b"Info" {
        return None;
    }
    let flags = u32::from_be_bytes([f[tag + 4], f[tag + 5], f[tag + 6], f[tag + 7]]);
    if flags & 1 == 0 {
        return None;
    }
    let field = |k: usize| u32::from_be_bytes([f[k], f[k + 1], f[k + 2], f[k + 3]]) as u64;
    let frames = field(tag + 8);
    // The byte count, when present, is the stream's length: tags at the end (ID3v1, APE)
    // make the file a little longer, never shorter or twice as long.
    let stream = len - start;
    let bytes_wrong = flags & 2 != 0 && {
        let bytes = field(tag + 12);
        bytes > stream || bytes < stream / 2
    };
    if frames == 0 || frames > len / MIN_FRAME_BYTES || bytes_wrong {
        // Unbelievable: hide the tag, so the reader counts the frames themselves.
        return Some(Repair {
            patches: vec![(start + tag as u64, vec![0; 4])],
            ..Repair::default()
        });
    }
    None
}

/// A media source with [`Repair::patches`] laid over what it reads.
pub struct Patched<S> {
    inner: S,
    pos: u64,
    patches: Vec<(u64, Vec<u8>)>,
}

impl<S> Patched<S> {
    pub fn new(inner: S, patches: Vec<(u64, Vec<u8>)>) -> Self {
        Self {
            inner,
            pos: 0,
            patches,
        }
    }
}

impl<S: Read> Read for Patched<S> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let (start, end) = (self.pos, self.pos + n as u64);
        for (at, bytes) in &self.patches {
            for (k, &b) in bytes.iter().enumerate() {
                let p = at + k as u64;
                if p >= start && p < end {
                    buf[(p - start) as usize] = b;
                }
            }
        }
        self.pos = end;
        Ok(n)
    }
}

impl<S: Seek> Seek for Patched<S> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.pos = self.inner.seek(pos)?;
        Ok(self.pos)
    }
}

impl<S: MediaSource> MediaSource for Patched<S> {
    fn is_seekable(&self) -> bool {
        self.inner.is_seekable()
    }
    fn byte_len(&self) -> Option<u64> {
        self.inner.byte_len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn patches_are_laid_over_reads_at_any_split() {
        let data: Vec<u8> = (0..32).collect();
        let mut p = Patched::new(Cursor::new(data), vec![(5, vec![100, 101, 102])]);
        let mut out = Vec::new();
        let mut buf = [0u8; 3];
        loop {
            let n = p.read(&mut buf).expect("read");
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        assert_eq!(&out[3..9], &[3, 4, 100, 101, 102, 8]);
        p.seek(SeekFrom::Start(6)).expect("seek");
        let mut two = [0u8; 2];
        p.read_exact(&mut two).expect("read");
        assert_eq!(two, [101, 102]);
    }
}
