//! Where the registry lives: one SQLite file (the default) or a PostgreSQL
//! database shared by several `lodge-sync` instances.
//!
//! The registry's queries are written once, in the SQL both understand
//! (`?1` parameters, `ON CONFLICT`, `RETURNING`, `CAST`, no SQLite-only
//! functions), with the parameters and columns of `rusqlite`: the domain's
//! ids and times already convert to and from those values, and a
//! PostgreSQL value is carried through the same ones. So a rule of the
//! registry is written once, and each back end only runs statements.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;

use postgres::types::{IsNull, ToSql as PgToSql, Type, to_sql_checked};
use rusqlite::ToSql;
use rusqlite::types::{FromSql, Value, ValueRef};

use super::RegistryError;

mod postgres_schema {
    refinery::embed_migrations!("./migrations-postgres");
}

/// Where a PostgreSQL database is and how it is reached: over TLS when the
/// server offers it (and only so with `sslmode=require` in the URL), its
/// certificate checked against the public roots and the certificate
/// authorities of `--database-ca`.
#[derive(Clone)]
pub struct DatabaseAddress {
    url: String,
    tls: tokio_postgres_rustls::MakeRustlsConnect,
}

impl DatabaseAddress {
    /// `url` (`postgres://…`), with `ca` (PEM) trusted beside the public
    /// roots.
    pub fn new(url: &str, ca: Option<&[u8]>) -> Result<Self, RegistryError> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        if let Some(pem) = ca {
            for cert in CertificateDer::pem_slice_iter(pem) {
                let cert = cert.map_err(|e| RegistryError::DatabaseCa(e.to_string()))?;
                roots.add(cert).map_err(|e| RegistryError::DatabaseCa(e.to_string()))?;
            }
        }
        let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| RegistryError::DatabaseCa(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self { url: url.to_owned(), tls: tokio_postgres_rustls::MakeRustlsConnect::new(config) })
    }

    /// A new connection.
    pub fn connect(&self) -> Result<postgres::Client, postgres::Error> {
        postgres::Client::connect(&self.url, self.tls.clone())
    }
}

/// A PostgreSQL error in words an operator can act on. The library shows a
/// server's error as "db error" alone and a failed connection without its
/// cause: the server's own message and SQLSTATE, or the causes underneath,
/// go with it (on one line, for the journal).
pub fn in_words(e: &postgres::Error) -> String {
    let mut words = e.to_string();
    if let Some(db) = e.as_db_error() {
        words = format!("{words}: {}: {} (SQLSTATE {})", db.severity(), db.message(), db.code().code());
        for more in [db.detail(), db.hint()].into_iter().flatten() {
            words = format!("{words}; {more}");
        }
        return words.replace('\n', " ");
    }
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        words = format!("{words}: {c}");
        cause = c.source();
    }
    words.replace('\n', " ")
}

/// Parameters of a statement, as `rusqlite::params!` makes them.
pub type Params<'a> = &'a [&'a dyn ToSql];

/// One row of an answer, its columns already read.
pub struct Row(Vec<Value>);

impl Row {
    /// Column `i` as `T` (the same conversions as a `rusqlite` row).
    pub fn get<T: FromSql>(&self, i: usize) -> rusqlite::Result<T> {
        let value = self.0.get(i).ok_or(rusqlite::Error::InvalidColumnIndex(i))?;
        T::column_result(ValueRef::from(value)).map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, value.data_type(), Box::new(e)))
    }
}

/// The registry's database.
pub struct Database {
    backend: Backend,
}

enum Backend {
    Sqlite(rusqlite::Connection),
    // A client answers one statement at a time and needs `&mut`; the
    // registry is used under a mutex, so a `RefCell` is enough.
    Postgres(RefCell<Postgres>),
}

struct Postgres {
    address: DatabaseAddress,
    // Always there until dropped (see `Drop`).
    client: Option<postgres::Client>,
    // Prepared once per connection, as `prepare_cached` does for SQLite:
    // the feed is numbered for every change delivered.
    statements: HashMap<String, postgres::Statement>,
    // Between BEGIN and its end: a closed connection is not made again
    // under a transaction, whose work went with it.
    in_transaction: bool,
}

