//! Finding the next byte an escaping loop must look at, shared by both renderings (the
//! pretty writer and the canonical form).
//!
//! Each loop has a table that classes every byte value; class [`PLAIN`] is copied as it is.

/// The class of a byte that needs no attention.
pub const PLAIN: u8 = 0;

/// The first byte at or after `i` whose class is not [`PLAIN`] (or the end): eight bytes a
/// step, their classes or-ed together, so a plain run costs one branch per eight bytes.
pub fn next_not_plain(bytes: &[u8], classes: &[u8; 256], mut i: usize) -> usize {
    while let Some(chunk) = bytes.get(i..i + 8) {
        let any = chunk
            .iter()
            .fold(PLAIN, |seen, &b| seen | classes[usize::from(b)]);
        if any != PLAIN {
            break;
        }
        i += 8;
    }
    while bytes
        .get(i)
        .is_some_and(|&b| classes[usize::from(b)] == PLAIN)
    {
        i += 1;
    }
    i
}
