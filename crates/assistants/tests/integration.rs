//! The facade's integration tests, as one binary: each file is a module (run one with
//! `cargo test -p assistants --test integration wire::`). `secrets.rs` is a binary of its own
//! (see Cargo.toml).

mod flowgen;
mod flowhunt;
mod hostile;
mod pieces;
mod raw;
mod soak;
mod wire;
