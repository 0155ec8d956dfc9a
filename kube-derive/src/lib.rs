//! Derive macros for Kubernetes custom resources.
