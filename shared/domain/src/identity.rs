//! Who acts: the authenticated caller and the kinds of actor an audit entry names.

use crate::ids::OrgId;
use crate::plans::Role;

labels! {
    /// Who acted: an API key, a user of an identity provider, the operator CLI, or the system
    /// itself (scheduled and event-driven functions).
    pub enum ActorKind as "actor kind" {
        ApiKey => "api_key",
        User => "user",
        Operator => "operator",
        System => "system",
    }
}

/// The authenticated caller. The org comes only from the credential, never from the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub org_id: OrgId,
    pub role: Role,
    pub actor_id: String,
    pub email: Option<String>,
    pub kind: ActorKind,
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        self.role.is_admin()
    }
}
