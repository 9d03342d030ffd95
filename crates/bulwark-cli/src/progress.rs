//! A spinner on stderr while a walk runs, fed by the walk's atomic counters.

use std::sync::atomic::Ordering;
use std::time::Duration;

use bulwark_catalog::Progress;
use indicatif::{ProgressBar, ProgressStyle};

/// Draws `progress` until dropped. Nothing is drawn for the first moments, so quick scans
/// print nothing extra.
pub(crate) struct Spinner {
    bar: ProgressBar,
}

impl Spinner {
    pub(crate) fn start(label: &str) -> Self {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(label.to_owned());
        Self { bar }
    }

    /// Refreshes the message; call from a ticker thread.
    pub(crate) fn update(&self, progress: &Progress) {
        if self.bar.elapsed() < Duration::from_millis(300) {
            return;
        }
        if self.bar.is_hidden() {
            return;
        }
        self.bar.set_message(format!(
            "{} files, {} read, {} components",
            progress.files_seen.load(Ordering::Relaxed),
            progress.files_cataloged.load(Ordering::Relaxed),
            progress.components.load(Ordering::Relaxed),
        ));
        self.bar.tick();
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
