//! A small pool of PostgreSQL connections with per-connection prepared statements. It also keeps
//! the server process ids of its connections, so the change feed can tell this store's own
//! writes from those of other processes.

use std::collections::{HashMap, HashSet};
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_postgres::{Client, Config, NoTls, Statement};

use super::{describe_target, pg_err};
use crate::store::StoreError;

/// Server process ids of the pool's live connections.
pub(super) type OwnPids = Arc<Mutex<HashSet<i32>>>;

/// Connections to one database, at most `size` at a time.
pub(super) struct Pool {
    config: Config,
    idle: Mutex<Vec<Conn>>,
    permits: Arc<Semaphore>,
    own_pids: OwnPids,
}

/// One connection and the statements prepared on it.
pub(super) struct Conn {
    pub client: Client,
    pid: i32,
    statements: HashMap<&'static str, Statement>,
}

impl Conn {
    /// `sql` prepared on this connection (once; later calls reuse it).
    pub async fn prepared(
        &mut self,
        sql: &'static str,
    ) -> Result<Statement, tokio_postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql).await?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }
}

/// Opens one connection with civmap's session settings, driving it on the current runtime.
pub(super) async fn connect(config: &Config) -> Result<Client, StoreError> {
    let (client, connection) = config
        .connect(NoTls)
        .await
        .map_err(pg_err(format!("connecting to {}", describe_target(config))))?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::warn!(error = %super::describe(&error), "PostgreSQL connection ended");
        }
    });
    // Acknowledged writes must be on disk (the server default, stated in case a role or
    // database default turned it off).
    client
        .batch_execute("SET synchronous_commit = on")
        .await
        .map_err(pg_err("setting up a connection"))?;
    Ok(client)
}

impl Pool {
    pub fn new(config: Config, size: usize) -> Self {
        Self {
            config,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(size)),
            own_pids: Arc::default(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn own_pids(&self) -> OwnPids {
        Arc::clone(&self.own_pids)
    }

    /// A connection for the caller alone until the guard is dropped (an idle one, or a new one).
    pub async fn get(&self) -> Result<Pooled<'_>, StoreError> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Task("the connection pool is closed".into()))?;
        loop {
            let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            match idle {
                Some(conn) if conn.client.is_closed() => self.forget(conn.pid),
                Some(conn) => {
                    return Ok(Pooled {
                        pool: self,
                        conn: Some(conn),
                        _permit: permit,
                    });
                }
                None => break,
            }
        }
        let client = connect(&self.config).await?;
        let pid: i32 = client
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .map_err(pg_err("setting up a connection"))?
            .try_get(0)
            .map_err(pg_err("setting up a connection"))?;
        self.own_pids
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(pid);
        Ok(Pooled {
            pool: self,
            conn: Some(Conn {
                client,
                pid,
                statements: HashMap::new(),
            }),
            _permit: permit,
        })
    }

    fn forget(&self, pid: i32) {
        self.own_pids
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&pid);
    }
}

/// A connection borrowed from the pool; back to the pool on drop (unless it has closed).
pub(super) struct Pooled<'a> {
    pool: &'a Pool,
    conn: Option<Conn>,
    _permit: OwnedSemaphorePermit,
}

impl Deref for Pooled<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn.as_ref().expect("present until drop")
    }
}

impl DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn.as_mut().expect("present until drop")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        if conn.client.is_closed() {
            self.pool.forget(conn.pid);
        } else {
            self.pool
                .idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(conn);
        }
    }
}
