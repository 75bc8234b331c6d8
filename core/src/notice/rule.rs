//! The rules: which fact tells whom, and how old a fact may be before
//! telling is pointless.

use std::time::Duration;

use chrono::NaiveTime;
use serde::{Deserialize, Serialize};

/// A rule that turns a fact into a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// A guest was admitted: their host is told by e-mail.
    HostTold,
    /// A guest was admitted: their host is told in the app, on their own
    /// phones (a notice the server writes; nothing leaves Lodge).
    HostToldInApp,
    /// Someone signed in or out: each of the site's Slack webhooks gets
    /// who, what, and how many are in the building now.
    SlackPresence,
    /// End of day, at the site's reminder time: everyone still signed in
    /// is reminded to sign out, by their preferred contact.
    SignOutReminder,
    /// Every morning: each key loan past due is told to its borrower,
    /// once a day until the key is back.
    LoanOverdue,
    /// A key overdue for the site's number of days: the borrower's
    /// department's administrative contact is told too (made by
    /// [`Rule::LoanOverdue`]'s daily run).
    LoanOverdueDepartment,
    /// An announcement or emergency sent from a desk: each person of its
    /// audience who can be reached is told by e-mail or text message
    /// (everyone *in the building* for "everyone": those signed in now).
    Announcement,
    /// Every night: documents past the site's retention are erased
    /// everywhere (the server's own work; nobody is told).
    Retention,
    /// A guest was expected: their invitation (the day, the host, the code
    /// and its QR) goes to their e-mail.
    Invitation,
    /// Someone asked to join from their phone ("I work here"): the
    /// six-digit code goes to the e-mail or phone number they gave.
    SignInCode,
}

/// When a daily rule runs, in the site's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DailyAt {
    /// At the site's reminder time (its settings).
    ReminderTime,
    /// At a fixed time of day.
    Fixed(NaiveTime),
}

/// A rule name that no rule has.
#[derive(Debug, Clone, thiserror::Error)]
#[error("there is no rule called \"{0}\"; the rules are: host-told, host-told-in-app, slack-presence, sign-out-reminder, loan-overdue, loan-overdue-department, announcement, retention, invitation, sign-in-code")]
pub struct UnknownRule(pub String);

impl Rule {
    /// Every rule.
    pub const ALL: [Rule; 10] = [
        Rule::HostTold,
        Rule::HostToldInApp,
        Rule::SlackPresence,
        Rule::SignOutReminder,
        Rule::LoanOverdue,
        Rule::LoanOverdueDepartment,
        Rule::Announcement,
        Rule::Retention,
        Rule::Invitation,
        Rule::SignInCode,
    ];

    /// The rule's name as stored and typed (`host-told`).
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::HostTold => "host-told",
            Rule::HostToldInApp => "host-told-in-app",
            Rule::SlackPresence => "slack-presence",
            Rule::SignOutReminder => "sign-out-reminder",
            Rule::LoanOverdue => "loan-overdue",
            Rule::LoanOverdueDepartment => "loan-overdue-department",
            Rule::Announcement => "announcement",
            Rule::Retention => "retention",
            Rule::Invitation => "invitation",
            Rule::SignInCode => "sign-in-code",
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
            Rule::HostTold | Rule::HostToldInApp => Duration::from_secs(4 * 3600),
            // A channel's running count: yesterday's sign-in is noise.
            Rule::SlackPresence => Duration::from_secs(3600),
            // An emergency an hour late is worse than none.
            Rule::Announcement => Duration::from_secs(3600),
            // "Sign out" at 22:00 for 17:00 is noise; so is the server
            // catching up on last week's reminders after a long stop.
            Rule::SignOutReminder => Duration::from_secs(2 * 3600),
            Rule::LoanOverdue | Rule::LoanOverdueDepartment => Duration::from_secs(12 * 3600),
            // A night's erasure is due until it is done (a day run is never
            // too old itself); this is for completeness.
            Rule::Retention => Duration::from_secs(24 * 3600),
            // Still worth sending while the day is ahead; the message is
            // cancelled once the guest has come.
            Rule::Invitation => Duration::from_secs(7 * 24 * 3600),
            // The code ends ten minutes after it was asked for.
            Rule::SignInCode => Duration::from_secs(10 * 60),
        }
    }

    /// When the rule runs by the clock, for the rules that do: once a day
    /// per site, keyed by rule, site and local day.
    pub fn daily_at(self) -> Option<DailyAt> {
        match self {
            Rule::SignOutReminder => Some(DailyAt::ReminderTime),
            Rule::LoanOverdue => NaiveTime::from_hms_opt(9, 0, 0).map(DailyAt::Fixed),
            // At night, when nobody is at the desks.
            Rule::Retention => NaiveTime::from_hms_opt(3, 0, 0).map(DailyAt::Fixed),
            Rule::HostTold | Rule::HostToldInApp | Rule::SlackPresence | Rule::LoanOverdueDepartment | Rule::Announcement | Rule::Invitation | Rule::SignInCode => None,
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
