//! A document's change history: who did what, from the change messages
//! every command writes. The admin's audit reads it.

use serde::{Deserialize, Serialize};

use super::{Error, Store};
use crate::document::DocId;
use crate::time::Timestamp;

/// One change of a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DocChange {
    /// "admit by Anna Kowalska <person:…>".
    pub message: String,
    /// When, by the writing device's clock (second precision).
    pub at: Timestamp,
    /// The command that made it (`admit`), for the screen to name in its
    /// language; empty for a change no command wrote.
    pub command: String,
    /// Who, by name ("Anna Kowalska", "guest kiosk").
    pub by: String,
}

/// The command and the actor's name of a change message, as
/// [`Store::run`](super::Store) writes it: "{command} by {name} <{id}>".
fn read_message(message: &str) -> (String, String) {
    match message.split_once(" by ") {
        Some((command, actor)) => (command.to_owned(), crate::actor::Actor::name_in_tag(actor).to_owned()),
        None => (String::new(), String::new()),
    }
}

impl Store {
    /// Every change of a document, oldest first (`None` if it is not here).
    pub fn change_history(&mut self, doc: &DocId) -> Result<Vec<DocChange>, Error> {
        let Some(loaded) = self.loaded(doc)? else {
            return Ok(Vec::new());
        };
        let mut changes: Vec<DocChange> = loaded
            .doc
            .get_changes(&[])
            .iter()
            .map(|c| {
                let message = c.message().unwrap_or_default().to_owned();
                let (command, by) = read_message(&message);
                DocChange { message, at: Timestamp::from_millis(c.timestamp() * 1000), command, by }
            })
            .collect();
        changes.sort_by_key(|c| c.at);
        Ok(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::read_message;

    #[test]
    fn a_message_names_its_command_and_who() {
        assert_eq!(read_message("admit by Anna Kowalska <person:1b2c>"), ("admit".into(), "Anna Kowalska".into()));
        assert_eq!(read_message("register_guest by guest kiosk <device:9f>"), ("register_guest".into(), "guest kiosk".into()));
        assert_eq!(read_message("create visit:1"), (String::new(), String::new()));
    }
}
