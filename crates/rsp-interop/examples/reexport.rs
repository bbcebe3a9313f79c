//! Reads an Inspect log (.eval or .json) and writes it back as an Inspect `.eval` archive:
//! `cargo run -p rsp-interop --example reexport -- IN OUT.eval`: a debugging aid to
//! see what rsp writes for a given log (`inspect log dump OUT.eval`).

use std::path::PathBuf;

use rsp_interop::{WriteOptions, read_inspect_file, write_eval};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [input, output] = args.as_slice() else {
        return Err("usage: reexport IN OUT.eval".into());
    };
    let log = read_inspect_file(input)?;
    let options = WriteOptions {
        package: ("rsp".into(), env!("CARGO_PKG_VERSION").into()),
        solvers: vec!["generate".into()],
    };
    std::fs::write(output, write_eval(&log, &options)?)?;
    Ok(())
}
