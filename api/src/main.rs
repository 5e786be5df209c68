use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    api::cli::Cli::parse().run().await
}
