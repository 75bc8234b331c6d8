//! `lodge-sync`: the sync server (issue #3 builds it).

fn main() {
    eprintln!("lodge-sync: the sync server is not built yet; see issue #3.");
    std::process::exit(2);
}
