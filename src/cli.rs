//! The command line: `serve` (the default), `migrate`, `user add`, `token create|revoke`.

use std::{io::Read, path::PathBuf, process::ExitCode};

use anyhow::Context;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::{
    auth::{password, tokens},
    config::{DbArgs, ServeArgs},
    db,
    users::{self, DisplayName, Email, NewUser},
};

/// standardise runs exam-marking standardisation meetings in the browser.
#[derive(Debug, Parser)]
#[command(name = "standardise", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Load a demonstration meeting (sample paper, scripts, ten accounts with
    /// marks) into the database the server uses, and print its accounts'
    /// one-time passwords. Refused if it is already there.
    Demo,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage personal API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Work with mark-scheme documents.
    #[command(subcommand)]
    Markscheme(MarkschemeCommand),
    /// Benchmarks on a scratch database, dropped afterwards: `bench dashboard`
    /// (the default) and `bench load` (see docs/benchmarks.md).
    Bench(crate::bench::BenchArgs),
}

#[derive(Debug, Subcommand)]
enum MarkschemeCommand {
    /// Print the paper a mark-scheme document describes, as JSON; problems go to
    /// stderr with their line numbers and the exit code is 2.
    Parse {
        /// The document (Markdown or plain text).
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account. Prints a one-time password unless --password-stdin is given.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Make the account an exam-board administrator.
        #[arg(long)]
        admin: bool,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create an API token for an account and print it (only this once).
    Create {
        #[arg(long)]
        email: String,
        /// A label to recognise the token by, e.g. the program that uses it.
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// Revoke an account's live tokens with this label.
    Revoke {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
}

fn init_logging(format: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // Ignore the error of a second initialisation (tests may call in twice).
    let _ = if format == "json" { builder.json().try_init() } else { builder.try_init() };
}

/// Runs the command line; returns the process exit code.
pub fn main(cli: Cli) -> ExitCode {
    init_logging(&cli.serve.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("standardise: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("standardise: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `markscheme parse FILE`: no database, no server.
fn parse_markscheme(file: &std::path::Path) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let imported = match crate::papers::import::read_document(&bytes) {
        Ok(imported) => imported,
        Err(message) => {
            eprintln!("{}: {message}", file.display());
            return Ok(ExitCode::from(2));
        }
    };
    // Everything read is printed even when parts were not understood: one slip must not lose a paper.
    println!("{}", serde_json::to_string_pretty(&imported.report())?);
    for p in &imported.problems {
        eprintln!("{}:{}: {}", file.display(), p.line, p.message);
    }
    Ok(if imported.problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) })
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Markscheme(MarkschemeCommand::Parse { file }) => return parse_markscheme(&file),
        Command::Serve => crate::serve::serve(&cli.db, &cli.serve).await?,
        Command::Bench(args) => crate::bench::run(&cli.db, args).await?,
        Command::Demo => {
            let admin_email = cli.serve.admin_email.clone();
            with_database(&cli.db, |pool| async move {
                db::migrate(&pool).await?;
                // On a new database the administrator comes first, as when the server first starts.
                crate::serve::create_first_admin(&pool, &admin_email).await?;
                let admin = sqlx::query_scalar!(
                    r#"SELECT id AS "id: users::UserId" FROM users WHERE is_admin AND active ORDER BY created_at LIMIT 1"#
                )
                .fetch_optional(&pool)
                .await?
                .context("no active administrator: create one with `standardise user add --admin`")?;
                let loaded = crate::demo::load(&pool, crate::audit::Actor(admin)).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                print_demo(&loaded);
                Ok(())
            })
            .await?
        }
        Command::Migrate => {
            with_database(&cli.db, |pool| async move {
                db::migrate(&pool).await?;
                println!("Migrations applied.");
                Ok(())
            })
            .await?
        }
        Command::User(UserCommand::Add { email, name, admin, password_stdin }) => {
            let email = Email::parse(&email).map_err(anyhow::Error::msg)?;
            let name = DisplayName::parse(&name).map_err(anyhow::Error::msg)?;
            let (secret, one_time) = if password_stdin {
                let mut input = String::new();
                std::io::stdin().read_to_string(&mut input).context("reading the password from stdin")?;
                let input = input.trim_end_matches(['\r', '\n']).to_owned();
                password::check_new(&input, &input).map_err(anyhow::Error::msg)?;
                (input, false)
            } else {
                (password::one_time_password(), true)
            };
            let hash = password::hash(secret.clone()).await?;
            with_database(&cli.db, |pool| async move {
                db::migrate(&pool).await?;
                let user = users::create(
                    &pool,
                    NewUser { email: &email, name: &name, password_hash: &hash, is_admin: admin, must_change_password: one_time },
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
                println!("Created {} <{}>{}.", user.name, user.email, if admin { " (administrator)" } else { "" });
                if one_time {
                    println!("One-time password: {secret}\n(they choose their own at first sign-in; it is not shown again)");
                }
                Ok(())
            })
            .await?
        }
        Command::Token(TokenCommand::Create { email, name }) => {
            let email = Email::parse(&email).map_err(anyhow::Error::msg)?;
            with_database(&cli.db, |pool| async move {
                db::migrate(&pool).await?;
                let user = users::find_by_email(&pool, &email)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?
                    .filter(|u| u.active)
                    .with_context(|| format!("no active account has the email {}", email.as_str()))?;
                let token = tokens::create(&pool, user.user_id(), &name).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                eprintln!("API token {name:?} for {} (shown only now; store it safely):", user.email);
                println!("{token}");
                Ok(())
            })
            .await?
        }
        Command::Token(TokenCommand::Revoke { email, name }) => {
            let email = Email::parse(&email).map_err(anyhow::Error::msg)?;
            with_database(&cli.db, |pool| async move {
                let user = users::find_by_email(&pool, &email)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?
                    .with_context(|| format!("no account has the email {}", email.as_str()))?;
                let n = tokens::revoke(&pool, user.user_id(), &name).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                println!("Revoked {n} token(s) named {name:?} of {}.", user.email);
                Ok(())
            })
            .await?
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_demo(loaded: &crate::demo::Loaded) {
    println!("Loaded the demonstration meeting \"{}\".", loaded.meeting_name);
    println!("Start the server (cargo run --release), sign in as the principal examiner and open the dashboard.");
    println!("One-time passwords (each person chooses their own at first sign-in; shown only now):\n");
    for a in &loaded.accounts {
        println!("  {:<30} {:<32} {}", a.role, a.email, a.password);
    }
    println!("\nThe dashboard: /meetings/{}/dashboard", loaded.meeting_id);
}

/// Connects, runs `f`, and stops a private cluster afterwards if one was started.
async fn with_database<F, Fut>(args: &DbArgs, f: F) -> anyhow::Result<()>
where
    F: FnOnce(sqlx::PgPool) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let database = db::connect(args.database_url.as_deref(), &args.data_dir).await?;
    let result = f(database.pool.clone()).await;
    database.pool.close().await;
    if let Some(cluster) = database.cluster {
        cluster.stop();
    }
    result
}
