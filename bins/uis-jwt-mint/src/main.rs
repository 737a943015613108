fn main() -> std::process::ExitCode {
    uis_jwt_mint::main()
}
