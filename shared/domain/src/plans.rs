//! Plans and roles: the two orderings the API checks, each defined once.

labels! {
    /// Subscription tiers, lowest first; `Ord` follows the tier order.
    pub enum Plan as "plan" {
        Free => "free",
        Team => "team",
        Business => "business",
        Enterprise => "enterprise",
    }
}

impl Plan {
    /// The name used in upgrade prompts ("requires the Enterprise plan").
    pub fn display_name(self) -> &'static str {
        match self {
            Plan::Free => "Free",
            Plan::Team => "Team",
            Plan::Business => "Business",
            Plan::Enterprise => "Enterprise",
        }
    }

    pub fn allows(self, required: Option<Plan>) -> bool {
        required.is_none_or(|r| self >= r)
    }
}

labels! {
    /// Roles within an org, least privileged first; `Ord` follows privilege.
    pub enum Role as "role" {
        Viewer => "viewer",
        Member => "member",
        Admin => "admin",
        Owner => "owner",
    }
}

impl Role {
    pub fn is_admin(self) -> bool {
        self >= Role::Admin
    }
}
