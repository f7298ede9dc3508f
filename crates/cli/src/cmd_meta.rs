//! `assist completions SHELL` and `assist manpage`: generated from the command definition, so
//! they never drift from it.

use std::io::Write;

use crate::context::{Failure, exit};

/// Prints the completion script for `shell` on stdout.
pub fn completions(mut command: clap::Command, shell: clap_complete::Shell) -> Result<u8, Failure> {
    let name = command.get_name().to_string();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, name, &mut out);
    write_out(&out)
}

/// Prints the man page (roff) on stdout.
pub fn manpage(command: clap::Command) -> Result<u8, Failure> {
    let mut out = Vec::new();
    clap_mangen::Man::new(command)
        .render(&mut out)
        .map_err(|e| Failure::usage(format!("cannot render the man page: {e}")))?;
    write_out(&out)
}

fn write_out(bytes: &[u8]) -> Result<u8, Failure> {
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth reporting.
    let _ = stdout.write_all(bytes).and_then(|()| stdout.flush());
    Ok(exit::OK)
}
