//! Operator CLI: bootstraps orgs, plans and keys on either store, and mints development tokens.
//! It reads the same environment as the API (docs/configuration.md).

use clap::{Parser, Subcommand};
use compliance_auth::jwt::JwtConfig;
use compliance_domain::identity::ActorKind;
use compliance_domain::ids::{KeyId, OrgId};
use compliance_domain::plans::{Plan, Role};
use compliance_services::api_keys::{self, ApiKeyInfo, CreatedKey, Revoked};
use compliance_services::audit_log::AuditContext;
use compliance_services::audit_log::DEFAULT_RETENTION_DAYS;
use compliance_services::orgs::{self, Org};
use compliance_store::config::{parsed, StoreConfig};
use compliance_store::dynamo::DynamoStore;
use serde::Serialize;
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
        org: OrgId,
        #[arg(long)]
        plan: Plan,
    },
    /// Create an API key (printed once).
    CreateKey {
        #[arg(long)]
        org: OrgId,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "admin")]
        role: Role,
    },
    /// List an org's API keys (never their secrets).
    ListKeys {
        #[arg(long)]
        org: OrgId,
    },
    /// Revoke an API key.
    RevokeKey {
        #[arg(long)]
        org: OrgId,
        #[arg(long)]
        key_id: KeyId,
    },
    /// Mint a development JWT signed with JWT_HS256_SECRET (with JWT_ISSUER / JWT_AUDIENCE).
    MintJwt {
        #[arg(long)]
        org: OrgId,
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

/// An org as the CLI prints it.
#[derive(Serialize)]
struct OrgOut<'a> {
    id: &'a OrgId,
    name: &'a str,
    plan: Plan,
    #[serde(with = "compliance_domain::time::micros")]
    created_at: chrono::DateTime<chrono::Utc>,
}

impl<'a> OrgOut<'a> {
    fn of(org: &'a Org) -> Self {
        OrgOut {
            id: &org.id,
            name: &org.name,
            plan: org.plan,
            created_at: org.created_at,
        }
    }
}

/// A key as the CLI prints it: the secret only when it was just created.
#[derive(Serialize)]
struct KeyOut {
    #[serde(flatten)]
    info: ApiKeyInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
}

impl KeyOut {
    fn created(created: CreatedKey) -> Self {
        KeyOut {
            info: created.info,
            key: Some(created.secret),
        }
    }

    fn listed(info: ApiKeyInfo) -> Self {
        KeyOut { info, key: None }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
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
            mint_jwt(
                &JwtConfig::from_env()?,
                org,
                sub,
                *role,
                email.as_deref(),
                *ttl
            )?
        );
        return Ok(());
    }
    let store_config = StoreConfig::from_env("embedded")?;
    if let Command::CreateTable = cli.command {
        let StoreConfig::Dynamo { table, endpoint } = &store_config else {
            return Err("create-table needs COMPLIANCE_STORE=dynamodb and COMPLIANCE_TABLE".into());
        };
        let client = DynamoStore::client_from_env(endpoint.as_deref()).await;
        compliance_store::table::create_table(&client, table).await?;
        println!("created table {table}");
        return Ok(());
    }
    let store = store_config.open().await?;
    let store = store.as_ref();
    let retention = parsed("AUDIT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)?;
    let ctx = |org: &OrgId| AuditContext::system(org, ActorKind::Operator, OPERATOR, retention);
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
                let created = api_keys::create(store, &ctx(&org.id), "owner", Role::Owner).await?;
                Some(KeyOut::created(created))
            } else {
                None
            };
            json!({"org": OrgOut::of(&org), "owner_key": key})
        }
        Command::SetPlan { org, plan } => {
            match orgs::set_plan(store, &org, plan, &ctx(&org)).await? {
                Some(org) => json!({"org": OrgOut::of(&org)}),
                None => return Err(format!("no org {org}").into()),
            }
        }
        Command::CreateKey { org, name, role } => {
            if orgs::get(store, &org).await?.is_none() {
                return Err(format!("no org {org}").into());
            }
            json!(KeyOut::created(
                api_keys::create(store, &ctx(&org), &name, role).await?
            ))
        }
        Command::ListKeys { org } => {
            let mut all = Vec::new();
            let mut cursor = None;
            loop {
                let (keys, next) = api_keys::list(store, &org, 100, cursor).await?;
                all.extend(keys);
                match next {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
            let all: Vec<KeyOut> = all.into_iter().map(KeyOut::listed).collect();
            json!({"api_keys": all})
        }
        Command::RevokeKey { org, key_id } => {
            // The operator may revoke any key.
            match api_keys::revoke(store, &ctx(&org), &key_id, None).await? {
                Revoked::Done { info, .. } => json!({"revoked": KeyOut::listed(info)}),
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
    jwt: &JwtConfig,
    org: &OrgId,
    sub: &str,
    role: Role,
    email: Option<&str>,
    ttl: i64,
) -> Result<String, Box<dyn std::error::Error>> {
    let secret = jwt
        .hs256_secret
        .as_deref()
        .ok_or("JWT_HS256_SECRET is not set")?;
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({"sub": sub, "iat": now, "nbf": now, "exp": now + ttl});
    claims[&jwt.org_claim] = json!(org);
    claims[&jwt.role_claim] = json!(role);
    if let Some(email) = email {
        claims[&jwt.email_claim] = json!(email);
    }
    if let Some(iss) = &jwt.issuer {
        claims["iss"] = json!(iss);
    }
    if let Some(aud) = &jwt.audience {
        claims["aud"] = json!(aud);
    }
    Ok(jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )?)
}
