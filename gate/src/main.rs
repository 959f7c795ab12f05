//! `compliance-gate`: see the library. Exit codes: 0 pass, 1 below the bar, 2 any error
//! (argument errors included: clap exits 2 on them).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = compliance_gate::Args::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("compliance-gate: error: cannot start: {e}");
            return ExitCode::from(compliance_gate::EXIT_ERROR);
        }
    };
    ExitCode::from(runtime.block_on(compliance_gate::main_with(args)))
}
