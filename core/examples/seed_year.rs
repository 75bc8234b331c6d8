//! Seeds a store file with a year of a busy site (see `benches/year/mod.rs`).
//!
//! `cargo run --release -p lodge-core --example seed_year -- target/lodge-year.sqlite`

#[path = "../benches/year/mod.rs"]
mod year;

fn main() -> anyhow::Result<()> {
    let path = std::env::args().nth(1).unwrap_or_else(|| "target/lodge-year.sqlite".into());
    let small = std::env::args().any(|a| a == "--small");
    let _ = std::fs::remove_file(&path);
    let started = std::time::Instant::now();
    let clock = lodge_core::ManualClock::new(lodge_core::Timestamp::from_millis(year::YEAR_START));
    year::seed(std::path::Path::new(&path), if small { year::Size::SMALL } else { year::Size::YEAR }, clock);
    println!("seeded {path} in {:.1?}", started.elapsed());
    Ok(())
}
