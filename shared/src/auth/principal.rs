use serde::{Deserialize, Serialize};

use crate::plans::Role;

/// Who acted: an API key, a user of an identity provider, the operator CLI, or the system itself
/// (scheduled and event-driven functions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    ApiKey,
    User,
    Operator,
    System,
}

/// The authenticated caller. The org comes only from the credential, never from the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub org_id: String,
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
