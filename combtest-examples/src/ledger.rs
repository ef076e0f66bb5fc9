//! A ledger kept in SQLite through `rusqlite`, and the combtest actions that exercise it.
//!
//! Every walk gets its own database file and connection (a [`Ledger`], which is not
//! `Clone`), opens a transaction or not, has its journal mode changed by a serial action
//! while that transaction is open, deposits, then commits or rolls back and checks what
//! SQLite did.
//!
//! The repository layer under test has one mistake, of the kind real code has:
//! [`Ledger::set_journal_mode`] trusts `PRAGMA journal_mode = ...`. SQLite does not change
//! the journal mode inside an open transaction: once the transaction has written, the pragma
//! is silently ignored (it answers the mode in force); in a transaction that has not written
//! yet, changing into or out of WAL is an error, while other changes apply. The combination
//! finds both.

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use combtest::prelude::*;
use rusqlite::Connection;
use serde::Serialize;

/// A journal mode that the serial action asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum JournalMode {
    /// SQLite's default for a file database: a rollback journal, deleted after each commit.
    Delete,
    /// A rollback journal truncated, not deleted, after each commit.
    Truncate,
    /// Write-ahead logging.
    Wal,
}

impl JournalMode {
    /// The name SQLite uses, as `PRAGMA journal_mode` answers it.
    pub fn name(self) -> &'static str {
        match self {
            JournalMode::Delete => "delete",
            JournalMode::Truncate => "truncate",
            JournalMode::Wal => "wal",
        }
    }
}

/// How a walk starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Begin {
    /// No transaction: every statement commits on its own.
    Autocommit,
    /// `BEGIN`, nothing written yet.
    Open,
    /// `BEGIN` and a first entry written: the transaction holds a write lock.
    Written,
}

/// How a walk ends its transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum End {
    /// `COMMIT`: the entries stay.
    Commit,
    /// `ROLLBACK`: the entries of the transaction go.
    Rollback,
}

/// One walk's database: a file of its own in the temp folder (removed when the ledger is
/// dropped), and the connection to it. Not `Clone`: a connection is not.
pub struct Ledger {
    connection: Option<Connection>,
    path: PathBuf,
    /// Entries written since the transaction began (all of them when there is none).
    pending: i64,
    /// Entries that must be there at the end.
    kept: i64,
    in_transaction: bool,
    /// The journal mode the layer was last asked for.
    asked: Option<JournalMode>,
    /// Why the layer could not set it, when it said so.
    journal_error: Option<String>,
}

impl Ledger {
    /// Opens a new, empty ledger in a database file of its own.
    pub fn open() -> rusqlite::Result<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "combtest-ledger-{}-{}.sqlite",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let connection = Connection::open(&path)?;
        connection.execute_batch(
            "PRAGMA journal_mode = delete;
             PRAGMA synchronous = off;
             CREATE TABLE IF NOT EXISTS entries (amount INTEGER NOT NULL);
             DELETE FROM entries;",
        )?;
        Ok(Ledger {
            connection: Some(connection),
            path,
            pending: 0,
            kept: 0,
            in_transaction: false,
            asked: None,
            journal_error: None,
        })
    }

    fn db(&self) -> &Connection {
        self.connection.as_ref().expect("open until dropped")
    }

    /// Starts a transaction.
    pub fn begin(&mut self) -> rusqlite::Result<()> {
        self.db().execute_batch("BEGIN")?;
        self.in_transaction = true;
        Ok(())
    }

    /// Writes one entry.
    pub fn deposit(&mut self, amount: i64) -> rusqlite::Result<()> {
        self.db()
            .execute("INSERT INTO entries (amount) VALUES (?1)", [amount])?;
        if self.in_transaction {
            self.pending += 1;
        } else {
            self.kept += 1;
        }
        Ok(())
    }

    /// Sets the journal mode.
    ///
    /// The mistake under test: it reports success from the pragma alone. SQLite answers the
    /// mode in force, which inside a written transaction is the old one, and this layer
    /// does not compare it with the mode it asked for.
    pub fn set_journal_mode(&mut self, mode: JournalMode) -> rusqlite::Result<()> {
        self.asked = Some(mode);
        let _answered: String = self.db().query_row(
            &format!("PRAGMA journal_mode = {}", mode.name()),
            [],
            |row| row.get(0),
        )?;
        Ok(())
    }

    /// Ends the transaction, if one is open.
    pub fn end(&mut self, end: End) -> rusqlite::Result<()> {
        if !self.in_transaction {
            return Ok(());
        }
        match end {
            End::Commit => {
                self.db().execute_batch("COMMIT")?;
                self.kept += self.pending;
            }
            End::Rollback => self.db().execute_batch("ROLLBACK")?,
        }
        self.pending = 0;
        self.in_transaction = false;
        Ok(())
    }

    /// The journal mode in force.
    pub fn journal_mode(&self) -> rusqlite::Result<String> {
        self.db()
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
    }

    /// The number of entries in the database.
    pub fn entries(&self) -> rusqlite::Result<i64> {
        self.db()
            .query_row("SELECT count(*) FROM entries", [], |row| row.get(0))
    }
}

