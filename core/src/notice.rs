//! What the server does when nobody is looking: the rules that turn a fact
//! (a guest admitted) into a message for someone (the host), and the
//! durable queue of those messages in the server's store.
//!
//! A job is written in the same transaction as the fact that causes it,
//! under a key made of the fact and the rule, so the same fact arriving
//! twice (two desks' merged copies, a device sending again after a crash)
//! finds its job there already. Sending is the server's; the queue, the
//! rules and what each message says are here, once.

mod facts;
mod job;
mod message;
mod queue;
mod delivery;
mod relay;
mod rule;
mod schedule;
mod sign_in_code;
mod slack;

pub(crate) use facts::enqueue_for;
pub use delivery::{Delivery, DeliveryState};
pub use job::{Job, JobError, JobFilter, JobId, JobState};
pub use message::{AnnouncementSent, HostNotice, HostTold, InvitationSent, LoanOverdue, Message, Recipient, SignOutReminder, SlackPresence};
pub use relay::{MailRelay, RelayTooLong, hide_password};
pub use queue::{Attempt, FIRST_RETRY, RETRY_LIMIT};
pub use rule::{DailyAt, Rule, UnknownRule};
pub use sign_in_code::SignInCodeSent;
pub use slack::{BadWebhook, MAX_CHANNEL_CHARS, SlackHook, check_webhook_url};