/// The key of the advisory lock a write transaction takes on PostgreSQL:
/// the registry's transactions read, then write (a code is checked, then
/// redeemed), so two instances must not interleave them. SQLite's
/// `BEGIN IMMEDIATE` gives the same on one machine.
const WRITE_LOCK: i64 = 0x10d9e_0001;
/// The key of the lock held while the schema is brought up to date, so
/// that two instances starting at once do not both migrate.
const SCHEMA_LOCK: i64 = 0x10d9e_0002;
impl Database {
    /// Open (or create) the SQLite file at `path`, its schema brought up
    /// to date by `migrations`.
    pub fn open_sqlite(path: &Path, migrations: &rusqlite_migration::Migrations<'_>) -> Result<Self, RegistryError> {
        let mut conn = rusqlite::Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Revoked tokens and used codes are deleted for good (as the site
        // stores delete a rejected guest): zeroed, not left in free pages.
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrations.to_latest(&mut conn)?;
        Ok(Self { backend: Backend::Sqlite(conn) })
    }

    /// Connect to the PostgreSQL database at `address`, its schema brought
    /// up to date.
    pub fn connect_postgres(address: &DatabaseAddress) -> Result<Self, RegistryError> {
        let mut client = address.connect()?;
        client.query_one("SELECT pg_advisory_lock($1)", &[&SCHEMA_LOCK])?;
        let migrated = postgres_schema::migrations::runner().run(&mut client);
        client.query_one("SELECT pg_advisory_unlock($1)", &[&SCHEMA_LOCK])?;
        migrated.map_err(|e| RegistryError::PostgresSchema(e.to_string()))?;
        Ok(Self { backend: Backend::Postgres(RefCell::new(Postgres { address: address.clone(), client: Some(client), statements: HashMap::new(), in_transaction: false })) })
    }

    /// Whether this is the PostgreSQL back end.
    pub fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// Run a statement; the number of rows it changed.
    pub fn execute(&self, sql: &str, params: Params<'_>) -> Result<usize, RegistryError> {
        match &self.backend {
            Backend::Sqlite(conn) => Ok(conn.prepare_cached(sql)?.execute(params)?),
            Backend::Postgres(pg) => {
                let values = pg_values(params)?;
                pg.borrow_mut().run(|pg| {
                    let statement = pg.prepare(sql)?;
                    Ok(pg.client().execute(&statement, &as_pg(&values))? as usize)
                })
            }
        }
    }

    /// Every row of a query, each made into a `T` by `f`.
    pub fn query<T>(&self, sql: &str, params: Params<'_>, mut f: impl FnMut(&Row) -> rusqlite::Result<T>) -> Result<Vec<T>, RegistryError> {
        match &self.backend {
            Backend::Sqlite(conn) => {
                let mut stmt = conn.prepare_cached(sql)?;
                let columns = stmt.column_count();
                let rows = stmt.query_map(params, |r| (0..columns).map(|i| r.get::<_, Value>(i)).collect::<rusqlite::Result<Vec<_>>>().map(Row))?;
                let mut out = Vec::new();
                for row in rows {
                    out.push(f(&row?)?);
                }
                Ok(out)
            }
            Backend::Postgres(pg) => {
                let values = pg_values(params)?;
                let rows = pg.borrow_mut().run(|pg| {
                    let statement = pg.prepare(sql)?;
                    Ok(pg.client().query(&statement, &as_pg(&values))?)
                })?;
                let mut out = Vec::with_capacity(rows.len());
                for row in &rows {
                    out.push(f(&from_pg(row)?)?);
                }
                Ok(out)
            }
        }
    }

    /// The first row of a query, if there is one.
    pub fn query_opt<T>(&self, sql: &str, params: Params<'_>, f: impl FnMut(&Row) -> rusqlite::Result<T>) -> Result<Option<T>, RegistryError> {
        Ok(self.query(sql, params, f)?.into_iter().next())
    }

    /// The first row of a query that always has one (a count).
    pub fn query_one<T>(&self, sql: &str, params: Params<'_>, f: impl FnMut(&Row) -> rusqlite::Result<T>) -> Result<T, RegistryError> {
        self.query_opt(sql, params, f)?.ok_or(RegistryError::Sqlite(rusqlite::Error::QueryReturnedNoRows))
    }

    /// Whether a query has a row.
    pub fn exists(&self, sql: &str, params: Params<'_>) -> Result<bool, RegistryError> {
        Ok(self.query_opt(sql, params, |_| Ok(()))?.is_some())
    }

    /// Start a write transaction: it reads and writes as if alone (see
    /// [`WRITE_LOCK`]), and is rolled back unless committed.
    pub fn transaction(&self) -> Result<Transaction<'_>, RegistryError> {
        self.begin(true)
    }

