fn main() -> std::process::ExitCode {
    outatime::cli::run()
}
