//! Checks `WorkerPool`s against their CEL rules without a cluster.
//!
//! `cargo run -p examples --example crd_derive_cel`

use examples::crd_derive_cel;

fn main() {
    let outcome = crd_derive_cel::run();
    let show = |what: &str, failures: &Option<String>| match failures {
        None => println!("{what}: passes"),
        Some(failures) => println!("{what}: fails: {failures}"),
    };
    show("a pool within its bounds", &outcome.valid);
    show(
        "a pool whose minimum exceeds its maximum",
        &outcome.inverted,
    );
    show("a pool with a negative minimum", &outcome.negative);
    show("the pool moved to another zone", &outcome.moved);
    show(
        "a spec alone whose minimum exceeds its maximum",
        &outcome.inverted_spec,
    );
}
