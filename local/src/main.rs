use clap::Parser;
use compliance_http::config::Config;

/// Runs the whole API locally (configuration: docs/configuration.md).
#[derive(Parser)]
struct Args {
    /// Address to listen on (loopback by default).
    #[arg(long, env = "COMPLIANCE_ADDR", default_value = "127.0.0.1:3000")]
    addr: std::net::SocketAddr,
    /// Seconds between runs of the daily trend snapshot (0: never).
    #[arg(
        long,
        env = "COMPLIANCE_SNAPSHOT_INTERVAL_SECONDS",
        default_value_t = 3600
    )]
    snapshot_interval: u64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    compliance_services::telemetry::init_pretty();
    let args = Args::parse();
    let config = match Config::from_env("embedded") {
        Ok(config) => config,
        Err(e) => {
            // The message alone, for the operator to act on (`?` would print the error's Debug
            // form).
            eprintln!("compliance-local: {e}");
            std::process::exit(2);
        }
    };
    let every = std::time::Duration::from_secs(args.snapshot_interval);
    let state = compliance_local::open(&config, (!every.is_zero()).then_some(every)).await?;
    if let Some(demo) = compliance_local::ensure_demo_org(&state).await? {
        println!("Created the demo org {} (enterprise plan).", demo.org.id);
        println!(
            "Its admin API key, shown only this once:\n\n    {}\n",
            demo.admin_key
        );
        // A sample repository with three scans, so the dashboard's first look is not empty.
        match compliance_local::seed_demo(&state, &demo.admin_key).await {
            Ok(repo_id) => println!(
                "Seeded the sample repository {} (repo_id {repo_id}) with three scans.",
                compliance_local::DEMO_REPO
            ),
            Err(e) => tracing::warn!(error = %e, "the demo data was not seeded"),
        }
    }
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    println!("Listening on http://{}", args.addr);
    println!("Dashboard: http://{}/ (sign in with an API key)", args.addr);
    compliance_local::serve(listener, state).await?;
    Ok(())
}
