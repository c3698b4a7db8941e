//! `nanochat backup`: a consistent copy of the SQLite database beside a
//! copy of the server key, checked after it is written; `--check` checks
//! an existing copy. PostgreSQL is backed up with `pg_dump`, which the
//! refusal says how to run.

use super::*;

/// `nanochat backup`: a checked copy of the SQLite database and the server
/// key, or a check of an existing copy.
pub(super) async fn backup(args: BackupArgs, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    if let Some(file) = &args.check {
        return check_backup(file, out).await;
    }
    let dest = args.dest.context("give DEST or --check FILE")?;
    let location = &args.database.database;
    if let Location::Postgres(url) = location {
        return Err(Refused(format!(
            "nanochat backup copies SQLite databases only; back up PostgreSQL with pg_dump \
             (the password from PGPASSWORD or ~/.pgpass): pg_dump --format=custom --file={} '{}'",
            dest.display(),
            without_password(url)
        ))
        .into());
    }
    let key_dest = key_beside(&dest);
    for path in [&dest, &key_dest] {
        if path.exists() {
            anyhow::bail!("{} already exists: choose a new DEST", path.display());
        }
    }
    let store = open_existing(location).await?;
    // VACUUM INTO writes into an empty file: create it first, mode 0600.
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&dest)
        .with_context(|| format!("cannot create {}", dest.display()))?;
    let copied = store.vacuum_into(&dest).await;
    store.close().await;
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&dest);
        return Err(e).context("copying the database");
    }
    writeln!(out, "database {location} copied to {}", dest.display())?;
    match std::fs::read(&args.server_key) {
        Ok(pem) => {
            let pem = zeroize::Zeroizing::new(pem);
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&key_dest)
                .with_context(|| format!("cannot create {}", key_dest.display()))?;
            file.write_all(&pem)?;
            file.sync_all()?;
            writeln!(
                out,
                "server key {} copied to {}",
                args.server_key.display(),
                key_dest.display()
            )?;
        }
        Err(e) => {
            eprintln!(
                "WARNING: the server key {} could not be copied ({e}): keep the server's key file \
                 with this backup; a restored server without it refuses to start, and with a new \
                 key every client warns that the server key changed",
                args.server_key.display()
            );
        }
    }
    check_backup(&dest, out).await
}

/// Checks a backup file: SQLite's integrity check, the schema version this
/// binary expects, and the server key beside it against the one recorded.
async fn check_backup(file: &std::path::Path, out: &mut impl std::io::Write) -> anyhow::Result<()> {
    let report = crate::store::check_sqlite_file(file)
        .await
        .with_context(|| format!("cannot read the backup {}", file.display()))?;
    let expected = crate::store::schema_version(crate::store::Backend::Sqlite);
    if !report.problems.is_empty() {
        anyhow::bail!(
            "the backup {} is damaged: {}",
            file.display(),
            report.problems.join("; ")
        );
    }
    if report.schema_version != expected {
        anyhow::bail!(
            "the backup {} has schema version {}, this nanochat expects {expected}: restore it \
             with the nanochat version that made it",
            file.display(),
            report.schema_version
        );
    }
    let key_file = key_beside(file);
    match std::fs::read_to_string(&key_file) {
        Ok(pem) => {
            let pem = zeroize::Zeroizing::new(pem);
            let key = crate::crypto::PrivateKey::from_pkcs8_pem(&pem)
                .with_context(|| format!("{} is not a usable key", key_file.display()))?;
            let fingerprint = key.fingerprint().to_string();
            if let Some(recorded) = report.server_key.as_deref().filter(|r| *r != fingerprint) {
                anyhow::bail!(
                    "the server key {} ({fingerprint}) is not the key the backed-up database \
                     served with ({recorded})",
                    key_file.display()
                );
            }
            writeln!(out, "server key {} ok: {fingerprint}", key_file.display())?;
        }
        Err(e) => eprintln!(
            "WARNING: no server key beside the backup ({}: {e}): restore the server's key file \
             from elsewhere{}",
            key_file.display(),
            report
                .server_key
                .as_deref()
                .map(|f| format!(" (fingerprint {f})"))
                .unwrap_or_default()
        ),
    }
    writeln!(
        out,
        "backup {} ok: integrity ok, schema version {}, {} users, {} messages",
        file.display(),
        report.schema_version,
        report.users,
        report.messages
    )?;
    Ok(())
}

/// Where `nanochat backup` puts the server key for the backup `dest`.
fn key_beside(dest: &std::path::Path) -> PathBuf {
    let mut name = dest.as_os_str().to_owned();
    name.push(".server-key.pem");
    PathBuf::from(name)
}

/// A PostgreSQL URL without the password of its user.
pub(super) fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            format!("{scheme}://{user}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}
