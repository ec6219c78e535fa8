//! Ids of different things as different types: a function that takes a
//! meeting's id and a user's cannot be handed them the other way round, nor a
//! paper's id where a script's is meant. Each is a UUID underneath, with the
//! same text in JSON, paths and templates, and the same `uuid` column in
//! PostgreSQL (`#[sqlx(transparent)]`: it binds, decodes and fills `query_as!`
//! fields as the UUID would).

/// Declares an id type: `id_type! { /// A meeting's id. pub struct MeetingId; }`.
#[macro_export]
macro_rules! id_type {
    ($(#[$meta:meta])* $vis:vis struct $name:ident;) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize, ::sqlx::Type,
        )]
        #[serde(transparent)]
        #[sqlx(transparent)]
        $vis struct $name(pub ::uuid::Uuid);

        impl $name {
            /// A new random id (tests and fixtures; the database makes the real ones).
            pub fn new_v4() -> $name {
                $name(::uuid::Uuid::new_v4())
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.0, f)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::uuid::Error;

            fn from_str(s: &str) -> Result<$name, ::uuid::Error> {
                ::uuid::Uuid::parse_str(s).map($name)
            }
        }

        impl From<::uuid::Uuid> for $name {
            fn from(id: ::uuid::Uuid) -> $name {
                $name(id)
            }
        }

        impl From<$name> for ::uuid::Uuid {
            fn from(id: $name) -> ::uuid::Uuid {
                id.0
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::id_type! {
        /// A test id.
        struct ThingId;
    }

    #[test]
    fn an_id_reads_and_writes_as_its_uuid() {
        let uuid = uuid::Uuid::new_v4();
        let id = ThingId(uuid);
        assert_eq!(id.to_string(), uuid.to_string());
        assert_eq!(uuid.to_string().parse::<ThingId>().ok(), Some(id));
        assert_eq!(serde_json::to_string(&id).ok(), serde_json::to_string(&uuid).ok());
        assert_eq!(serde_json::from_str::<ThingId>(&format!("\"{uuid}\"")).ok(), Some(id));
        assert!("not an id".parse::<ThingId>().is_err());
        assert_ne!(ThingId::new_v4(), ThingId::new_v4());
    }
}
