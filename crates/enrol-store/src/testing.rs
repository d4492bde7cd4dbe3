//! Test databases on both backends: a fresh SQLite file always, and a fresh
//! PostgreSQL schema whenever `TEST_DATABASE_URL` is set, so tests run in
//! parallel without seeing each other.

use sea_orm::{ConnectionTrait, Database};

use crate::{Store, StoreError};

/// A store made for one test, removed by [`TestDb::cleanup`].
#[derive(Debug)]
pub struct TestDb {
    pub store: Store,
    /// `sqlite` or `postgres`, for messages.
    pub backend: &'static str,
    /// The URL another process (e.g. a server under test) can open.
    pub url: String,
    pg: Option<(String, String)>,
    _dir: Option<tempfile_dir::Dir>,
}

impl TestDb {
    /// A fresh SQLite database in a temporary folder.
    pub async fn sqlite() -> Result<TestDb, StoreError> {
        let dir = tempfile_dir::Dir::new();
        let path = dir.path().join("enrol.db");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let store = Store::open(&url).await?;
        Ok(TestDb {
            store,
            backend: "sqlite",
            url,
            pg: None,
            _dir: Some(dir),
        })
    }

    /// A fresh schema in the PostgreSQL database at `base_url`.
    pub async fn postgres(base_url: &str) -> Result<TestDb, StoreError> {
        let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(base_url).await.map_err(|source| StoreError::Open {
            url: base_url.to_owned(),
            source,
        })?;
        admin
            .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
            .await
            .map_err(StoreError::db("creating a test schema"))?;
        admin.close().await.map_err(StoreError::db("closing"))?;
        let store = Store::open_with(base_url, Some(&schema)).await?;
        let sep = if base_url.contains('?') { '&' } else { '?' };
        let url = format!("{base_url}{sep}options=-c%20search_path%3D{schema}");
        Ok(TestDb {
            store,
            backend: "postgres",
            url,
            pg: Some((base_url.to_owned(), schema)),
            _dir: None,
        })
    }

    /// SQLite always; PostgreSQL too when `TEST_DATABASE_URL` is set.
    pub async fn all() -> Result<Vec<TestDb>, StoreError> {
        let mut dbs = vec![Self::sqlite().await?];
        if let Some(url) = pg_url() {
            dbs.push(Self::postgres(&url).await?);
        }
        Ok(dbs)
    }

    /// Drops the PostgreSQL schema; the SQLite folder goes with the value.
    pub async fn cleanup(self) -> Result<(), StoreError> {
        self.store.close().await?;
        if let Some((base, schema)) = self.pg {
            let admin = Database::connect(&base).await.map_err(|source| StoreError::Open {
                url: base.clone(),
                source,
            })?;
            admin
                .execute_unprepared(&format!("DROP SCHEMA {schema} CASCADE"))
                .await
                .map_err(StoreError::db("dropping a test schema"))?;
            admin.close().await.map_err(StoreError::db("closing"))?;
        }
        Ok(())
    }
}

/// `TEST_DATABASE_URL`, when set and not empty.
pub fn pg_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL").ok().filter(|s| !s.is_empty())
}

/// A temporary folder removed on drop, without a dependency for it.
mod tempfile_dir {
    use std::path::{Path, PathBuf};

    #[derive(Debug)]
    pub struct Dir(PathBuf);

    impl Dir {
        pub fn new() -> Dir {
            let path = std::env::temp_dir().join(format!("enrol-test-{}", uuid::Uuid::new_v4().simple()));
            std::fs::create_dir_all(&path).expect("temporary folder");
            Dir(path)
        }
        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
