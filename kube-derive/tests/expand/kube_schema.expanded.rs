const _: () = {
    #[derive(::kube::core::schemars::JsonSchema)]
    #[schemars(crate = "::kube::core::schemars")]
    #[schemars(rename = "Bounds")]
    /// Bounds with rules on the struct and its fields.
    #[serde(rename_all = "camelCase", default)]
    #[schemars(transform = ::kube::core::cel::Rule::new("self.min <= self.max"))]
    #[allow(dead_code)]
    struct SchemarsBounds {
        /// The lower bound.
        #[schemars(
            transform = ::kube::core::cel::Rule::from(
                {#[allow(
                    unused_imports
                )]use::kube::core::cel::{Rule};{#[allow(unused_imports)]use
                self::*;Rule::new("self >= 0").message("must not be negative")}}
            )
        )]
        min: i32,
        /// The upper bound.
        #[serde(rename = "maximum")]
        max: i32,
        /// Names, merged as a set.
        #[schemars(
            transform = ::kube::core::cel::MergeStrategy::from(
                {#[allow(
                    unused_imports
                )]use::kube::core::cel::{ListMerge};{#[allow(unused_imports)]use
                self::*;ListMerge::Set}}
            )
        )]
        names: Vec<String>,
    }
    impl Default for SchemarsBounds {
        fn default() -> Self {
            let Bounds { min, max, names } = Default::default();
            Self { min, max, names }
        }
    }
    impl ::kube::core::schemars::JsonSchema for Bounds
    where
        SchemarsBounds: ::kube::core::schemars::JsonSchema,
    {
        fn schema_name() -> ::std::borrow::Cow<'static, str> {
            <SchemarsBounds as ::kube::core::schemars::JsonSchema>::schema_name()
        }
        fn schema_id() -> ::std::borrow::Cow<'static, str> {
            <SchemarsBounds as ::kube::core::schemars::JsonSchema>::schema_id()
        }
        fn inline_schema() -> bool {
            <SchemarsBounds as ::kube::core::schemars::JsonSchema>::inline_schema()
        }
        fn json_schema(
            generator: &mut ::kube::core::schemars::SchemaGenerator,
        ) -> ::kube::core::schemars::Schema {
            <SchemarsBounds as ::kube::core::schemars::JsonSchema>::json_schema(
                generator,
            )
        }
    }
};
