//! The facade's integration tests, as one binary: each file is a module (run one with
//! `cargo test -p assistants --test integration wire::`).

mod flowgen;
mod flowhunt;
mod hostile;
mod pieces;
mod secrets;
mod soak;
mod wire;
