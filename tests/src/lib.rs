//! `lodge-tests`: whole-system tests with real `lodge-sync` processes on
//! 127.0.0.1 and one real store per device (filled by the sync issue, #3).
