//! Kubeconfig files are read from disk and from `$KUBECONFIG`: any text must
//! parse or fail cleanly, and a parsed file must merge with itself and print.

#![no_main]

use kube_client::config::Kubeconfig;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(kubeconfig) = Kubeconfig::from_yaml(text) {
        let _ = format!("{kubeconfig:?}");
        let _ = kubeconfig.clone().merge(kubeconfig);
    }
});
