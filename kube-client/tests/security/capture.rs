//! Everything every `tracing` event and span of this test process says, at
//! TRACE level, captured as text.

use std::{
    io::Write,
    sync::{Arc, Mutex, OnceLock},
};

use tracing_subscriber::fmt::format::FmtSpan;

static CAPTURED: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut buffer) = self.0.lock() {
            buffer.extend_from_slice(data);
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the capturing subscriber (once per process); every test calls
/// this first.
pub fn start() {
    CAPTURED.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_span_events(FmtSpan::NEW | FmtSpan::CLOSE)
            .with_writer(move || Sink(sink.clone()))
            .try_init()
            .expect("the only subscriber of this process");
        buffer
    });
}

/// The text captured so far, from every test of this process.
pub fn text() -> String {
    CAPTURED
        .get()
        .and_then(|buffer| {
            buffer
                .lock()
                .ok()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
        })
        .unwrap_or_default()
}

/// Fails when any of `texts` holds any of `secrets` (or a 16-character piece
/// of one, for secrets that long).
pub fn assert_hidden(secrets: &[&str], texts: &[(&str, &str)]) {
    for secret in secrets {
        let mut needles = vec![secret.to_string()];
        if secret.len() >= 32 {
            let middle = secret.len() / 2;
            needles.push(secret[..16].to_string());
            needles.push(secret[middle..middle + 16].to_string());
            needles.push(secret[secret.len() - 16..].to_string());
        }
        for (what, text) in texts {
            for needle in &needles {
                assert!(
                    !text.contains(needle.as_str()),
                    "a secret ({needle:?}) shows in {what}"
                );
            }
        }
    }
}
