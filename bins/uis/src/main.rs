fn main() -> std::process::ExitCode {
    uis::main()
}
