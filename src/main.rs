//! The `outatime` binary: the command line lives in the library.

fn main() -> std::process::ExitCode {
    outatime::run()
}
