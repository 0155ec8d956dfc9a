//! The operator runtime: watchers, reflectors, stores and controllers.
