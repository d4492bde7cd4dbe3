//! Officers' console sessions (`enrol-console`), shared by every process on
//! the database. A row holds only the SHA-256 of the session id: the id is
//! the cookie's value, a bearer secret, and is never stored; nor is the
//! session's CSRF token (derived from the id) or the officer's role (read
//! from the server's configuration on each request).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "console_sessions")]
pub struct Model {
    /// SHA-256 of the session id, lower-case hex.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id_digest: String,
    /// The officer's configured name.
    pub officer: String,
    pub created_at: DateTimeUtc,
    /// The session is refused from this instant on.
    pub expires_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
