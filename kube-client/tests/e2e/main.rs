//! End-to-end tests of kube-client against a real kube-apiserver, started by
//! kube-test on loopback (once for this whole test binary).
//!
//! Every test needs the control plane: when it cannot start, the tests fail.

mod admission;
mod auth;
mod auth_gcp;
mod auth_oidc;
mod client_ext;
mod common;
mod crud;
mod discovery;
mod guard;
mod openssl;
mod streaming;
mod subresources;
mod watch;
