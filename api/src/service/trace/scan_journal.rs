//! The scan journal: every counted scan is appended to a local file before it is answered, so a
//! server killed between two flushes loses none. The journal is a run of numbered segments; a
//! flush seals the open one and, in the transaction that writes the counts, records that the
//! segments up to it are in the database; then it removes them. At start, the segments after
//! the recorded one are written to the database (a crash between the commit and the removal
//! leaves segments that are already in it: they are only removed).
//!
//! A scan is in the journal once the operating system has it: a killed process loses nothing,
//! a power cut may lose what was not yet on the disk (segments are synced at every flush).

use std::{
    fs::{self, File, OpenOptions},
    io::{self, Read},
    os::unix::fs::FileExt,
    path::{Path, PathBuf},
    sync::{
        RwLock,
        atomic::{AtomicU64, Ordering},
    },
};

use chrono::{DateTime, Utc};

/// One scan on disk: batch, item, time (microseconds), little-endian.
const RECORD: usize = 24;

/// A scan as the journal keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JournalScan {
    pub batch_id: i64,
    pub item: i64,
    pub at: DateTime<Utc>,
}

#[derive(Debug)]
pub struct ScanJournal {
    dir: PathBuf,
    id: String,
    /// Appends share it (each writes at its own place), a seal takes it alone.
    open: RwLock<OpenSegment>,
    /// Held for the life of the journal, so a second server cannot write the same folder.
    _lock: File,
}

#[derive(Debug)]
struct OpenSegment {
    seq: u64,
    file: File,
    /// Where the next record goes: taken by each append, so two never write one place.
    end: AtomicU64,
}

/// A segment no scan is appended to any more.
#[derive(Debug)]
pub struct SealedSegment {
    pub seq: u64,
    file: File,
    path: PathBuf,
}

impl SealedSegment {
    /// Puts the segment on the disk, so not even a power cut loses it.
    pub fn sync(&self) -> Result<(), JournalError> {
        self.file.sync_data().map_err(io_error(&self.path))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("the scan journal at {0} is in use by another server")]
    InUse(PathBuf),
    #[error("the scan journal at {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> JournalError + '_ {
    move |source| JournalError::Io {
        path: path.to_owned(),
        source,
    }
}

impl ScanJournal {
    /// Opens (or starts) the journal in `dir`. Segments found there are left for `unwritten`;
    /// new scans go to a fresh segment after them.
    pub fn open(dir: &Path) -> Result<Self, JournalError> {
        fs::create_dir_all(dir).map_err(io_error(dir))?;
        let lock_path = dir.join("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_error(&lock_path))?;
        if lock.try_lock().is_err() {
            return Err(JournalError::InUse(dir.to_owned()));
        }
        let id_path = dir.join("id");
        let id = match fs::read_to_string(&id_path) {
            Ok(id) if !id.trim().is_empty() => id.trim().to_owned(),
            _ => {
                let id = uuid::Uuid::new_v4().to_string();
                fs::write(&id_path, &id).map_err(io_error(&id_path))?;
                id
            }
        };
        let next = segments(dir)?.last().map_or(1, |(seq, _)| seq + 1);
        let open = open_segment(dir, next)?;
        Ok(Self {
            dir: dir.to_owned(),
            id,
            open: RwLock::new(open),
            _lock: lock,
        })
    }

    /// Names this journal in the database's record of what is written.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Appends one scan to the open segment. Scans on other threads append at the same time,
    /// each at a place of its own, without waiting for one another.
    pub fn append(&self, scan: JournalScan) -> Result<(), JournalError> {
        let mut record = [0u8; RECORD];
        record[..8].copy_from_slice(&scan.batch_id.to_le_bytes());
        record[8..16].copy_from_slice(&scan.item.to_le_bytes());
        record[16..].copy_from_slice(&scan.at.timestamp_micros().to_le_bytes());
        let open = self.open.read().expect("scan journal");
        let at = open.end.fetch_add(RECORD as u64, Ordering::Relaxed);
        open.file
            .write_all_at(&record, at)
            .map_err(io_error(&segment_path(&self.dir, open.seq)))
    }

    /// Seals the open segment and opens the next; answers the sealed one. Every scan appended
    /// before this is in a segment up to it. Cheap: the sealed segment is synced by `sync`.
    pub fn seal(&self) -> Result<SealedSegment, JournalError> {
        let mut open = self.open.write().expect("scan journal");
        let next = open_segment(&self.dir, open.seq + 1)?;
        let sealed = std::mem::replace(&mut *open, next);
        Ok(SealedSegment {
            seq: sealed.seq,
            file: sealed.file,
            path: segment_path(&self.dir, sealed.seq),
        })
    }

    /// Removes the segments up to `seq`, once the database holds them.
    pub fn remove_through(&self, seq: u64) -> Result<(), JournalError> {
        for (found, path) in segments(&self.dir)? {
            if found <= seq {
                fs::remove_file(&path).map_err(io_error(&path))?;
            }
        }
        Ok(())
    }

    /// The scans of the sealed segments after `written` (the last segment the database holds),
    /// and the last segment read.
    pub fn unwritten(&self, written: u64) -> Result<(Vec<JournalScan>, u64), JournalError> {
        let open = self.open.read().expect("scan journal").seq;
        let mut scans = Vec::new();
        let mut last = written;
        for (seq, path) in segments(&self.dir)? {
            if seq <= written || seq >= open {
                continue;
            }
            let mut bytes = Vec::new();
            File::open(&path)
                .and_then(|mut f| f.read_to_end(&mut bytes))
                .map_err(io_error(&path))?;
            // A record cut short by a crash mid-write was never answered: it is dropped. So is
            // the gap a write that failed (or was cut off by a crash) left before a later one:
            // zeros, and no batch is number 0.
            for record in bytes.chunks_exact(RECORD) {
                let field =
                    |i: usize| i64::from_le_bytes(record[i..i + 8].try_into().expect("8 bytes"));
                if field(0) != 0
                    && let Some(at) = DateTime::from_timestamp_micros(field(16))
                {
                    scans.push(JournalScan {
                        batch_id: field(0),
                        item: field(8),
                        at,
                    });
                }
            }
            last = seq;
        }
        Ok((scans, last))
    }
}

fn segment_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("{seq:020}.scans"))
}

