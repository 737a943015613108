fn main() -> std::process::ExitCode {
    uis_db_psql::main()
}
