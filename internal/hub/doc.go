// Package hub downloads model files from the HuggingFace Hub into the
// standard HuggingFace cache, the same layout and protocol as the Python
// library huggingface_hub (file_download.py, hf_hub_download), so that a
// model fetched here is found by transformers and the other way round.
//
// # Cache layout
//
// For the repository org/name the cache holds
//
//	$HF_HUB_CACHE/models--org--name/
//	    blobs/<etag>                      the file's bytes, named by its ETag
//	    snapshots/<commit>/<file>         relative symlink to ../../blobs/<etag>
//	    refs/<revision>                   the commit hash the revision pointed to
//	    .no_exist/<commit>/<file>         empty marker: the file is absent at that commit
//
// HF_HUB_CACHE defaults to $HF_HOME/hub and HF_HOME to ~/.cache/huggingface.
//
// # Protocol
//
// For each file, HEAD {endpoint}/{repo}/resolve/{revision}/{file} with
// "Accept-Encoding: identity", following only relative redirects (renamed
// repositories, resolve-cache paths). The response gives the commit
// (X-Repo-Commit), the ETag (X-Linked-Etag for LFS files, where it is the
// sha256 of the content; ETag for git files, where it is the git blob sha1),
// the size (X-Linked-Size, else Content-Length) and, for LFS files, a
// redirect whose Location (absolute, usually a CDN host) is where the bytes
// are. The file is then fetched with GET, following redirects, into
// blobs/<etag>.incomplete; when that partial file exists the request carries
// "Range: bytes=N-" and a 206 answer is appended (a 200 answer restarts from
// zero). The content is checked against the size and, when the ETag is a
// content hash (64 hex digits: sha256; 40 hex digits: git blob sha1 of
// "blob <size>\x00"+content), against the hash, then renamed into place.
// Only then are the snapshot symlink and refs file written, so a failed or
// corrupt download never appears in snapshots/.
//
// The Authorization header (HF_TOKEN) is sent to the endpoint's host only,
// never to the CDN a redirect points to.
//
// # Environment
//
// Fields of Options left at their zero value are taken from HF_ENDPOINT
// (default https://huggingface.co), HF_TOKEN, HF_HUB_OFFLINE (1, true, yes or
// on: use the cache only), HF_HUB_CACHE and HF_HOME, HF_HUB_ETAG_TIMEOUT and
// HF_HUB_DOWNLOAD_TIMEOUT (seconds, default 10 each).
//
// Two processes downloading the same blob at the same time are not
// coordinated (huggingface_hub uses a lock file); run one download at a time
// per cache.
package hub
