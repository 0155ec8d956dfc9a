//! Empty: this package exists only for its dependency on kube 5.
