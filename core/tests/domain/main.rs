//! Every command on one device's store, with its refusals: what the four
//! desks do, offline, on a real SQLite file.

mod announcements;
mod equipment;
mod expected;
mod fixture;
mod keys;
mod notices;
mod people;
mod presence;
mod repairs;
mod retention;
mod roll_calls;
mod site;
mod statistics;
mod visits;
