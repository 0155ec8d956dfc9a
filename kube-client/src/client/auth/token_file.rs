//! Bearer tokens read from a file that changes: service account tokens are bound
//! to a lifetime and the kubelet rewrites the file before they expire.

use std::{path::PathBuf, sync::Mutex, time::Duration};

use http::HeaderValue;
use tokio::time::Instant;

use super::Error;

/// How long a token read from a file is used before the file is read again.
const REREAD_AFTER: Duration = Duration::from_secs(60);

/// A token file, re-read at most once a minute, or sooner after the server
/// refused the token.
#[derive(Debug)]
pub(crate) struct TokenFile {
    path: PathBuf,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    header: HeaderValue,
    read_at: Instant,
    stale: bool,
}

impl TokenFile {
    /// Reads the file now, failing when it cannot be read or holds no token.
    pub(crate) fn new(path: PathBuf) -> Result<Self, Error> {
        let header = read(&path)?;
        Ok(Self {
            path,
            state: Mutex::new(State {
                header,
                read_at: Instant::now(),
                stale: false,
            }),
        })
    }

    /// The `Authorization` header, from the file as last read, or read again when
    /// that was a minute ago or the token was refused since.
    ///
    /// When re-reading fails, the last token is used and the failure logged: a
    /// file being rewritten should not fail requests.
    pub(crate) fn header(&self) -> HeaderValue {
        let mut state = match self.state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        };
        if state.stale || state.read_at.elapsed() >= REREAD_AFTER {
            match read(&self.path) {
                Ok(header) => state.header = header,
                Err(error) => {
                    tracing::warn!(%error, "keeping the previous token");
                }
            }
            state.read_at = Instant::now();
            state.stale = false;
        }
        state.header.clone()
    }

    /// Makes the next request read the file again.
    pub(crate) fn invalidate(&self) {
        match self.state.lock() {
            Ok(mut state) => state.stale = true,
            Err(poisoned) => poisoned.into_inner().stale = true,
        }
    }
}

fn read(path: &std::path::Path) -> Result<HeaderValue, Error> {
    let bytes = crate::config::data::read_file(path, crate::config::data::MAX_DATA_FILE)
        .map_err(|e| Error::ReadTokenFile(e, path.to_path_buf()))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::ReadTokenFile(
            std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error()),
            path.to_path_buf(),
        )
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(Error::EmptyTokenFile(path.to_path_buf()));
    }
    super::bearer(token, "the token file")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &std::path::Path, token: &str) {
        std::fs::write(path, token).expect("write token");
    }

    #[tokio::test(start_paused = true)]
    async fn the_file_is_reread_after_a_minute() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("token");
        write(&path, "first\n");
        let file = TokenFile::new(path.clone()).expect("readable");
        assert_eq!(file.header(), "Bearer first");

        write(&path, "second");
        tokio::time::advance(Duration::from_secs(59)).await;
        assert_eq!(file.header(), "Bearer first", "still within the minute");
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(file.header(), "Bearer second");
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_token_is_reread_at_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("token");
        write(&path, "old");
        let file = TokenFile::new(path.clone()).expect("readable");
        write(&path, "rotated");
        assert_eq!(file.header(), "Bearer old");
        file.invalidate();
        assert_eq!(file.header(), "Bearer rotated");
    }

    #[tokio::test(start_paused = true)]
    async fn a_vanished_file_keeps_the_last_token() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("token");
        write(&path, "kept");
        let file = TokenFile::new(path.clone()).expect("readable");
        std::fs::remove_file(&path).expect("rm");
        file.invalidate();
        assert_eq!(file.header(), "Bearer kept");
    }

    #[test]
    fn missing_and_empty_files_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("token");
        let err = TokenFile::new(path.clone()).expect_err("missing");
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
        write(&path, "  \n");
        let err = TokenFile::new(path.clone()).expect_err("empty");
        assert!(err.to_string().contains("empty"), "{err}");
    }
}
