//! The fuzz harness's mutator: a few byte-level edits per input (bit flips, interesting bytes and
//! integers in either byte order, inserts, deletes, copies, splices, truncation) and a rewrite of
//! ASCII numbers (JSON values, tar's octal size fields) into boundary values.

use tricklab::rng::Rng;

/// Integers at the edges of what the readers check: powers of two around u32/u64 overflow, the
/// formats' limits and one past them.
pub const INTERESTING: [u64; 22] = [
    0,
    1,
    2,
    3,
    10,
    28,
    255,
    256,
    3073,
    10_000,
    10_001,
    100_000,
    100_001,
    30_730_000,
    30_730_001,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    1 << 32,
    1 << 40,
    1 << 63,
    u64::MAX,
];

/// Decimal texts for numbers written as text (JSON fields, `--set` values).
pub const INTERESTING_TEXT: [&str; 24] = [
    "0",
    "-0",
    "1",
    "-1",
    "0.5",
    "1e-300",
    "1e-40",
    "1e300",
    "1e999",
    "-1e999",
    "4",
    "4.000001",
    "1000",
    "1001",
    "4096",
    "4097",
    "4294967295",
    "4294967296",
    "9007199254740991",
    "9007199254740992",
    "18446744073709551615",
    "18446744073709551616",
    "NaN",
    "null",
];

pub fn below(rng: &mut Rng, n: usize) -> usize {
    if n == 0 {
        0
    } else {
        rng.below(n)
    }
}

pub fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> &'a T {
    &items[below(rng, items.len())]
}

/// Applies one to four random edits to `data`; `other` is another input to splice from.
pub fn mutate(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8]) {
    for _ in 0..1 + below(rng, 4) {
        edit(rng, data, other);
    }
}

fn edit(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8]) {
    let len = data.len();
    match below(rng, 10) {
        0 if len > 0 => {
            let at = below(rng, len);
            data[at] ^= 1 << below(rng, 8);
        }
        1 if len > 0 => {
            let at = below(rng, len);
            data[at] = *pick(rng, &[0, 1, 0x7f, 0x80, 0xff, b'0', b'7', b' ', b'"', b'{']);
        }
        2 => {
            let at = below(rng, len + 1);
            let n = 1 + below(rng, 8);
            let bytes: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
            data.splice(at..at, bytes);
        }
        3 if len > 0 => {
            let at = below(rng, len);
            let n = 1 + below(rng, (len - at).min(64));
            data.drain(at..at + n);
        }
        4 if len >= 4 => {
            let v = *pick(rng, &INTERESTING);
            let width = if len >= 8 && rng.below(2) == 0 { 8 } else { 4 };
            let bytes = match (width, rng.below(2)) {
                (8, 0) => v.to_be_bytes().to_vec(),
                (8, _) => v.to_le_bytes().to_vec(),
                (_, 0) => (v as u32).to_be_bytes().to_vec(),
                _ => (v as u32).to_le_bytes().to_vec(),
            };
            let at = below(rng, len - width + 1);
            data[at..at + width].copy_from_slice(&bytes);
        }
        5 if len > 0 => {
            let from = below(rng, len);
            let n = 1 + below(rng, (len - from).min(256));
            let chunk = data[from..from + n].to_vec();
            let at = below(rng, len + 1);
            data.splice(at..at, chunk);
        }
        6 if !other.is_empty() => {
            let from = below(rng, other.len());
            let n = 1 + below(rng, (other.len() - from).min(512));
            let at = below(rng, len + 1);
            let end = (at + n).min(len);
            data.splice(at..end, other[from..from + n].iter().copied());
        }
        7 if len > 0 => data.truncate(below(rng, len)),
        8 => rewrite_number(rng, data),
        _ => {
            if len > 0 {
                let at = below(rng, len);
                data[at] = rng.next_u64() as u8;
            }
        }
    }
}

/// Replaces one run of ASCII digits (possibly signed, with a fraction or exponent) by an
/// interesting number written as text.
pub fn rewrite_number(rng: &mut Rng, data: &mut Vec<u8>) {
    let starts: Vec<usize> =
        (0..data.len()).filter(|&i| data[i].is_ascii_digit() && (i == 0 || !data[i - 1].is_ascii_digit())).collect();
    if starts.is_empty() {
        return;
    }
    let start = *pick(rng, &starts);
    let mut end = start;
    while end < data.len() && (data[end].is_ascii_digit() || b".eE-+".contains(&data[end])) {
        end += 1;
    }
    let text = if rng.below(2) == 0 {
        pick(rng, &INTERESTING_TEXT).to_string()
    } else {
        pick(rng, &INTERESTING).to_string()
    };
    data.splice(start..end, text.into_bytes());
}
