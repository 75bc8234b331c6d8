//! The rules: which fact tells whom, and how old a fact may be before
//! telling is pointless.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A rule that turns a fact into a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// A guest was admitted: their host is told by e-mail.
    HostTold,
    /// Someone signed in or out: each of the site's Slack webhooks gets
    /// who, what, and how many are in the building now.
    SlackPresence,
}

/// A rule name that no rule has.
#[derive(Debug, Clone, thiserror::Error)]
#[error("there is no rule called \"{0}\"; the rules are: host-told, slack-presence")]
pub struct UnknownRule(pub String);

impl Rule {
    /// Every rule.
    pub const ALL: [Rule; 2] = [Rule::HostTold, Rule::SlackPresence];

    /// The rule's name as stored and typed (`host-told`).
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::HostTold => "host-told",
            Rule::SlackPresence => "slack-presence",
        }
    }

    /// A rule by its name.
    pub fn parse(name: &str) -> Result<Self, UnknownRule> {
        Self::ALL.into_iter().find(|r| r.as_str() == name).ok_or_else(|| UnknownRule(name.to_owned()))
    }

    /// How old the fact may be when its message could go out: a host told
    /// hours later that a guest arrived (a desk that was offline all
    /// morning) is told nothing instead.
    pub fn too_old_after(self) -> Duration {
        match self {
            Rule::HostTold => Duration::from_secs(4 * 3600),
            // A channel's running count: yesterday's sign-in is noise.
            Rule::SlackPresence => Duration::from_secs(3600),
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Rule {
    type Err = UnknownRule;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}
