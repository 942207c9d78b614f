//! Files on the Mattermost side: downloading a post's files (after
//! admission, within the `[files]` caps, in parallel) and uploading reply
//! files.
//!
//! What a file's bytes mean (text, PDF, image) is [`crate::files`]'s
//! business; this module only moves bytes and turns every failure into a
//! note for the agent or a note for the user, never an error for the turn.

use futures_util::future::join_all;
use serde_json::Value;

use super::api::{Api, FileInfo, Post};
use crate::config::FilesConfig;
use crate::gateway::{Attachment, ReplyFile};

/// Most files one post may carry (the server's `file_ids` limit).
pub const FILES_PER_POST: usize = 10;

/// The post's files as the agent gets them: read when within the caps,
/// otherwise a note that says why not. Order follows the post.
pub async fn fetch(api: &Api, post: &Post, caps: &FilesConfig) -> Vec<Attachment> {
    let infos = infos(api, post, caps.max_files).await;
    let mut budget = caps.max_post_bytes();
    let mut jobs = Vec::new();
    for (i, info) in infos.into_iter().enumerate() {
        let info = match info {
            Ok(info) => info,
            Err((id, e)) => {
                let why = match e {
                    Some(e) => {
                        tracing::warn!(file = %id, "cannot read a file's info: {e}");
                        "could not be read (the server did not describe it)".to_string()
                    }
                    None => format!(
                        "not read (only {} files per message are read)",
                        caps.max_files
                    ),
                };
                jobs.push(Job::Skip(Attachment::skipped(&id, "", 0, &why)));
                continue;
            }
        };
        let skip = |why: String| {
            Job::Skip(Attachment::skipped(
                &info.name,
                &info.mime_type,
                info.size,
                &why,
            ))
        };
        if i >= caps.max_files {
            jobs.push(skip(format!(
                "not read (only {} files per message are read)",
                caps.max_files
            )));
        } else if info.size > caps.max_file_bytes() {
            jobs.push(skip(format!(
                "not read ({} is over the {} MiB file limit)",
                crate::report::human_bytes(info.size),
                caps.max_file_mb
            )));
        } else if info.size > budget {
            jobs.push(skip(format!(
                "not read (the message's files are over the {} MiB limit)",
                caps.max_post_mb
            )));
        } else {
            budget -= info.size;
            jobs.push(Job::Get(info));
        }
    }
    join_all(jobs.into_iter().map(|job| download(api, job, caps))).await
}

enum Job {
    Get(FileInfo),
    Skip(Attachment),
}

async fn download(api: &Api, job: Job, caps: &FilesConfig) -> Attachment {
    let info = match job {
        Job::Skip(a) => return a,
        Job::Get(info) => info,
    };
    // The server said how big the file is: more than that is refused, so
    // the post's budget holds whatever the download stream brings.
    match api.file(&info.id, info.size).await {
        Ok(bytes) => {
            Attachment::read(
                &info.name,
                &info.mime_type,
                bytes.to_vec(),
                caps.max_text_chars,
            )
            .await
        }
        Err(e) => {
            tracing::warn!(file = %info.id, "cannot download a file: {e}");
            Attachment::skipped(
                &info.name,
                &info.mime_type,
                info.size,
                &format!("could not be downloaded ({e})"),
            )
        }
    }
}

/// The post's file infos: from `metadata.files` when the event carried
/// them (no request), else one `GET /files/{id}/info` per id — for the
/// first `max` files only; the rest are `Err((id, None))`.
async fn infos(
    api: &Api,
    post: &Post,
    max: usize,
) -> Vec<Result<FileInfo, (String, Option<String>)>> {
    let from_metadata: Vec<FileInfo> = post
        .metadata
        .get("files")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|f| serde_json::from_value::<FileInfo>(f.clone()).ok())
                .collect()
        })
        .unwrap_or_default();
    let lookups = post.file_ids.iter().enumerate().map(|(i, id)| {
        let known = from_metadata.iter().find(|f| f.id == *id).cloned();
        async move {
            match known {
                Some(info) => Ok(info),
                None if i >= max => Err((id.clone(), None)),
                None => api
                    .file_info(id)
                    .await
                    .map_err(|e| (id.clone(), Some(e.to_string()))),
            }
        }
    });
    join_all(lookups).await
}

/// Uploads reply files to a channel, in parallel: the ids of those
/// uploaded, and the names of those that failed (for a note to the user).
pub async fn upload(
    api: &Api,
    channel_id: &str,
    files: &[ReplyFile],
) -> (Vec<String>, Vec<String>) {
    let results = join_all(files.iter().map(|f| async move {
        let bytes = bytes::Bytes::from(f.bytes.clone());
        (
            f,
            api.upload_file(channel_id, &f.name, &f.mime_type, bytes)
                .await,
        )
    }))
    .await;
    let mut ids = Vec::new();
    let mut failed = Vec::new();
    for (f, r) in results {
        match r {
            Ok(info) => ids.push(info.id),
            Err(e) => {
                tracing::warn!(file = %f.name, "cannot upload a reply file: {e}");
                failed.push(f.name.clone());
            }
        }
    }
    (ids, failed)
}
