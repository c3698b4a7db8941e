//! [`Location`]: where the database is, as `--database` and
//! `NANOCHAT_DATABASE` spell it. A path or `sqlite://` URL is SQLite (the
//! default, a file in the working directory); `postgres://` or
//! `postgresql://` is PostgreSQL.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Which database engine a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// One SQLite file (WAL mode), for one `nanochat` process.
    Sqlite,
    /// A PostgreSQL database, which several `nanochat` instances may share.
    Postgres,
}

/// Where the database is.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://user:password@host/db`).
    Postgres(String),
}

impl Location {
    /// The location as a `--database` argument: the path, or the full URL
    /// (password included, unlike `Display`).
    pub fn to_arg(&self) -> String {
        match self {
            Location::Sqlite(path) => path.display().to_string(),
            Location::Postgres(url) => url.clone(),
        }
    }

    /// The SQLite file, if it is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Location::Sqlite(path) => Some(path),
            Location::Postgres(_) => None,
        }
    }

    /// The engine.
    pub fn backend(&self) -> Backend {
        match self {
            Location::Sqlite(_) => Backend::Sqlite,
            Location::Postgres(_) => Backend::Postgres,
        }
    }
}

impl FromStr for Location {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(Location::Postgres(text.to_owned()));
        }
        let path = text.strip_prefix("sqlite://").unwrap_or(text);
        if path.is_empty() {
            return Err(
                "the database location is empty: give a file path or a postgres:// URL".into(),
            );
        }
        if path.contains("://") {
            return Err(format!(
                "unsupported database URL {:?}: use a file path, sqlite://PATH or postgres://...",
                redacted(path)
            ));
        }
        Ok(Location::Sqlite(PathBuf::from(path)))
    }
}

impl From<&Path> for Location {
    fn from(path: &Path) -> Self {
        Location::Sqlite(path.to_path_buf())
    }
}

impl From<PathBuf> for Location {
    fn from(path: PathBuf) -> Self {
        Location::Sqlite(path)
    }
}

impl From<&PathBuf> for Location {
    fn from(path: &PathBuf) -> Self {
        Location::Sqlite(path.clone())
    }
}

impl From<&Location> for Location {
    fn from(location: &Location) -> Self {
        location.clone()
    }
}

/// `url` with the password (between `:` and `@` of the authority) replaced
/// by `***`, for logs and errors.
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

impl fmt::Display for Location {
    /// The path, or the URL without its password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Sqlite(path) => write!(f, "{}", path.display()),
            Location::Postgres(url) => f.write_str(&redacted(url)),
        }
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            Location::Postgres(_) => write!(f, "Postgres({self})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_urls_pick_the_engine() {
        assert_eq!(
            "nanochat.db".parse::<Location>(),
            Ok(Location::Sqlite("nanochat.db".into()))
        );
        assert_eq!(
            "sqlite:///var/lib/nanochat/db".parse::<Location>(),
            Ok(Location::Sqlite("/var/lib/nanochat/db".into()))
        );
        let pg: Location = "postgres://chat:s3cret@db.internal:5432/nanochat"
            .parse()
            .unwrap();
        assert_eq!(pg.backend(), Backend::Postgres);
        assert!("mysql://x@y/z".parse::<Location>().is_err());
        assert!("".parse::<Location>().is_err());
    }

    #[test]
    fn the_password_never_shows() {
        let pg: Location = "postgresql://chat:s3cret@db.internal:5432/nanochat?sslmode=disable"
            .parse()
            .unwrap();
        for shown in [pg.to_string(), format!("{pg:?}")] {
            assert!(!shown.contains("s3cret"), "{shown}");
            assert!(
                shown.contains("chat:***@db.internal:5432/nanochat"),
                "{shown}"
            );
        }
        let err = "mysql://root:hunter2@db/x".parse::<Location>().unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
    }
}
