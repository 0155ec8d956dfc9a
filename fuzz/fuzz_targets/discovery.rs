//! Discovery documents, per group version (`/apis/apps/v1`) and aggregated
//! (`apidiscovery.k8s.io/v2`), become the groups and resources a client picks
//! from: any document must be read or refused cleanly.
//!
//! Input: one byte choosing the document (v1, v2 of `/apis`, v2 of `/api`),
//! then the JSON.

#![no_main]

use kube_client::client::fuzzing::{discovery_v1, discovery_v2};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&choice, document)) = data.split_first() else {
        return;
    };
    let groups = match choice % 3 {
        0 => discovery_v1(document),
        1 => discovery_v2(document, false),
        _ => discovery_v2(document, true),
    };
    let Ok(groups) = groups else {
        return;
    };
    for (name, versions, _) in &groups {
        assert!(!versions.is_empty(), "group {name:?} without versions");
    }
});
