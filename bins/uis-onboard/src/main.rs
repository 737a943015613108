fn main() -> std::process::ExitCode {
    uis_onboard::main()
}
