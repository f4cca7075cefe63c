//! The tricklab command line: headless training, the Keras tutorial's schedules line by line, and
//! the kernel benchmark. Each subcommand lives in its own file and returns a message on failure.

mod bench;
mod bench_step;
mod check_lab;
mod kernels;
mod lesson;
mod overrides;
mod schedule;
mod train;

use std::process::ExitCode;

const USAGE: &str = "usage: tricklab <command> [options]

commands:
  train          train a model headless (see `tricklab train --help`)
  schedule       print the learning rate for every global step (see `tricklab schedule --help`)
  adapter        print the GPU adapter runs would use, as JSON (name, type, backend, software)
  check-kernels  check every kernel variant on this adapter against the CPU reference, as JSON lines
  check-lab      check this computer for the lessons: adapter, kernel checks, each lesson's estimated duration
  bench-kernels  time every kernel variant at ResNet-20/CIFAR-10 shapes, print GFLOP/s and the picks
  bench-step     time whole training steps of ResNet-20 and the MNIST model (see `tricklab bench-step --help`)
  lesson         run a lesson (one trick's experiment, built in or a lesson file) over seeds (see `tricklab lesson --help`)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = args.first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let rest = &args[1..];
    let result = match command.as_str() {
        "schedule" => schedule::run(rest),
        "train" => train::run(rest),
        "bench-kernels" => bench::run(rest),
        "adapter" => kernels::adapter(),
        "check-kernels" => kernels::check(),
        "check-lab" => check_lab::run(rest),
        "bench-step" => bench_step::run(rest),
        "lesson" => lesson::run(rest),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command `{other}`\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("tricklab {command}: {msg}");
            ExitCode::from(2)
        }
    }
}
