//! Who may do what: the four roles of a token and the permission each API call needs.
//!
//! The server checks a call's permission against the caller's role; the studio asks the same
//! question to decide which actions to offer, so the rule exists once.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The role a token carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, including issuing and revoking tokens.
    Admin,
    /// Designs the integration: schema, integration keys, maps and their lifecycle, alerts, imports.
    /// Reads data, but does not write it.
    Maker,
    /// Writes environment data, the way an application user of either environment does.
    App,
    /// Reads everything a shared link shows; changes nothing.
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Maker, Role::App, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Maker => "maker",
            Role::App => "app",
            Role::Viewer => "viewer",
        }
    }

    /// Whether a token with this role may do what `permission` guards.
    pub fn may(self, permission: Permission) -> bool {
        match permission {
            Permission::Read => true,
            Permission::Design => matches!(self, Role::Admin | Role::Maker),
            Permission::WriteData => matches!(self, Role::Admin | Role::App),
            Permission::ManageTokens => self == Role::Admin,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not a role; the roles are admin, maker, app and viewer"))
    }
}

/// What an API call does, as far as access goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Reads anything, or computes something without writing (validate, preflight).
    Read,
    /// Changes the schema, keys, maps, their lifecycle, alerts or availability.
    Design,
    /// Writes rows in an environment.
    WriteData,
    /// Lists, issues and revokes tokens.
    ManageTokens,
}

impl Permission {
    /// The roles that hold this permission, most powerful first.
    pub fn roles(self) -> impl Iterator<Item = Role> {
        Role::ALL.into_iter().filter(move |r| r.may(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_holds_exactly_its_permissions() {
        let holders = |p: Permission| p.roles().collect::<Vec<_>>();
        assert_eq!(holders(Permission::Read), Role::ALL);
        assert_eq!(holders(Permission::Design), [Role::Admin, Role::Maker]);
        assert_eq!(holders(Permission::WriteData), [Role::Admin, Role::App]);
        assert_eq!(holders(Permission::ManageTokens), [Role::Admin]);
    }

    #[test]
    fn roles_read_back_from_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(serde_json::to_value(role).ok(), Some(serde_json::json!(role.as_str())));
        }
        assert!("root"
            .parse::<Role>()
            .expect_err("root is no role")
            .contains("admin, maker, app and viewer"));
    }
}
