#!/usr/bin/env bash
# Mutation testing of the facade's retry, deadline, validation and conversion code: each
# mutant is one small change cargo-mutants makes to one function; the `assistants` test suite
# must fail ("caught") for it. Not part of .ci/run: each mutant rebuilds the facade and its
# eight test binaries (about a minute on 2 cores).
#
#   cargo install cargo-mutants --locked      # once, from crates.io
#   scripts/mutants.sh                        # this subset, 120 s per test run (--in-place is
#                                             # always one job: -j 1 is implied and refused)
#   scripts/mutants.sh --list                 # only list the mutants (90)
#   scripts/mutants.sh --baseline skip        # when `cargo test -p assistants` just passed
# Other arguments go to cargo-mutants. Other files: run the same command with other --file
# and -p (without --file, cargo-mutants mutates the whole workspace: ~1900 mutants).
#
# Results: target/mutants/mutants.out/{caught,missed,unviable,timeout}.txt and outcomes.json
# (under target/, so never committed).
#
# --in-place builds in this checkout so the warm target/ is reused (a copy of the tree would
# rebuild every dependency first). cargo-mutants puts each file back after its mutant; if the
# run is killed mid-mutant, `git checkout crates/assistants/src` restores the sources.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-mutants >/dev/null; then
    echo "cargo-mutants is not installed: cargo install cargo-mutants --locked" >&2
    exit 2
fi

exec cargo mutants --in-place --timeout 120 --output target/mutants -p assistants \
    --file crates/assistants/src/retry.rs \
    --file crates/assistants/src/deadline.rs \
    --file crates/assistants/src/validate.rs \
    --file crates/assistants/src/convert.rs \
    "$@"
