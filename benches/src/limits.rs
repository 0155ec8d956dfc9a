//! The limits: the work no client can avoid, measured on the same bytes the
//! server sends: decoding them with `serde_json` into the same types.

use std::hint::black_box;

use anyhow::{Context, Result, ensure};
use kube::core::{ObjectList, WatchEvent};
use serde::de::DeserializeOwned;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::{
    cpu::{Stopwatch, Timing},
    heap,
};

/// Decodes every line as a watch event of `K`.
pub fn decode_lines<K: DeserializeOwned>(lines: &[Vec<u8>]) -> Result<Timing> {
    let started = Stopwatch::start();
    for line in lines {
        let event: WatchEvent<K> = serde_json::from_slice(line).context("decoding a line")?;
        black_box(event);
    }
    Ok(started.stop())
}

/// Decodes every line as a watch event of `K`, checking that the line is UTF-8
/// once and then decoding it as text: serde_json's slice reader checks each
/// string on its own, which costs more than one pass over the whole line.
pub fn decode_lines_as_text<K: DeserializeOwned>(lines: &[Vec<u8>]) -> Result<Timing> {
    let started = Stopwatch::start();
    for line in lines {
        let text = std::str::from_utf8(line).context("a line is not UTF-8")?;
        let event: WatchEvent<K> = serde_json::from_str(text).context("decoding a line")?;
        black_box(event);
    }
    Ok(started.stop())
}

/// What decoding list pages into one `Vec` cost.
pub struct Decoded {
    /// Time to decode every page.
    pub elapsed: Timing,
    /// Heap held by the decoded objects alone (bytes).
    pub held_heap: isize,
    /// Heap held by copies of them (bytes): `Clone` allocates every string and
    /// collection at its exact size, while decoding leaves the spare capacity
    /// of grown vectors, so this is the least any store of `K` can hold.
    pub compact_heap: isize,
    /// Bytes allocated by decoding.
    pub allocated: u64,
    /// Allocations made by decoding.
    pub allocations: u64,
}

/// Decodes `pages` and keeps their objects in one `Vec`, as a store must keep
/// them in some form.
pub fn decode_pages<K: DeserializeOwned + Clone>(
    pages: &[Vec<u8>],
    expected: usize,
) -> Result<Decoded> {
    decode_pages_with(pages, expected, |_: &mut K| {})
}

/// [`decode_pages`], with `change` applied to each object before it is kept.
pub fn decode_pages_with<K: DeserializeOwned + Clone>(
    pages: &[Vec<u8>],
    expected: usize,
    mut change: impl FnMut(&mut K),
) -> Result<Decoded> {
    let base = heap::live();
    let totals = heap::allocated_so_far();
    let started = Stopwatch::start();
    let mut objects = Vec::with_capacity(expected);
    for page in pages {
        let text = std::str::from_utf8(page).context("a page is not UTF-8")?;
        let list: ObjectList<K> = serde_json::from_str(text).context("decoding a page")?;
        objects.extend(list.items.into_iter().map(|mut object| {
            change(&mut object);
            object
        }));
    }
    let elapsed = started.stop();
    let after = heap::allocated_so_far();
    let held_heap = heap::live() - base;
    ensure!(
        objects.len() == expected,
        "decoded {} objects",
        objects.len()
    );
    let base = heap::live();
    let copies: Vec<K> = objects.to_vec();
    drop(objects);
    let compact_heap = heap::live() - base + held_heap;
    black_box(&copies);
    Ok(Decoded {
        elapsed,
        held_heap,
        compact_heap,
        allocated: after.0 - totals.0,
        allocations: after.1 - totals.1,
    })
}

/// The transport alone: one watch request to the local server at `url`, its
/// whole body read into a large buffer and thrown away, over a plain socket.
/// Not part of the limit; it shows what reading the bytes costs any client.
pub async fn read_watch_raw(url: &str) -> Result<Timing> {
    let addr = url.trim_start_matches("http://");
    let started = Stopwatch::start();
    let mut socket = TcpStream::connect(addr).await.context("connecting")?;
    let request = format!(
        "GET /api/v1/namespaces/bench/configmaps?watch=true HTTP/1.1\r\nHost: {addr}\r\n\r\n"
    );
    socket.write_all(request.as_bytes()).await?;
    let mut buf = vec![0u8; 256 << 10];
    let mut tail = Vec::with_capacity(16);
    loop {
        let n = socket.read(&mut buf).await?;
        ensure!(n > 0, "the server closed the connection mid-body");
        // The last chunk ends the body.
        tail.extend_from_slice(&buf[n.saturating_sub(5)..n]);
        tail.drain(..tail.len().saturating_sub(5));
        if tail == b"0\r\n\r\n" {
            break;
        }
    }
    Ok(started.stop())
}
