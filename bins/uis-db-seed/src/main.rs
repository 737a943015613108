fn main() -> std::process::ExitCode {
    uis_db_seed::main()
}
