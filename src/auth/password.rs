//! Password hashing (argon2, via password-auth) and one-time passwords.

use rand::{Rng, rngs::OsRng};

use crate::error::AppError;

/// Hashes a password. Argon2 is deliberately slow, so it runs off the async threads.
pub async fn hash(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || password_auth::generate_hash(password)).await.map_err(|e| AppError::Internal(e.into()))
}

/// True when `password` matches `hash`.
pub async fn verify(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || password_auth::verify_password(password, &hash).is_ok()).await.unwrap_or(false)
}

/// A hash of a random password, verified against when the email is unknown so
/// that a wrong email takes as long as a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| password_auth::generate_hash(one_time_password()))
}

/// A random one-time password: 16 characters without look-alikes (0/O, 1/l/I),
/// easy to read out over the phone, ~90 bits of entropy.
pub fn one_time_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = OsRng;
    (0..16).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}

/// The shortest password a person may choose.
pub const MIN_LENGTH: usize = 10;

/// Checks a password someone chose; says what is wrong if it will not do.
pub fn check_new(password: &str, confirm: &str) -> Result<(), String> {
    if password.chars().count() < MIN_LENGTH {
        Err(format!("Choose a password of at least {MIN_LENGTH} characters."))
    } else if password.len() > 1024 {
        Err("A password can be at most 1024 characters.".into())
    } else if password != confirm {
        Err("The two new passwords are not the same.".into())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_time_passwords_are_long_and_differ() {
        let a = one_time_password();
        assert_eq!(a.len(), 16);
        assert_ne!(a, one_time_password());
        assert!(check_new(&a, &a).is_ok());
    }

    #[test]
    fn new_password_rules() {
        assert!(check_new("short", "short").is_err());
        assert!(check_new("long enough!", "long enough?").is_err());
        assert!(check_new("long enough!", "long enough!").is_ok());
    }
}
