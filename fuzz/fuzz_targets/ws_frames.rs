//! The channel protocols of `exec` and `portforward`: binary WebSocket
//! messages whose first byte names the channel. Whatever the server sends,
//! the streams must receive exactly what a reading of the protocol says, and
//! the connection must end (with an error where the protocol was broken).
//!
//! Input: a byte of settings (exec or port-forward, the subprotocol, how many
//! ports), for port-forward two bytes per port, then messages, each a length
//! byte and that many bytes.

#![no_main]

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube_client::client::fuzzing::{exec_frames, portforward_frames};
use libfuzzer_sys::fuzz_target;

fn messages(mut input: &[u8]) -> Vec<Vec<u8>> {
    let mut messages = Vec::new();
    while let Some((&len, rest)) = input.split_first() {
        let len = usize::from(len).min(rest.len());
        messages.push(rest[..len].to_vec());
        input = &rest[len..];
    }
    messages
}

/// What exec passes on, by the protocol.
fn exec_model(messages: &[Vec<u8>]) -> (Vec<u8>, Vec<u8>, Option<Status>, bool) {
    let (mut stdout, mut stderr, mut status) = (Vec::new(), Vec::new(), None);
    let (mut stdout_open, mut stderr_open) = (true, true);
    for message in messages {
        let Some((&channel, payload)) = message.split_first() else {
            continue;
        };
        match channel {
            1 if stdout_open => stdout.extend_from_slice(payload),
            2 if stderr_open => stderr.extend_from_slice(payload),
            3 if !payload.is_empty() => match serde_json::from_slice::<Status>(payload) {
                Ok(received) => {
                    status.get_or_insert(received);
                }
                Err(_) => return (stdout, stderr, status, true),
            },
            255 => match payload.first() {
                Some(1) => stdout_open = false,
                Some(2) => stderr_open = false,
                _ => {}
            },
            _ => {}
        }
    }
    (stdout, stderr, status, false)
}

/// What port-forward passes on, by the protocol.
fn portforward_model(
    ports: &[u16],
    messages: &[Vec<u8>],
) -> (Vec<Vec<u8>>, Vec<Option<String>>, bool) {
    let mut data = vec![Vec::new(); ports.len()];
    let mut errors = vec![None; ports.len()];
    let mut ready = vec![[false; 2]; ports.len()];
    for message in messages {
        let Some((&channel, payload)) = message.split_first() else {
            continue;
        };
        let index = usize::from(channel) / 2;
        let is_error = usize::from(channel % 2);
        let Some(&port) = ports.get(index) else {
            return (data, errors, true);
        };
        if !ready[index][is_error] {
            match payload {
                [low, high] if u16::from_le_bytes([*low, *high]) == port => {
                    ready[index][is_error] = true;
                    continue;
                }
                _ => return (data, errors, true),
            }
        }
        if is_error == 1 {
            errors[index].get_or_insert_with(|| String::from_utf8_lossy(payload).into_owned());
        } else {
            data[index].extend_from_slice(payload);
        }
    }
    (data, errors, false)
}

fuzz_target!(|data: &[u8]| {
    let Some((&settings, rest)) = data.split_first() else {
        return;
    };
    if settings & 1 == 0 {
        let messages = messages(rest);
        let outcome = exec_frames(&messages, settings & 2 != 0);
        let (stdout, stderr, status, failed) = exec_model(&messages);
        assert_eq!(outcome.stdout, stdout);
        assert_eq!(outcome.stderr, stderr);
        assert_eq!(outcome.status, status);
        assert_eq!(outcome.failed, failed);
    } else {
        let count = usize::from((settings >> 1) % 3) + 1;
        let Some((ports, rest)) = rest.split_at_checked(count * 2) else {
            return;
        };
        let mut ports: Vec<u16> = ports
            .chunks_exact(2)
            .map(|p| u16::from_le_bytes([p[0], p[1]]))
            .collect();
        ports.sort_unstable();
        ports.dedup();
        let messages = messages(rest);
        let outcome = portforward_frames(&ports, &messages);
        let (streams, errors, failed) = portforward_model(&ports, &messages);
        assert_eq!(outcome.data, streams);
        assert_eq!(outcome.errors, errors);
        assert_eq!(outcome.failed, failed);
    }
});
