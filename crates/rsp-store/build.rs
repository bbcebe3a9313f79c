//! `sqlx::migrate!` embeds the migration files at compile time, but cargo does not know
//! they are inputs: without this, a new migration file is silently left out of an
//! incremental build (the store then refuses databases that already have it).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
