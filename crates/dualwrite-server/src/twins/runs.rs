//! The entries of a twin index — (key, side, row id) — sorted in bounded memory: entries gather in a
//! run of at most [`RUN`]; a full run is sorted and written to a temporary file, and reading merges the
//! runs (and the last, kept in memory) in key order, a key's ids of both sides together.
//!
//! Memory stays about one run whatever the row count; the files hold about 13 bytes and the key's
//! length per row. They have no name, so they go when the index is dropped or the process ends,
//! however it ends.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::sync::Arc;

use dualwrite_core::schema::Side;

use super::Twins;

/// Entries sorted in memory before they are written out as a run.
pub const RUN: usize = 1 << 19;

/// One row under its key: (key, 0 for finops or 1 for Dataverse, row id), ordered as the index reads.
type Entry = (String, u8, i64);

/// Entries being gathered.
pub struct Gathering {
    run: Vec<Entry>,
    /// How many entries a run holds before it is written out.
    run_size: usize,
    files: Vec<Arc<File>>,
}

impl Default for Gathering {
    fn default() -> Gathering {
        Gathering::with_runs_of(RUN)
    }
}

impl Gathering {
    /// Gathering that writes a run out every `run_size` entries.
    pub fn with_runs_of(run_size: usize) -> Gathering {
        Gathering { run: Vec::new(), run_size: run_size.max(1), files: Vec::new() }
    }

    /// Adds row `id` of `side` under `key`, writing out the run when it is full.
    pub fn push(&mut self, key: String, side: Side, id: i64) -> io::Result<()> {
        self.run.push((key, side_byte(side), id));
        if self.run.len() >= self.run_size {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> io::Result<()> {
        self.run.sort_unstable();
        let mut file = tempfile::tempfile()?;
        let mut out = BufWriter::new(&mut file);
        for (key, side, id) in self.run.drain(..) {
            let len = u32::try_from(key.len()).map_err(|_| io::Error::other("a key longer than 4 GiB"))?;
            out.write_all(&len.to_le_bytes())?;
            out.write_all(key.as_bytes())?;
            out.write_all(&[side])?;
            out.write_all(&id.to_le_bytes())?;
        }
        out.flush()?;
        drop(out);
        self.files.push(Arc::new(file));
        Ok(())
    }

    /// The gathered entries, sorted, and how many keys they hold.
    pub fn finish(mut self) -> io::Result<(Sorted, usize)> {
        self.run.sort_unstable();
        let sorted = Sorted { memory: Arc::new(self.run), files: self.files };
        let mut keys = 0;
        let mut merge = sorted.merge()?;
        while merge.next_key()?.is_some() {
            keys += 1;
        }
        Ok((sorted, keys))
    }
}

/// Sorted runs: files and the last run in memory.
#[derive(Default)]
pub struct Sorted {
    memory: Arc<Vec<Entry>>,
    files: Vec<Arc<File>>,
}

impl Sorted {
    /// Reads every key from the first, in order.
    pub fn merge(&self) -> io::Result<Merge> {
        let mut sources = vec![Source::Memory(self.memory.clone(), 0)];
        for file in &self.files {
            let run = RunFile { file: file.clone(), offset: 0 };
            sources.push(Source::File(BufReader::with_capacity(1 << 16, run)));
        }
        let mut merge = Merge { heap: BinaryHeap::new(), sources };
        for i in 0..merge.sources.len() {
            merge.refill(i)?;
        }
        Ok(merge)
    }
}

/// Where a run is read from.
enum Source {
    Memory(Arc<Vec<Entry>>, usize),
    File(BufReader<RunFile>),
}

/// A run's file read from its start, at an offset of its own (merges read the same file at once).
struct RunFile {
    file: Arc<File>,
    offset: u64,
}

impl Read for RunFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        #[cfg(unix)]
        let n = std::os::unix::fs::FileExt::read_at(&*self.file, buf, self.offset)?;
        #[cfg(windows)]
        let n = std::os::windows::fs::FileExt::seek_read(&*self.file, buf, self.offset)?;
        self.offset += n as u64;
        Ok(n)
    }
}

