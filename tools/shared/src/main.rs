fn main() -> std::process::ExitCode {
    berth::cli::main(berth_shared::run)
}
