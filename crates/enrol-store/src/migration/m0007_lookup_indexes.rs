//! Indexes that answer verification's and the output's lookups in one
//! descent each, so that their cost does not grow with the round (issue 20).
//! Each replaces an index that is its prefix, so every lookup the old one
//! served it serves too.
//!
//! - `evidence_snapshots (application_id, id)`: an application's latest
//!   snapshot (`WHERE application_id = $1 ORDER BY id DESC LIMIT 1`). With
//!   the index on `application_id` alone PostgreSQL walked the primary key
//!   backwards and filtered: for an application with no snapshot yet (every
//!   application claimed in a first pass) that read the whole table, 45 ms
//!   a claim at 7,700 snapshots.
//! - `decisions (round_id, current_for)`: the round's current decisions
//!   paged in application order (allocation, output). With only
//!   `(round_id, status)` to use, SQLite sorted every decision of the round,
//!   evaluation JSON and all, for each page: allocation took 68 s at 100,000
//!   families against 6.7 s at 20,000.
//! - `applications (round_id, state, id)`: the applications of a page in a
//!   given state (`id BETWEEN`), and a claim's ids.
//! - `assignments (round_id, application_id)`: the seats of a page.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// An index this migration creates, and the index it replaces, if any.
struct NewIndex {
    name: &'static str,
    table: &'static str,
    columns: &'static [&'static str],
    replaces: Option<OldIndex>,
}

struct OldIndex {
    name: &'static str,
    columns: &'static [&'static str],
}

const INDEXES: [NewIndex; 4] = [
    NewIndex {
        name: "ix_evidence_snapshots_application_latest",
        table: "evidence_snapshots",
        columns: &["application_id", "id"],
        replaces: Some(OldIndex {
            name: "ix_evidence_snapshots_application",
            columns: &["application_id"],
        }),
    },
    NewIndex {
        name: "ix_decisions_round_current",
        table: "decisions",
        columns: &["round_id", "current_for"],
        replaces: None,
    },
    NewIndex {
        name: "ix_applications_round_state_id",
        table: "applications",
        columns: &["round_id", "state", "id"],
        replaces: Some(OldIndex {
            name: "ix_applications_round_state",
            columns: &["round_id", "state"],
        }),
    },
    NewIndex {
        name: "ix_assignments_round_application",
        table: "assignments",
        columns: &["round_id", "application_id"],
        replaces: Some(OldIndex {
            name: "ix_assignments_round",
            columns: &["round_id"],
        }),
    },
];

fn create(name: &str, table: &str, columns: &[&str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(Alias::new(table));
    for column in columns {
        index.col(Alias::new(*column));
    }
    index.to_owned()
}

fn drop(name: &str, table: &str) -> IndexDropStatement {
    Index::drop().name(name).table(Alias::new(table)).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for index in INDEXES {
            manager
                .create_index(create(index.name, index.table, index.columns))
                .await?;
            if let Some(old) = index.replaces {
                manager.drop_index(drop(old.name, index.table)).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for index in INDEXES {
            if let Some(old) = index.replaces {
                manager.create_index(create(old.name, index.table, old.columns)).await?;
            }
            manager.drop_index(drop(index.name, index.table)).await?;
        }
        Ok(())
    }
}
