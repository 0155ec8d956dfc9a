impl ::kube::core::Resource for Settings {
    type DynamicType = <ConfigMap as ::kube::core::Resource>::DynamicType;
    type Scope = <ConfigMap as ::kube::core::Resource>::Scope;
    fn kind(dt: &Self::DynamicType) -> ::std::borrow::Cow<'_, str> {
        <ConfigMap as ::kube::core::Resource>::kind(dt)
    }
    fn group(dt: &Self::DynamicType) -> ::std::borrow::Cow<'_, str> {
        <ConfigMap as ::kube::core::Resource>::group(dt)
    }
    fn version(dt: &Self::DynamicType) -> ::std::borrow::Cow<'_, str> {
        <ConfigMap as ::kube::core::Resource>::version(dt)
    }
    fn api_version(dt: &Self::DynamicType) -> ::std::borrow::Cow<'_, str> {
        <ConfigMap as ::kube::core::Resource>::api_version(dt)
    }
    fn plural(dt: &Self::DynamicType) -> ::std::borrow::Cow<'_, str> {
        <ConfigMap as ::kube::core::Resource>::plural(dt)
    }
    fn meta(
        &self,
    ) -> &::kube::core::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
        &self.metadata
    }
    fn meta_mut(
        &mut self,
    ) -> &mut ::kube::core::k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
        &mut self.metadata
    }
}