impl fmt::Debug for Ledger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ledger")
            .field("path", &self.path)
            .field("in_transaction", &self.in_transaction)
            .field("pending", &self.pending)
            .field("kept", &self.kept)
            .field("asked", &self.asked)
            .field("journal_error", &self.journal_error)
            .finish()
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        // Close the connection first, then remove its files (the journal or WAL files too).
        drop(self.connection.take());
        for suffix in ["", "-journal", "-wal", "-shm"] {
            let mut file = self.path.clone().into_os_string();
            file.push(suffix);
            let _ = std::fs::remove_file(file);
        }
    }
}

/// Starts the walk: no transaction, an open one, or one that has written.
#[action(options = [Begin::Autocommit, Begin::Open, Begin::Written])]
pub fn begin(begin: Begin, ledger: &mut Ledger) -> rusqlite::Result<()> {
    match begin {
        Begin::Autocommit => Ok(()),
        Begin::Open => ledger.begin(),
        Begin::Written => {
            ledger.begin()?;
            ledger.deposit(1)
        }
    }
}

/// Changes the journal mode of every live walk's connection, once per branch, while no walk
/// runs: what an operator does to a running service.
#[serial_action(options = [JournalMode::Delete, JournalMode::Truncate, JournalMode::Wal])]
pub fn set_journal_mode(mode: JournalMode, mut ledgers: States<'_, Ledger>) {
    for ledger in ledgers.iter_mut() {
        // An error is the walk's, not the branch's: each walk reports it at its end.
        if let Err(error) = ledger.set_journal_mode(mode) {
            ledger.journal_error = Some(format!("PRAGMA journal_mode = {}: {error}", mode.name()));
        }
    }
}

/// Writes an entry.
#[action(options = [10, 250])]
pub fn deposit(amount: i64, ledger: &mut Ledger) -> rusqlite::Result<()> {
    ledger.deposit(amount)
}

/// Ends the transaction and checks the database: the journal mode the layer was asked for,
/// and the entries a commit keeps and a rollback drops.
#[action(options = [End::Commit, End::Rollback])]
pub fn end(end: End, ledger: &mut Ledger) -> Result<(), String> {
    if let Some(error) = &ledger.journal_error {
        return Err(error.clone());
    }
    ledger.end(end).map_err(|e| e.to_string())?;
    let mode = ledger.journal_mode().map_err(|e| e.to_string())?;
    if let Some(asked) = ledger.asked {
        if mode != asked.name() {
            return Err(format!(
                "journal_mode is {mode}, but the ledger was set to {}",
                asked.name()
            ));
        }
    }
    let entries = ledger.entries().map_err(|e| e.to_string())?;
    if entries != ledger.kept {
        return Err(format!("{entries} entries, {} expected", ledger.kept));
    }
    Ok(())
}
