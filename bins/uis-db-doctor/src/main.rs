fn main() -> std::process::ExitCode {
    uis_db_doctor::main()
}
