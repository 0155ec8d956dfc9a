//! Mistakes in the derives' attributes are compile errors that point at the
//! mistake and say how to fix it.
//!
//! Each file under `tests/ui` groups related mistakes; the expected compiler
//! output sits next to it in a `.stderr` file. After an intended change to a
//! message, regenerate them with `TRYBUILD=overwrite cargo test -p kube-derive
//! --test ui` and read the diff.

#[test]
fn attribute_mistakes_are_reported_at_the_attribute() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
