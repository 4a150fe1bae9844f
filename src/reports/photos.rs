//! Photos of problems and of their rectification, stored content-addressed (SHA-256) as files
//! beside the data: `photos/ab/abcdef….jpg`. Only JPEG, PNG and WebP are accepted, checked by
//! their leading bytes, within a size limit. A photo is durable (fsync) before it is referenced.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Why a photo was refused or could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("photo is {bytes} bytes; the limit is {limit}")]
    TooLarge { bytes: usize, limit: usize },
    #[error("photo is empty")]
    Empty,
    #[error("photo is not a JPEG, PNG or WebP image")]
    UnsupportedType,
    #[error("photo was sent as {declared} but its content is {actual}")]
    TypeMismatch {
        declared: String,
        actual: &'static str,
    },
    #[error("storing photo: {0}")]
    Io(#[from] std::io::Error),
}

/// The image types accepted.
fn sniff(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(("image/jpeg", "jpg"))
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(("image/png", "png"))
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(("image/webp", "webp"))
    } else {
        None
    }
}

/// A stored photo.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPhoto {
    /// Lowercase hex SHA-256 of the content.
    pub hash: String,
    pub content_type: &'static str,
    pub bytes: usize,
}

/// The photo directory.
#[derive(Debug, Clone)]
pub struct PhotoStore {
    dir: PathBuf,
    max_bytes: usize,
}

fn is_hash(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

impl PhotoStore {
    pub fn new(dir: PathBuf, max_bytes: usize) -> Self {
        Self { dir, max_bytes }
    }

    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    fn path_of(&self, hash: &str, extension: &str) -> PathBuf {
        self.dir
            .join(&hash[..2])
            .join(format!("{hash}.{extension}"))
    }

    /// Checks and stores `bytes`; `declared` is the content type the client gave, if any.
    pub fn save(&self, bytes: &[u8], declared: Option<&str>) -> Result<StoredPhoto, PhotoError> {
        if bytes.is_empty() {
            return Err(PhotoError::Empty);
        }
        if bytes.len() > self.max_bytes {
            return Err(PhotoError::TooLarge {
                bytes: bytes.len(),
                limit: self.max_bytes,
            });
        }
        let (content_type, extension) = sniff(bytes).ok_or(PhotoError::UnsupportedType)?;
        if let Some(declared) = declared.filter(|d| *d != "application/octet-stream")
            && declared != content_type
        {
            return Err(PhotoError::TypeMismatch {
                declared: declared.to_string(),
                actual: content_type,
            });
        }
        let hash: String = Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let path = self.path_of(&hash, extension);
        if !path.exists() {
            write_durably(&path, bytes)?;
        }
        Ok(StoredPhoto {
            hash,
            content_type,
            bytes: bytes.len(),
        })
    }

    /// Whether a photo with this hash is stored.
    pub fn exists(&self, hash: &str) -> bool {
        self.find(hash).is_some()
    }

    fn find(&self, hash: &str) -> Option<(PathBuf, &'static str)> {
        if !is_hash(hash) {
            return None;
        }
        [
            ("jpg", "image/jpeg"),
            ("png", "image/png"),
            ("webp", "image/webp"),
        ]
        .into_iter()
        .map(|(ext, ty)| (self.path_of(hash, ext), ty))
        .find(|(p, _)| p.exists())
    }

    /// The bytes and content type of a stored photo.
    pub fn read(&self, hash: &str) -> Option<(Vec<u8>, &'static str)> {
        let (path, content_type) = self.find(hash)?;
        std::fs::read(path).ok().map(|b| (b, content_type))
    }
}

/// Writes to a temporary file, fsyncs, renames into place and fsyncs the directory.
fn write_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension("partial");
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn a_photo_is_stored_once_by_its_hash_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = PhotoStore::new(dir.path().to_path_buf(), 1 << 20);
        let a = store.save(PNG, Some("image/png")).unwrap();
        let b = store.save(PNG, None).unwrap();
        assert_eq!(a, b);
        assert_eq!(store.read(&a.hash), Some((PNG.to_vec(), "image/png")));
        assert!(store.exists(&a.hash));
        assert!(!store.exists("../../etc/passwd"));
    }

    #[test]
    fn oversized_mislabelled_and_foreign_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = PhotoStore::new(dir.path().to_path_buf(), 16);
        assert!(matches!(
            store.save(&[0xFF, 0xD8, 0xFF, 0].repeat(10), None),
            Err(PhotoError::TooLarge { .. })
        ));
        assert!(matches!(
            store.save(PNG, Some("image/jpeg")),
            Err(PhotoError::TypeMismatch { .. })
        ));
        assert!(matches!(
            store.save(b"%PDF-1.7", None),
            Err(PhotoError::UnsupportedType)
        ));
        assert!(matches!(store.save(b"", None), Err(PhotoError::Empty)));
    }
}
