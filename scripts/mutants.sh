#!/usr/bin/env bash
# Mutation testing: each mutant is one small change cargo-mutants makes to one function; the
# tests must fail ("caught") for it. Not part of .ci/run: on 2 cores each mutant rebuilds the
# crate and relinks its test binaries (20-60 s), so the whole facade (~530 mutants) takes hours.
#
#   cargo install cargo-mutants --locked      # once, from crates.io
#   scripts/mutants.sh [SET] [cargo-mutants arguments...]
#
# SET (default `core`):
#   core     the facade's call path: retry, deadline, validation, conversion, call, error
#   waiting  the facade's waiting: poll pacing, shared loops, streams, the per-service adapters
#   facade   every file of crates/assistants/src
#   runtime  crates/api-runtime (its own tests)
# e.g. `scripts/mutants.sh core --list`, `scripts/mutants.sh waiting --iterate` (skips the
# mutants an earlier run caught), `scripts/mutants.sh core --shard 1/2`.
#
# Tests run: every test target of the package (`cargo test --tests`: unit and integration
# tests; doctests are examples and are left out, they would cost a build each). The builds use
# the `mutants` profile (no debug info), so the dev build's artefacts stay in target/.
#
# Results: target/mutants/<SET>/mutants.out/{caught,missed,unviable,timeout}.txt and
# outcomes.json (under target/, never committed). --in-place builds in this checkout so the
# warm target/ is reused; cargo-mutants puts each file back after its mutant; if the run is
# killed mid-mutant, `git checkout crates` restores the sources.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo-mutants >/dev/null; then
    echo "cargo-mutants is not installed: cargo install cargo-mutants --locked" >&2
    exit 2
fi

set_name=core
if [[ $# -gt 0 && $1 != -* ]]; then
    set_name=$1
    shift
fi
src=crates/assistants/src
case $set_name in
core)
    args=(-p assistants)
    for f in retry deadline validate convert call error; do args+=(--file "$src/$f.rs"); done
    ;;
waiting)
    args=(-p assistants --file "$src/poll.rs" --file "$src/shared.rs" --file "$src/stream.rs"
        --file "$src/flowhunt/**" --file "$src/flowgen/**" --file "$src/pieces/**")
    ;;
facade) args=(-p assistants) ;;
runtime) args=(-p assistants-api-runtime) ;;
*)
    echo "unknown set '$set_name': core, waiting, facade or runtime" >&2
    exit 2
    ;;
esac

exec cargo mutants --in-place --profile mutants --timeout 90 --output "target/mutants/$set_name" \
    --cargo-test-arg=--tests "${args[@]}" "$@"
