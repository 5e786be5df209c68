//! Files the server keeps (photos, label sheets): behind `object_store`, a folder under the data
//! directory by default, S3-compatible storage (AWS, MinIO, OSS, COS) by configuration.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use bytes::Bytes;
use object_store::{
    ObjectStore, PutPayload, aws::AmazonS3Builder, local::LocalFileSystem, path::Path as Key,
};

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("no stored file at {0}")]
    NotFound(String),
    /// The store has no room left or refuses to be written (a full disk, a quota, a read-only
    /// or forbidden folder): nothing a retry mends, only an administrator.
    #[error("storage cannot be written: {0}")]
    NoSpace(object_store::Error),
    #[error("storage: {0}")]
    Storage(object_store::Error),
}

impl From<object_store::Error> for BlobError {
    fn from(e: object_store::Error) -> Self {
        if refuses_writes(&e) {
            BlobError::NoSpace(e)
        } else {
            BlobError::Storage(e)
        }
    }
}

/// Whether the kernel's answer somewhere in the error's causes says the store cannot take
/// more: ENOSPC, EDQUOT, EFBIG, EROFS, EACCES or EPERM.
fn refuses_writes(error: &(dyn std::error::Error + 'static)) -> bool {
    use std::io::ErrorKind;
    let mut cause = Some(error);
    while let Some(e) = cause {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                ErrorKind::StorageFull
                    | ErrorKind::QuotaExceeded
                    | ErrorKind::FileTooLarge
                    | ErrorKind::ReadOnlyFilesystem
                    | ErrorKind::PermissionDenied
            )
        {
            return true;
        }
        cause = e.source();
    }
    false
}

/// Where the files live.
#[derive(Clone)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    /// The folder, for the local store: a write that fails leaves no empty folders in it.
    local_root: Option<PathBuf>,
}

/// Where photos and label sheets are kept.
#[derive(Clone, Debug)]
pub enum BlobStore {
    S3(S3Options),
    /// A folder on this machine (the embedded default).
    Local(std::path::PathBuf),
}

/// An S3-compatible bucket (AWS, MinIO, OSS, COS and the like).
#[derive(Clone, Debug)]
pub struct S3Options {
    pub bucket: String,
    pub region: String,
    /// Unset for AWS itself.
    pub endpoint: Option<String>,
    /// A plain-HTTP endpoint, such as a MinIO on the same host.
    pub allow_http: bool,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<secrecy::SecretString>,
}

impl std::fmt::Debug for Blobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Blobs({})", self.store)
    }
}

impl Blobs {
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self {
            store,
            local_root: None,
        }
    }

    /// The store configured: an S3-compatible bucket, or a local folder.
    pub fn open(store: &BlobStore) -> anyhow::Result<Self> {
        match store {
            BlobStore::S3(s3) => {
                let mut builder = AmazonS3Builder::new()
                    .with_bucket_name(&s3.bucket)
                    .with_region(&s3.region)
                    .with_allow_http(s3.allow_http);
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder.with_endpoint(endpoint);
                }
                if let (Some(id), Some(secret)) = (&s3.access_key_id, &s3.secret_access_key) {
                    use secrecy::ExposeSecret;
                    builder = builder
                        .with_access_key_id(id)
                        .with_secret_access_key(secret.expose_secret());
                }
                Ok(Self::new(Arc::new(builder.build()?)))
            }
            BlobStore::Local(folder) => Self::local(folder),
        }
    }

    /// Files in a local folder, created if missing.
    pub fn local(folder: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(folder)?;
        let root = folder.canonicalize()?;
        // Deleting a file also removes the folders it leaves empty.
        let store = LocalFileSystem::new_with_prefix(&root)?.with_automatic_cleanup(true);
        Ok(Self {
            store: Arc::new(store),
            local_root: Some(root),
        })
    }

    /// Writes a file. One that cannot be written leaves nothing behind: the store removes
    /// its partial file, and the folders made for it go if they stay empty.
    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), BlobError> {
        match self
            .store
            .put(&Key::from(key), PutPayload::from(bytes))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                self.prune_empty_folders(key).await;
                Err(e.into())
            }
        }
    }

    /// Removes a file; one already gone is no error.
    pub async fn delete(&self, key: &str) -> Result<(), BlobError> {
        match self.store.delete(&Key::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes a small file and removes it again: whether the store takes writes now.
    pub async fn probe(&self) -> Result<(), BlobError> {
        let key = format!("readiness-probe-{}", uuid::Uuid::new_v4().simple());
        self.put(&key, b"ok".to_vec()).await?;
        self.delete(&key).await
    }

    /// The folders above `key`, deepest first, removed while empty (local store only).
    async fn prune_empty_folders(&self, key: &str) {
        let Some(root) = self.local_root.clone() else {
            return;
        };
        let path = root.join(key);
        let _ = tokio::task::spawn_blocking(move || {
            let mut folder = path.parent();
            while let Some(dir) = folder {
                // `remove_dir` refuses a folder that is not empty, which is where it stops.
                if dir == root || !dir.starts_with(&root) || std::fs::remove_dir(dir).is_err() {
                    break;
                }
                folder = dir.parent();
            }
        })
        .await;
    }

    pub async fn get(&self, key: &str) -> Result<Bytes, BlobError> {
        match self.store.get(&Key::from(key)).await {
            Ok(found) => Ok(found.bytes().await?),
            Err(object_store::Error::NotFound { .. }) => Err(BlobError::NotFound(key.into())),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn exists(&self, key: &str) -> Result<bool, BlobError> {
        match self.store.head(&Key::from(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}
