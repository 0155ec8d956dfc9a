//! Every example, run against a real kube-apiserver started by kube-test
//! (once for this whole test binary). When the control plane cannot start,
//! the tests fail.

mod common;
mod controllers;
mod crds;
mod custom_clients;
mod demo;
mod dynamic;
mod kube_rs_paths;
mod operator;
mod pods;
mod rollout;
mod watchers;
mod webhooks;
mod whoami;
