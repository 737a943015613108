//! Helpers shared by the integration tests of this crate.

use std::io::{BufRead, Read};

/// Input handed out in reads of the given sizes (cycled), the way a pipe or
/// a small `BufReader` would.
pub struct Chunky<'a> {
    data: &'a [u8],
    sizes: Vec<usize>,
    n: usize,
    at: usize,
}

impl<'a> Chunky<'a> {
    pub fn new(data: &'a [u8], sizes: Vec<usize>) -> Self {
        Chunky {
            data,
            sizes,
            n: 0,
            at: 0,
        }
    }
}

impl Read for Chunky<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let b = self.fill_buf()?;
        let k = b.len().min(buf.len());
        buf[..k].copy_from_slice(&b[..k]);
        self.consume(k);
        Ok(k)
    }
}

impl BufRead for Chunky<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        let size = self.sizes[self.n % self.sizes.len()].max(1);
        let end = (self.at + size).min(self.data.len());
        Ok(&self.data[self.at..end])
    }
    fn consume(&mut self, amt: usize) {
        self.at += amt;
        self.n += 1;
    }
}
