//! Group commit: one thread owns every redb write transaction.
//!
//! Callers hand the writer an operation (a closure over a write transaction)
//! and await its acknowledgement. The writer takes everything pending into
//! one transaction and acknowledges each operation only after that
//! transaction committed (durable before ack, one sync per batch, as
//! databases do with group commit). Reads never pass through here.
//!
//! | rule | why |
//! |---|---|
//! | an operation is a pure function of the transaction (`FnMut`) | when a batch fails, each operation is re-run alone in its own transaction, so one bad operation fails only its caller |
//! | at most [`MAX_BATCH`] operations per transaction | bounds the work lost to one failing commit and the latency of the first caller |
//! | the thread ends when the last sender is dropped, after draining | [`super::Store`]'s `Drop` joins it, so the file is closed when the store is |

use std::sync::Arc;
use std::sync::mpsc;

use redb::{Database, WriteTransaction};
use tokio::sync::oneshot;

use super::{StoreError, db};

/// Largest number of operations folded into one transaction.
const MAX_BATCH: usize = 512;

type OpResult = Result<(), StoreError>;

/// Where a submitted operation's result arrives.
pub(super) type Ack<T> = oneshot::Receiver<Result<T, StoreError>>;

/// One queued write with its acknowledgement.
pub(super) trait Op: Send {
    fn apply(&mut self, tx: &WriteTransaction) -> OpResult;
    fn complete(self: Box<Self>, committed: OpResult);
}

struct TypedOp<T, F> {
    f: F,
    out: Option<T>,
    ack: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Op for TypedOp<T, F>
where
    T: Send,
    F: FnMut(&WriteTransaction) -> Result<T, StoreError> + Send,
{
    fn apply(&mut self, tx: &WriteTransaction) -> OpResult {
        self.out = Some((self.f)(tx)?);
        Ok(())
    }

    fn complete(self: Box<Self>, committed: OpResult) {
        let TypedOp { out, ack, .. } = *self;
        let result = committed.and_then(|()| {
            out.ok_or_else(|| StoreError::Db("write finished without a result".into()))
        });
        // The caller may have gone away (its task was cancelled): nothing to tell.
        let _ = ack.send(result);
    }
}

/// Sending half; cloned into every [`super::Store`] handle.
pub(super) struct Writer {
    tx: Option<mpsc::Sender<Box<dyn Op>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    pub(super) fn start(db: Arc<Database>) -> Result<Writer, StoreError> {
        let (tx, rx) = mpsc::channel::<Box<dyn Op>>();
        let thread = std::thread::Builder::new()
            .name("kennel-store".into())
            .spawn(move || run(&db, rx))
            .map_err(|e| StoreError::Db(format!("cannot start the store writer: {e}")))?;
        Ok(Writer {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Queues `f` and waits until the transaction holding it has committed.
    pub(super) async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnMut(&WriteTransaction) -> Result<T, StoreError> + Send + 'static,
    {
        Self::acked(self.submit(f)?).await
    }

    /// Queues `f` and returns at once; the receiver gets its result once
    /// the transaction holding it has committed. Operations are applied in
    /// the order they were queued, so a later write's acknowledgement
    /// implies every earlier one is durable too.
    pub(super) fn submit<T, F>(&self, f: F) -> Result<Ack<T>, StoreError>
    where
        T: Send + 'static,
        F: FnMut(&WriteTransaction) -> Result<T, StoreError> + Send + 'static,
    {
        let (ack, rx) = oneshot::channel();
        let op = Box::new(TypedOp { f, out: None, ack });
        self.tx
            .as_ref()
            .ok_or_else(|| StoreError::Db("the store is closed".into()))?
            .send(op)
            .map_err(|_| StoreError::Db("the store writer has stopped".into()))?;
        Ok(rx)
    }

    /// Waits for a submitted operation's result.
    pub(super) async fn acked<T>(rx: Ack<T>) -> Result<T, StoreError> {
        rx.await
            .map_err(|_| StoreError::Db("the store writer has stopped".into()))?
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(db: &Database, rx: mpsc::Receiver<Box<dyn Op>>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        commit(db, batch);
    }
}

/// Commits a batch in one transaction; if that fails, each operation alone.
fn commit(db: &Database, mut batch: Vec<Box<dyn Op>>) {
    if batch.len() > 1 && together(db, &mut batch).is_ok() {
        for op in batch {
            op.complete(Ok(()));
        }
        return;
    }
    for mut op in batch {
        let r = together(db, std::slice::from_mut(&mut op));
        op.complete(r);
    }
}

fn together(db: &Database, ops: &mut [Box<dyn Op>]) -> OpResult {
    let tx = db.begin_write().map_err(db_err)?;
    for op in ops.iter_mut() {
        op.apply(&tx)?; // dropping `tx` aborts it
    }
    tx.commit().map_err(db_err)
}

fn db_err<E: Into<redb::Error>>(e: E) -> StoreError {
    db(e)
}
