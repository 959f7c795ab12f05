//! Operator CLI: bootstraps orgs, plans and keys on either store, and mints development tokens.
//! It reads the same environment as the API (README: configuration).

use clap::{Parser, Subcommand};
use compliance_core::apikeys::{self, Revoked};
use compliance_core::audit::AuditContext;
use compliance_core::auth::ActorKind;
use compliance_core::config::{Config, StoreConfig};
use compliance_core::orgs::{self, Org};
use compliance_core::plans::{Plan, Role};
use compliance_core::store::dynamo::DynamoStore;
use serde_json::json;

#[derive(Parser)]
#[command(
    name = "compliance-cli",
    about = "Operator tasks for the compliance API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the DynamoDB table (COMPLIANCE_STORE=dynamodb) with its stream, TTL and PITR.
    CreateTable,
    /// Create an org; with --owner-key, also its first owner key.
    CreateOrg {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "free")]
        plan: Plan,
        #[arg(long)]
        owner_key: bool,
    },
    /// Change an org's plan.
    SetPlan {
        #[arg(long)]
        org: String,
        #[arg(long)]
        plan: Plan,
    },
    /// Create an API key (printed once).
    CreateKey {
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "admin")]
        role: Role,
    },
    /// List an org's API keys (never their secrets).
    ListKeys {
        #[arg(long)]
        org: String,
    },
    /// Revoke an API key.
    RevokeKey {
        #[arg(long)]
        org: String,
        #[arg(long)]
        key_id: String,
    },
    /// Mint a development JWT signed with JWT_HS256_SECRET (with JWT_ISSUER / JWT_AUDIENCE).
    MintJwt {
        #[arg(long)]
        org: String,
        #[arg(long)]
        sub: String,
        #[arg(long, default_value = "admin")]
        role: Role,
        #[arg(long)]
        email: Option<String>,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 3600)]
        ttl: i64,
    },
}

const OPERATOR: &str = "compliance-cli";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
    let config = Config::from_env("embedded")?;
    if let Command::MintJwt {
        org,
        sub,
        role,
        email,
        ttl,
    } = &cli.command
    {
        println!(
            "{}",
            mint_jwt(&config, org, sub, *role, email.as_deref(), *ttl)?
        );
        return Ok(());
    }
    if let Command::CreateTable = cli.command {
        let StoreConfig::Dynamo { table, endpoint } = &config.store else {
            return Err("create-table needs COMPLIANCE_STORE=dynamodb and COMPLIANCE_TABLE".into());
        };
        let client = DynamoStore::client_from_env(endpoint.as_deref()).await;
        compliance_core::store::table::create_table(&client, table).await?;
        println!("created table {table}");
        return Ok(());
    }
    let store = config.store.open().await?;
    let store = store.as_ref();
    let retention = config.audit_retention_days;
    let ctx = |org: &str| AuditContext::system(org, ActorKind::Operator, OPERATOR, retention);
    let out = match cli.command {
        Command::CreateOrg {
            name,
            plan,
            owner_key,
        } => {
            let org = Org::new(&name, plan);
            orgs::create(
                store,
                &org,
                (ActorKind::Operator, OPERATOR),
                retention,
                None,
            )
            .await?;
            let key = if owner_key {
                Some(apikeys::create(store, &ctx(&org.id), "owner", Role::Owner).await?)
            } else {
                None
            };
            json!({"org": org, "owner_key": key})
        }
        Command::SetPlan { org, plan } => {
            match orgs::set_plan(store, &org, plan, &ctx(&org)).await? {
                Some(org) => json!({"org": org}),
                None => return Err(format!("no org {org}").into()),
            }
        }
        Command::CreateKey { org, name, role } => {
            if orgs::get(store, &org).await?.is_none() {
                return Err(format!("no org {org}").into());
            }
            json!(apikeys::create(store, &ctx(&org), &name, role).await?)
        }
        Command::ListKeys { org } => {
            let mut all = Vec::new();
            let mut cursor = None;
            loop {
                let (keys, next) = apikeys::list(store, &org, 100, cursor).await?;
                all.extend(keys);
                match next {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
            json!({"api_keys": all})
        }
        Command::RevokeKey { org, key_id } => {
            // The operator may revoke any key.
            match apikeys::revoke(store, &ctx(&org), &key_id, None).await? {
                Revoked::Done { info, .. } => json!({"revoked": info}),
                Revoked::NotFound | Revoked::AboveRole(_) => {
                    return Err(format!("no active key {key_id} in org {org}").into())
                }
            }
        }
        Command::CreateTable | Command::MintJwt { .. } => unreachable!("handled above"),
    };
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

fn mint_jwt(
    config: &Config,
    org: &str,
    sub: &str,
    role: Role,
    email: Option<&str>,
    ttl: i64,
) -> Result<String, Box<dyn std::error::Error>> {
    let secret = config
        .jwt
        .hs256_secret
        .as_deref()
        .ok_or("JWT_HS256_SECRET is not set")?;
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({"sub": sub, "iat": now, "nbf": now, "exp": now + ttl});
    claims[&config.jwt.org_claim] = json!(org);
    claims[&config.jwt.role_claim] = json!(role);
    if let Some(email) = email {
        claims[&config.jwt.email_claim] = json!(email);
    }
    if let Some(iss) = &config.jwt.issuer {
        claims["iss"] = json!(iss);
    }
    if let Some(aud) = &config.jwt.audience {
        claims["aud"] = json!(aud);
    }
    Ok(jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )?)
}