    /// Start a transaction that relies on its statements' own row locks
    /// (the feed: each site's row is locked by the `UPDATE` that numbers
    /// it, so sites do not wait for each other).
    pub fn transaction_by_rows(&self) -> Result<Transaction<'_>, RegistryError> {
        self.begin(false)
    }

    fn begin(&self, whole: bool) -> Result<Transaction<'_>, RegistryError> {
        match &self.backend {
            Backend::Sqlite(conn) => conn.execute_batch("BEGIN IMMEDIATE")?,
            Backend::Postgres(pg) => {
                let mut pg = pg.borrow_mut();
                pg.run(|pg| Ok(pg.client().batch_execute("BEGIN")?))?;
                pg.in_transaction = true;
                if whole && let Err(e) = pg.client().query_one("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK]) {
                    let _ = pg.client().batch_execute("ROLLBACK");
                    pg.in_transaction = false;
                    return Err(e.into());
                }
            }
        }
        Ok(Transaction { db: self, open: true })
    }

    fn end(&self, how: &str) -> Result<(), RegistryError> {
        match &self.backend {
            Backend::Sqlite(conn) => conn.execute_batch(how)?,
            Backend::Postgres(pg) => {
                let mut pg = pg.borrow_mut();
                pg.in_transaction = false;
                pg.client().batch_execute(how)?
            }
        }
        Ok(())
    }
}

/// An open transaction: statements run through it (it derefs to the
/// database), and it ends with [`Transaction::commit`] or, dropped, in a
/// rollback.
pub struct Transaction<'a> {
    db: &'a Database,
    open: bool,
}

impl Transaction<'_> {
    /// Keep what the transaction did.
    pub fn commit(mut self) -> Result<(), RegistryError> {
        self.open = false;
        self.db.end("COMMIT")
    }
}

impl std::ops::Deref for Transaction<'_> {
    type Target = Database;
    fn deref(&self) -> &Database {
        self.db
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.db.end("ROLLBACK");
        }
    }
}

impl Postgres {
    /// Run `f` on the connection. A connection the database closed since
    /// the last statement (a restart, a fail-over) is made again, and `f`
    /// run once more: outside a transaction only, where nothing was lost.
    fn run<T>(&mut self, f: impl Fn(&mut Self) -> Result<T, RegistryError>) -> Result<T, RegistryError> {
        match f(self) {
            Err(RegistryError::Postgres(e)) if !self.in_transaction && (e.is_closed() || self.client().is_closed()) => {
                tracing::warn!(error = %in_words(&e), "the connection to the database was closed; connecting again");
                self.reconnect()?;
                f(self)
            }
            other => other,
        }
    }

    fn reconnect(&mut self) -> Result<(), RegistryError> {
        self.client = Some(self.address.connect()?);
        self.statements.clear();
        Ok(())
    }

    fn prepare(&mut self, sql: &str) -> Result<postgres::Statement, RegistryError> {
        // A connection found closed under a transaction is made again at
        // the next statement after it.
        if self.client().is_closed() && !self.in_transaction {
            self.reconnect()?;
        }
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client().prepare(&dollar_parameters(sql))?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

impl Postgres {
    fn client(&mut self) -> &mut postgres::Client {
        self.client.as_mut().expect("a client until the registry is dropped")
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // Closing blocks on the client's own runtime, which may not start
        // on a thread that runs async tasks (the CLI and the server drop
        // their state there): it is closed on a thread of its own.
        if let Some(client) = self.client.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                let _ = std::thread::spawn(move || drop(client)).join();
            } else {
                drop(client);
            }
        }
    }
}

