//! Officers' console sessions (`console_sessions`), shared by every process
//! on the database: a sign-in on one is accepted by all, a sign-out on one
//! is refused by all. The caller names a session by the SHA-256 of its id
//! (hex); the id itself never reaches the store.

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::StoreError;
use crate::console_session::{ActiveModel, Column, Entity};

/// Stores a new session of `officer` until `expires_at`, first purging the
/// sessions that have expired (so the table holds only live sessions and
/// those expired since the last sign-in).
pub async fn start<C: ConnectionTrait>(
    conn: &C,
    id_digest: &str,
    officer: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    Entity::delete_many()
        .filter(Column::ExpiresAt.lte(now))
        .exec(conn)
        .await
        .map_err(StoreError::db("purging expired console sessions"))?;
    ActiveModel {
        id_digest: Set(id_digest.to_owned()),
        officer: Set(officer.to_owned()),
        created_at: Set(now),
        expires_at: Set(expires_at),
    }
    .insert(conn)
    .await
    .map_err(StoreError::db("starting a console session"))?;
    Ok(())
}

/// The officer's name of the live session `id_digest`; `None` when there is
/// no such session or it has expired (an expired row is deleted).
pub async fn officer<C: ConnectionTrait>(
    conn: &C,
    id_digest: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, StoreError> {
    let Some(row) = Entity::find_by_id(id_digest.to_owned())
        .one(conn)
        .await
        .map_err(StoreError::db("reading a console session"))?
    else {
        return Ok(None);
    };
    if row.expires_at > now {
        return Ok(Some(row.officer));
    }
    end(conn, id_digest).await?;
    Ok(None)
}

/// Ends the session `id_digest`, if it exists.
pub async fn end<C: ConnectionTrait>(conn: &C, id_digest: &str) -> Result<(), StoreError> {
    Entity::delete_by_id(id_digest.to_owned())
        .exec(conn)
        .await
        .map_err(StoreError::db("ending a console session"))?;
    Ok(())
}
