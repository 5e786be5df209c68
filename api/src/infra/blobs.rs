//! Files the server keeps (photos, label sheets): behind `object_store`, a folder under the data
//! directory by default, S3-compatible storage (AWS, MinIO, OSS, COS) by configuration.

use std::{path::Path, sync::Arc};

use bytes::Bytes;
use object_store::{
    ObjectStore, PutPayload, aws::AmazonS3Builder, local::LocalFileSystem, path::Path as Key,
};

use crate::config::Settings;

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

impl std::fmt::Debug for Blobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Blobs({})", self.store)
    }
}

impl Blobs {
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self { store }
    }

    /// The store the settings name: S3 when a bucket is set, else `{data_dir}/files`.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        match &settings.s3_bucket {
            Some(bucket) => {
                let mut builder = AmazonS3Builder::new()
                    .with_bucket_name(bucket)
                    .with_region(&settings.s3_region)
                    .with_allow_http(settings.s3_allow_http);
                if let Some(endpoint) = &settings.s3_endpoint {
                    builder = builder.with_endpoint(endpoint);
                }
                if let (Some(id), Some(secret)) =
                    (&settings.s3_access_key_id, &settings.s3_secret_access_key)
                {
                    use secrecy::ExposeSecret;
                    builder = builder
                        .with_access_key_id(id)
                        .with_secret_access_key(secret.expose_secret());
                }
                Ok(Self::new(Arc::new(builder.build()?)))
            }
            None => Self::local(&settings.data_dir.join("files")),
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
