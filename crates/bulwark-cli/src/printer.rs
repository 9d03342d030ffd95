//! The only place that writes to the terminal.

use std::io::{self, IsTerminal, Write};

/// How chatty the user asked bulwark to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verbosity {
    /// Errors only.
    Quiet,
    /// Errors, warnings and a progress indicator on a terminal.
    Normal,
    /// Also debug logs.
    Verbose,
}

/// Writes results to stdout and messages to stderr.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Printer {
    verbosity: Verbosity,
}

impl Printer {
    pub(crate) fn new(verbosity: Verbosity) -> Self {
        Self { verbosity }
    }

    /// Whether a progress indicator should be drawn: only on a terminal, never when quiet.
    pub(crate) fn wants_progress(self) -> bool {
        self.verbosity != Verbosity::Quiet && io::stderr().is_terminal()
    }

    /// Whether stdout is a terminal (colour only then).
    pub(crate) fn stdout_is_terminal(self) -> bool {
        io::stdout().is_terminal()
    }

    /// A warning line (`warning: ...`) unless quiet.
    #[expect(
        clippy::print_stderr,
        reason = "the printer is the one place that prints"
    )]
    pub(crate) fn warning(self, message: &str) {
        if self.verbosity != Verbosity::Quiet {
            eprintln!("warning: {message}");
        }
    }

    /// A progress or summary line on stderr, unless quiet.
    #[expect(
        clippy::print_stderr,
        reason = "the printer is the one place that prints"
    )]
    pub(crate) fn info(self, message: &str) {
        if self.verbosity != Verbosity::Quiet {
            eprintln!("{message}");
        }
    }

    /// An error line (`error: ...`), always.
    #[expect(
        clippy::print_stderr,
        reason = "the printer is the one place that prints"
    )]
    pub(crate) fn error(self, message: &str) {
        eprintln!("error: {message}");
    }

    /// Writes a document to stdout. A closed pipe (`bulwark sbom . | head`) is not an error.
    pub(crate) fn document(self, bytes: &[u8]) -> io::Result<()> {
        let mut stdout = io::stdout().lock();
        match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
    }
}
