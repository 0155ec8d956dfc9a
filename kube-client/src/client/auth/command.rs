//! Running a credential command (an exec plugin, the gcp auth-provider's
//! `cmd-path`) with bounds: its output is read up to a limit and the end of
//! its stderr kept, so a command printing without end cannot exhaust memory
//! and one that fills stderr never blocks on it.

use std::process::ExitStatus;

use tokio::io::AsyncReadExt;

use super::Error;

/// At most this much of a failing command's stderr is kept in the error.
pub(crate) const MAX_STDERR: usize = 2048;

/// The most a credential command may print: an `ExecCredential`, even with a
/// client certificate chain, is a few KiB. A command printing more is stopped.
pub(crate) const MAX_OUTPUT: usize = 4 << 20;

/// How a command ran.
pub(crate) struct Ran {
    /// How it exited.
    pub(crate) status: ExitStatus,
    /// What it printed (at most [`MAX_OUTPUT`]).
    pub(crate) stdout: Vec<u8>,
    /// The end of what it wrote to stderr, when stderr was piped.
    pub(crate) stderr: Vec<u8>,
}

/// Runs `command` (named `program` in errors) to its end. Its stdout must be
/// piped; a piped stderr is read to the end, only its end kept. Dropping the
/// unfinished run kills the command when it was built with `kill_on_drop`.
pub(crate) async fn run(
    mut command: tokio::process::Command,
    program: &str,
    install_hint: Option<&str>,
) -> Result<Ran, Error> {
    let io_error = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::NotFound {
            Error::ExecCommandNotFound {
                command: program.to_string(),
                install_hint: install_hint.map(str::to_string),
            }
        } else {
            Error::AuthExecStart {
                command: program.to_string(),
                source,
            }
        }
    };
    let mut child = command.spawn().map_err(io_error)?;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let read_stdout = async {
        let mut output = Vec::new();
        if let Some(stdout) = stdout {
            let limit = u64::try_from(MAX_OUTPUT).unwrap_or(u64::MAX);
            stdout
                .take(limit.saturating_add(1))
                .read_to_end(&mut output)
                .await
                .map_err(io_error)?;
        }
        if output.len() > MAX_OUTPUT {
            return Err(Error::AuthExecOutputTooLarge {
                command: program.to_string(),
                limit: MAX_OUTPUT,
            });
        }
        Ok(output)
    };
    let read_stderr = async {
        let mut tail = Vec::new();
        if let Some(mut stderr) = stderr {
            let mut buffer = vec![0; 8 << 10];
            loop {
                let n = stderr.read(&mut buffer).await.map_err(io_error)?;
                if n == 0 {
                    break;
                }
                tail.extend_from_slice(buffer.get(..n).unwrap_or_default());
                // Room to find a character boundary; the excerpt trims it.
                if tail.len() > 4 * MAX_STDERR {
                    tail.drain(..tail.len() - 2 * MAX_STDERR);
                }
            }
        }
        Ok(tail)
    };
    let wait = async { child.wait().await.map_err(io_error) };
    // The first failure ends the run; dropping the child kills it.
    let (stdout, stderr, status) = futures::try_join!(read_stdout, read_stderr, wait)?;
    Ok(Ran {
        status,
        stdout,
        stderr,
    })
}

/// The end of a command's stderr (where the reason usually is), as text.
pub(crate) fn stderr_excerpt(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let text = text.trim();
    if text.len() <= MAX_STDERR {
        return text.to_string();
    }
    let mut start = text.len() - MAX_STDERR;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", text.get(start..).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_stderr_keeps_its_end() {
        let long = format!("{}the reason", "x".repeat(5000));
        let excerpt = stderr_excerpt(long.as_bytes());
        assert!(excerpt.ends_with("the reason"));
        assert!(excerpt.len() <= MAX_STDERR + '…'.len_utf8());
    }
}
