//! The `lodge` desktop binary: everything is in the library, which the
//! Android and iOS builds enter through `run` too.

#![cfg_attr(all(not(debug_assertions), target_os = "windows"), windows_subsystem = "windows")]

fn main() {
    lodge_app::run();
}
