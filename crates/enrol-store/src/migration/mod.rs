//! Schema migrations, run on every open. Later changes add migrations; a
//! migration that has run is never edited.

use sea_orm_migration::prelude::*;

mod m0001_initial;
mod m0002_round_artifacts;
mod m0003_concurrency;
mod m0004_precedence;
mod m0005_console_sessions;
mod m0006_access_journal;
mod m0007_lookup_indexes;
mod m0008_first_priority;

#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_initial::Migration),
            Box::new(m0002_round_artifacts::Migration),
            Box::new(m0003_concurrency::Migration),
            Box::new(m0004_precedence::Migration),
            Box::new(m0005_console_sessions::Migration),
            Box::new(m0006_access_journal::Migration),
            Box::new(m0007_lookup_indexes::Migration),
            Box::new(m0008_first_priority::Migration),
        ]
    }
}
