//! The types of the Kubernetes API and the pure functions around them.