impl Source {
    fn next(&mut self) -> io::Result<Option<Entry>> {
        match self {
            Source::Memory(entries, at) => {
                let entry = entries.get(*at).cloned();
                *at += 1;
                Ok(entry)
            }
            Source::File(reader) => {
                let mut len = [0; 4];
                match reader.read_exact(&mut len) {
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
                    other => other?,
                }
                let mut key = vec![0; u32::from_le_bytes(len) as usize];
                reader.read_exact(&mut key)?;
                let mut side = [0; 1];
                reader.read_exact(&mut side)?;
                let mut id = [0; 8];
                reader.read_exact(&mut id)?;
                let key = String::from_utf8(key).map_err(io::Error::other)?;
                Ok(Some((key, side[0], i64::from_le_bytes(id))))
            }
        }
    }
}

/// The runs read together in key order.
pub struct Merge {
    /// The next entry of each source, with the source's number.
    heap: BinaryHeap<Reverse<(Entry, usize)>>,
    sources: Vec<Source>,
}

impl Merge {
    fn refill(&mut self, source: usize) -> io::Result<()> {
        if let Some(entry) = self.sources[source].next()? {
            self.heap.push(Reverse((entry, source)));
        }
        Ok(())
    }

    /// The key [`Merge::next_key`] reads next.
    pub fn peek_key(&self) -> Option<&str> {
        self.heap.peek().map(|Reverse(((key, _, _), _))| key.as_str())
    }

    /// The next key and its rows of both sides, ids in ascending order.
    pub fn next_key(&mut self) -> io::Result<Option<(String, Twins)>> {
        let Some(Reverse(((key, side, id), source))) = self.heap.pop() else { return Ok(None) };
        self.refill(source)?;
        let mut twins: Twins = (Vec::new(), Vec::new());
        let mut add = |side: u8, id: i64| if side == 0 { twins.0.push(id) } else { twins.1.push(id) };
        add(side, id);
        while let Some(Reverse(((next, _, _), _))) = self.heap.peek() {
            if *next != key {
                break;
            }
            let Some(Reverse(((_, side, id), source))) = self.heap.pop() else { break };
            add(side, id);
            self.refill(source)?;
        }
        Ok(Some((key, twins)))
    }
}

fn side_byte(side: Side) -> u8 {
    match side {
        Side::Finops => 0,
        Side::Dataverse => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(sorted: &Sorted) -> Vec<(String, Twins)> {
        let mut merge = sorted.merge().expect("merge");
        std::iter::from_fn(|| merge.next_key().expect("read")).collect()
    }

    #[test]
    fn runs_written_out_read_back_in_key_order_with_both_sides_ids_together() {
        let mut gathering = Gathering::with_runs_of(3);
        let pushed = [
            ("c002|usmf", Side::Dataverse, 7),
            ("c001|usmf", Side::Finops, 4),
            ("c003|demf", Side::Finops, 1),
            ("c001|usmf", Side::Dataverse, 9),
            ("c002|usmf", Side::Finops, 2),
            ("c001|usmf", Side::Finops, 3),
            ("\u{0}finops5", Side::Finops, 5),
        ];
        for (key, side, id) in pushed {
            gathering.push(key.to_owned(), side, id).expect("push");
        }
        assert_eq!(gathering.files.len(), 2, "two full runs went to files");
        let (sorted, keys) = gathering.finish().expect("finish");
        assert_eq!(keys, 4);
        let expected: Vec<(String, Twins)> = vec![
            ("\u{0}finops5".into(), (vec![5], vec![])),
            ("c001|usmf".into(), (vec![3, 4], vec![9])),
            ("c002|usmf".into(), (vec![2], vec![7])),
            ("c003|demf".into(), (vec![1], vec![])),
        ];
        assert_eq!(read_all(&sorted), expected);
        assert_eq!(read_all(&sorted), expected, "a second merge reads the same");
    }

    #[test]
    fn nothing_gathered_reads_nothing() {
        let (sorted, keys) = Gathering::with_runs_of(2).finish().expect("finish");
        assert_eq!((keys, read_all(&sorted)), (0, Vec::new()));
    }
}
