//! An admission request as the `request` variable of CEL admission policies.

use super::{AdmissionRequest, Operation};
use crate::Resource;

impl<T: Resource> AdmissionRequest<T> {
    /// The parts of this request a ValidatingAdmissionPolicy's CEL expressions
    /// see as `request`: the operation, the object's name and namespace, the
    /// dry-run flag, kind, resource, and the user's name, uid and groups.
    ///
    /// The objects, options and subresource are left out, and `uid` is the
    /// user's (`userInfo.uid`), not this request's.
    pub fn to_cel_request(&self) -> kube_cel::AdmissionRequest {
        let operation = match self.operation {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        };
        let user = &self.user_info;
        kube_cel::AdmissionRequest {
            operation: operation.to_string(),
            username: user.username.clone().unwrap_or_default(),
            uid: user.uid.clone().unwrap_or_default(),
            groups: user.groups.clone().unwrap_or_default(),
            name: self.name.clone(),
            namespace: self.namespace.clone().unwrap_or_default(),
            dry_run: self.dry_run,
            kind: kube_cel::GroupVersionKind {
                group: self.kind.group.clone(),
                version: self.kind.version.clone(),
                kind: self.kind.kind.clone(),
            },
            resource: kube_cel::GroupVersionResource {
                group: self.resource.group.clone(),
                version: self.resource.version.clone(),
                resource: self.resource.resource.clone(),
            },
        }
    }
}
