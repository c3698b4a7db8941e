use super::backup::without_password;
use super::*;

#[test]
fn durations() {
    assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
    assert_eq!(parse_duration("24h"), Ok(Duration::from_secs(86_400)));
    assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86_400)));
    assert!(parse_duration("0h").is_err());
    assert!(parse_duration("h").is_err());
    assert!(parse_duration("5y").is_err());
    assert_eq!(describe(Duration::from_secs(86_400)), "1d");
    assert_eq!(describe(Duration::from_secs(90)), "90s");
}

#[test]
fn pg_dump_urls_carry_no_password() {
    assert_eq!(
        without_password("postgres://chat:s3cret@db.local:5432/chat?sslmode=require"),
        "postgres://chat@db.local:5432/chat?sslmode=require"
    );
    assert_eq!(without_password("postgres://db/chat"), "postgres://db/chat");
}

#[test]
fn tokens_are_random_and_hashed() {
    let now = OffsetDateTime::now_utc();
    let (a, hash_a, expires) = new_token(now, Duration::from_secs(60)).unwrap();
    let (b, _, _) = new_token(now, Duration::from_secs(60)).unwrap();
    assert_ne!(a.as_str(), b.as_str());
    assert_eq!(a.len(), 43);
    assert_eq!(hash_a, <[u8; 32]>::from(Sha256::digest(a.as_bytes())));
    assert_eq!(expires - now, time::Duration::seconds(60));
}
