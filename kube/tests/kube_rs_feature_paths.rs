//! The paths that code written for kube-rs imports behind its optional
//! features (`ws`, `admission`, `kubelet-debug`, `unstable-client`,
//! `unstable-runtime`, `oidc`) exist here under the same names: if one moves
//! or disappears, this test stops compiling. The test itself uses a few of
//! them the way such code does.
#![allow(unused_imports)]

use kube::{
    api::{
        Attach, AttachParams, AttachedProcess, Execute, Portforward, Portforwarder, TerminalSize,
        admission::{
            AdmissionRequest, AdmissionResponse, AdmissionReview, ConvertAdmissionReviewError,
            Operation, PatchType, SerializePatchError,
        },
    },
    client::{
        Connection, UpgradeConnectionError, oidc_errors,
        scope::{Cluster, Namespace, NamespacedRef},
    },
    core::{
        DeserializeGuard, Duration,
        conversion::{ConversionRequest, ConversionResponse, ConversionReview},
        duration::ParseError,
        error_boundary::InvalidObject,
        kubelet_debug::KubeletDebugParams,
    },
    runtime::{
        Controller,
        reflector::{ReflectHandle, store_shared},
    },
};

#[test]
fn feature_gated_kube_rs_code_compiles_and_runs() {
    let ap = AttachParams::interactive_tty().container("main");
    assert!(ap.stdin && ap.tty && !ap.stderr);
    let every: Duration = "1h30m".parse().expect("a duration");
    assert_eq!(every, std::time::Duration::from_secs(5400));
    let size = TerminalSize {
        width: 80,
        height: 24,
    };
    assert_eq!(
        serde_json::to_value(size).expect("encodes"),
        serde_json::json!({"Width": 80, "Height": 24})
    );
    let review: AdmissionReview<kube::core::DynamicObject> =
        AdmissionResponse::invalid("no request").into_review();
    assert!(review.response.is_some_and(|r| !r.allowed));
    let (store, writer) = store_shared::<k8s_openapi::api::core::v1::Pod>(8);
    assert!(writer.subscribe().is_some() && store.is_empty());
}
