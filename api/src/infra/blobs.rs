//! Files the server keeps (photos, label sheets): behind `object_store`, a folder under the data
//! directory by default, S3-compatible storage (AWS, MinIO, OSS, COS) by configuration.

use std::{path::Path, sync::Arc};

use bytes::Bytes;
use object_store::{
    ObjectStore, PutPayload, aws::AmazonS3Builder, local::LocalFileSystem, path::Path as Key,
};

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("no stored file at {0}")]
    NotFound(String),
    #[error("storage: {0}")]
    Storage(#[from] object_store::Error),
}

/// Where the files live.
#[derive(Clone)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
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
        Self { store }
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
        Ok(Self::new(Arc::new(LocalFileSystem::new_with_prefix(
            folder,
        )?)))
    }

    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), BlobError> {
        self.store
            .put(&Key::from(key), PutPayload::from(bytes))
            .await?;
        Ok(())
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