/// `?1` as PostgreSQL writes it: `$1`.
fn dollar_parameters(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// A parameter as PostgreSQL is sent it: the `rusqlite` value, written in
/// the type PostgreSQL inferred for its place.
#[derive(Debug)]
struct PgValue(Value);

fn pg_values(params: Params<'_>) -> Result<Vec<PgValue>, RegistryError> {
    params
        .iter()
        .map(|p| {
            let value = match p.to_sql()? {
                rusqlite::types::ToSqlOutput::Borrowed(v) => Value::try_from(v).map_err(|e| RegistryError::Sqlite(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))?,
                rusqlite::types::ToSqlOutput::Owned(v) => v,
                other => return Err(RegistryError::Sqlite(rusqlite::Error::ToSqlConversionFailure(format!("{other:?} has no PostgreSQL form").into()))),
            };
            Ok(PgValue(value))
        })
        .collect()
}

fn as_pg(values: &[PgValue]) -> Vec<&(dyn PgToSql + Sync)> {
    values.iter().map(|v| v as &(dyn PgToSql + Sync)).collect()
}

impl PgToSql for PgValue {
    fn to_sql(&self, ty: &Type, out: &mut postgres::types::private::BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match &self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Integer(i) => match *ty {
                Type::INT8 => write(i, ty, out),
                Type::INT4 => write(&i32::try_from(*i)?, ty, out),
                Type::INT2 => write(&i16::try_from(*i)?, ty, out),
                Type::BOOL => write(&(*i != 0), ty, out),
                Type::FLOAT8 => write(&(*i as f64), ty, out),
                _ => write(&i.to_string(), ty, out),
            },
            Value::Real(f) => write(f, ty, out),
            Value::Text(s) => match *ty {
                Type::INT8 => write(&s.parse::<i64>()?, ty, out),
                _ => write(&s.as_str(), ty, out),
            },
            Value::Blob(b) => write(&b.as_slice(), ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        // Checked in `to_sql`, by the value it holds.
        true
    }

    to_sql_checked!();
}

/// `value` in PostgreSQL's binary form of `ty`.
fn write<T: PgToSql>(value: &T, ty: &Type, out: &mut postgres::types::private::BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
    value.to_sql(ty, out)
}

/// A PostgreSQL row as `rusqlite` values.
fn from_pg(row: &postgres::Row) -> Result<Row, RegistryError> {
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let ty = column.type_();
        let value = match *ty {
            Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map(Value::Integer),
            Type::INT4 => row.try_get::<_, Option<i32>>(i)?.map(|v| Value::Integer(v.into())),
            Type::INT2 => row.try_get::<_, Option<i16>>(i)?.map(|v| Value::Integer(v.into())),
            Type::BOOL => row.try_get::<_, Option<bool>>(i)?.map(|v| Value::Integer(v.into())),
            Type::FLOAT8 => row.try_get::<_, Option<f64>>(i)?.map(Value::Real),
            Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Blob),
            // What a function called for its effect answers (pg_notify).
            Type::VOID => None,
            _ => row.try_get::<_, Option<String>>(i)?.map(Value::Text),
        };
        values.push(value.unwrap_or(Value::Null));
    }
    Ok(Row(values))
}

#[cfg(test)]
mod tests {
    use super::dollar_parameters;

    #[test]
    fn a_database_error_says_what_the_server_said_and_a_refused_connection_why() {
        // Port 1 on this machine: nothing listens there.
        let refused = postgres::Client::connect("postgres://lodge@127.0.0.1:1/lodge", postgres::NoTls).err().expect("nothing listens on port 1");
        let words = crate::registry::RegistryError::from(refused).to_string();
        assert!(words.contains("error connecting to server") && words.contains("refused"), "{words}");
        // The test command's PostgreSQL, when there is one (scripts/test
        // starts it for every test).
        if let Ok(server) = std::env::var("LODGE_TEST_POSTGRES") {
            let mut client = postgres::Client::connect(&server, postgres::NoTls).expect("the test PostgreSQL");
            let failed = client.query("SELECT * FROM no_such_table", &[]).expect_err("there is no such table");
            let words = crate::registry::RegistryError::from(failed).to_string();
            assert!(words.contains("relation \"no_such_table\" does not exist") && words.contains("SQLSTATE 42P01"), "{words}");
        }
    }

    #[test]
    fn numbered_parameters_are_written_the_postgresql_way() {
        assert_eq!(dollar_parameters("SELECT 1 WHERE a = ?1 AND b = ?12 OR ?2 IS NULL"), "SELECT 1 WHERE a = $1 AND b = $12 OR $2 IS NULL");
        assert_eq!(dollar_parameters("SELECT '?'"), "SELECT '?'");
    }
}
