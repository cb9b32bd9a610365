//! The commands ACL rules can name, numbered: every command and subcommand
//! a server has (Redis's `orig_commands`, numbered by `ACLGetCommandID`),
//! taken from the shared command table, implemented or not, so that rules,
//! categories and their descriptions are the same as Redis's.

use std::collections::HashMap;
use std::sync::OnceLock;

use corvid_proto::command_table::{self, AclCategories, CommandSpec};

/// Room for every command id in a selector's bitmap.
pub const MAX_COMMANDS: usize = 512;

/// A command's number in the catalog.
pub type CommandId = usize;

pub struct Catalog {
    /// By id; a container comes right before its subcommands.
    pub specs: Vec<&'static CommandSpec>,
    /// The subcommand ids of each container (empty for the others).
    pub subs: Vec<Vec<CommandId>>,
    /// Whether the command is a subcommand.
    pub is_sub: Vec<bool>,
    by_spec: HashMap<usize, CommandId>,
}

impl Catalog {
    fn build() -> Catalog {
        let mut c = Catalog { specs: Vec::new(), subs: Vec::new(), is_sub: Vec::new(), by_spec: HashMap::new() };
        for spec in command_table::all().iter().filter(|s| s.available(false)) {
            let id = c.push(spec, false);
            for sub in spec.subcommands.iter().filter(|s| s.available(false)) {
                let sid = c.push(sub, true);
                c.subs[id].push(sid);
            }
        }
        assert!(c.specs.len() <= MAX_COMMANDS, "the ACL bitmap is too small for {} commands", c.specs.len());
        c
    }

    fn push(&mut self, spec: &'static CommandSpec, is_sub: bool) -> CommandId {
        let id = self.specs.len();
        self.specs.push(spec);
        self.subs.push(Vec::new());
        self.is_sub.push(is_sub);
        self.by_spec.insert(spec as *const CommandSpec as usize, id);
        id
    }

    /// The id of a command of the table.
    pub fn id_of(&self, spec: &'static CommandSpec) -> Option<CommandId> {
        self.by_spec.get(&(spec as *const CommandSpec as usize)).copied()
    }

    /// A command named as ACL rules name it: "get" or "config|get"
    /// (lookupCommandBySdsLogic: one level of subcommands, and only of
    /// containers).
    pub fn find(&self, name: &[u8]) -> Option<CommandId> {
        let mut parts = name.split(|&b| b == b'|');
        let base = command_table::lookup(parts.next()?)?;
        let spec = match (parts.next(), parts.next()) {
            (None, _) => base,
            (Some(sub), None) if base.is_container() => command_table::lookup_subcommand(base, sub)?,
            _ => return None,
        };
        self.id_of(spec)
    }

    /// The commands of a category, in id order.
    pub fn in_category(&self, cat: AclCategories) -> impl Iterator<Item = CommandId> + '_ {
        (0..self.specs.len()).filter(move |&id| self.specs[id].acl_categories.intersects(cat))
    }
}

/// The catalog, built once.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(Catalog::build)
}

/// A category by its name, ignoring case (ACLGetCommandCategoryFlagByName).
pub fn category(name: &[u8]) -> Option<AclCategories> {
    AclCategories::from_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_commands_and_subcommands() {
        let c = catalog();
        let get = c.find(b"get").unwrap();
        assert_eq!(c.specs[get].full_name, "get");
        let cg = c.find(b"CONFIG|get").unwrap();
        assert_eq!(c.specs[cg].full_name, "config|get");
        assert!(c.subs[c.find(b"config").unwrap()].contains(&cg));
        assert!(c.find(b"config|nosuch").is_none());
        assert!(c.find(b"get|key").is_none(), "get has no subcommands");
        assert!(c.find(b"config|get|x").is_none());
    }
}