/// A new segment (written at places, not appended to: see `append`), after any bytes a
/// segment of the same number holds.
fn open_segment(dir: &Path, seq: u64) -> Result<OpenSegment, JournalError> {
    let path = segment_path(dir, seq);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_error(&path))?;
    let end = file.metadata().map_err(io_error(&path))?.len();
    Ok(OpenSegment {
        seq,
        file,
        end: AtomicU64::new(end),
    })
}

/// The segments in `dir`, first first.
fn segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, JournalError> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_error(dir))? {
        let path = entry.map_err(io_error(dir))?.path();
        let seq = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".scans"))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(seq) = seq {
            found.push((seq, path));
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn scan(item: i64) -> JournalScan {
        JournalScan {
            batch_id: 7,
            item,
            at: DateTime::from_timestamp_micros(1_764_000_000_000_000 + item).unwrap(),
        }
    }

    #[test]
    fn sealed_segments_are_read_back_until_removed_and_a_torn_record_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let journal = ScanJournal::open(dir.path()).unwrap();
        journal.append(scan(1)).unwrap();
        journal.append(scan(2)).unwrap();
        let first = journal.seal().unwrap().seq;
        journal.append(scan(3)).unwrap();
        // Only sealed segments are unwritten: the open one is still being filled.
        assert_eq!(
            journal.unwritten(0).unwrap(),
            (vec![scan(1), scan(2)], first)
        );
        let second = journal.seal().unwrap().seq;
        assert_eq!(journal.unwritten(first).unwrap(), (vec![scan(3)], second));
        journal.remove_through(first).unwrap();
        assert_eq!(journal.unwritten(0).unwrap(), (vec![scan(3)], second));

        // A second server cannot open the folder while this one holds it.
        assert!(matches!(
            ScanJournal::open(dir.path()),
            Err(JournalError::InUse(_))
        ));
        let id = journal.id().to_owned();
        journal.append(scan(4)).unwrap();
        drop(journal);
        // A crash mid-write leaves part of a record, and a write that never happened leaves a
        // gap of zeros before a later one: neither was answered, so both are dropped.
        let open = segments(dir.path()).unwrap().last().unwrap().1.clone();
        let mut file = OpenOptions::new().append(true).open(&open).unwrap();
        file.write_all(&[0; RECORD]).unwrap();
        file.write_all(&[1, 2, 3]).unwrap();
        drop(file);

        let reopened = ScanJournal::open(dir.path()).unwrap();
        assert_eq!(reopened.id(), id, "the journal keeps its name");
        let (scans, _) = reopened.unwritten(first).unwrap();
        assert_eq!(scans, vec![scan(3), scan(4)]);
    }

    #[test]
    fn scans_appended_on_many_threads_at_once_are_each_kept_whole() {
        let dir = tempfile::tempdir().unwrap();
        let journal = ScanJournal::open(dir.path()).unwrap();
        std::thread::scope(|threads| {
            for thread in 0..4 {
                let journal = &journal;
                threads.spawn(move || {
                    for n in 0..500 {
                        journal.append(scan(thread * 1000 + n + 1)).unwrap();
                    }
                });
            }
        });
        let sealed = journal.seal().unwrap().seq;
        let (mut scans, last) = journal.unwritten(0).unwrap();
        assert_eq!(last, sealed);
        scans.sort_by_key(|s| s.item);
        let expected: Vec<JournalScan> = (0..4)
            .flat_map(|thread| (0..500).map(move |n| scan(thread * 1000 + n + 1)))
            .collect();
        assert_eq!(scans, expected);
    }
}
