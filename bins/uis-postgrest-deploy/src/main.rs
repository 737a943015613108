fn main() -> std::process::ExitCode {
    uis_postgrest_deploy::main()
}
