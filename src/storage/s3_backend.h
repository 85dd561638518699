// S3Backend: a repository in a bucket of an S3 service — AWS S3 or a
// compatible one (MinIO, Ceph RGW, Garage, s3rver) — over S3's REST API with
// HttpTransport, each request signed with SigV4 (storage/sigv4_signer.h).
//
// Location: s3://BUCKET[/PREFIX]?endpoint=URL&region=R&addressing=path|virtual
// (storage/s3_location.h). Objects are at PREFIX/<ObjectName::Path()>.
//
// Requests, one per method unless said otherwise:
//   Put          PUT key (x-amz-content-sha256: the body's SHA-256, hashed once)
//   PutIfAbsent  HEAD key, then PUT key with If-None-Match: * (412 → AlreadyExists)
//   Get, ReadStream  GET key with Range; the answer's status, Content-Range and
//                byte count are checked against what was asked for
//   Stat         HEAD key
//   List         GET bucket?list-type=2&prefix=PREFIX/KIND/ (ListObjectsV2), page by page
//   Remove       HEAD key (S3 answers a DELETE of a missing key with 204), then DELETE key
//   OpenWriter   one PUT on Commit if the object fits in one part; otherwise
//                CreateMultipartUpload, UploadPart per part, CompleteMultipartUpload
//                on Commit (AbortMultipartUpload if the writer is discarded)
//   CopyFrom     HEAD source, then PUT key with x-amz-copy-source (CopyObject)
//   Create       HEAD bucket, HEAD config
//
// Write-once: PutIfAbsent relies on the service honouring If-None-Match: *
// (AWS since 2024, MinIO, Ceph RGW do) for writers in different processes.
// Some services ignore it (s3rver does); the HEAD before the PUT and a gate
// that lets one PutIfAbsent per object name run at a time in this process
// keep writers of one process apart even there, but two processes racing on
// such a service can both win.
//
// Each method is one request (or one listing's pages) and is not retried
// here: OpenBackend wraps the backend in a RetryBackend, which asks each
// Status whether a retry can help. A streamed writer is the exception: it
// retries each part itself, since a RetryBackend cannot repeat bytes already
// handed over.
//
// No message holds the secret key, the session token or a signature: errors
// name the credential by its `source` and URLs are shown without a query.
//
// Thread-safe: the transport is, and the write-once gate (one for the
// process, since two backends may point at one bucket) has its own mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "storage/backend.h"
#include "storage/http_transport.h"
#include "storage/retry_policy.h"
#include "storage/s3_credentials.h"
#include "storage/s3_location.h"
#include "storage/sigv4_signer.h"

namespace ferry {

struct S3Options {
  // A streamed object is uploaded in parts of this size (the last may be
  // smaller); an object that fits in one part is a single PUT. S3 refuses
  // parts under 5 MiB (but the last) when the upload completes; smaller
  // sizes are only for tests against servers that do not check.
  size_t part_size = 8 << 20;
  // Keys per ListObjectsV2 page (S3 answers at most 1000).
  size_t list_page_size = 1000;
  // How each part of a streamed upload (and the upload's start and end) is retried.
  RetryPolicy part_retry;
  std::string ca_file;
};

// S3's limits that ferry meets (AWS's documented values).
inline constexpr size_t kS3MaxParts = 10000;
inline constexpr uint64_t kS3MaxCopySize = uint64_t{5} << 30;  // CopyObject's limit: 5 GiB

class S3Backend : public Backend {
 public:
  static Result<std::unique_ptr<S3Backend>> Open(const S3Location& location,
                                                 S3Credentials credentials, S3Options options = {});

  Status Create() override;
  Status Put(const ObjectName& name, ByteView data) override;
  Status PutIfAbsent(const ObjectName& name, ByteView data) override;
  Result<Bytes> Get(const ObjectName& name, uint64_t offset, uint64_t length) override;
  Result<uint64_t> Stat(const ObjectName& name) override;
  Status List(ObjectKind kind,
              const std::function<Status(const std::string& name, uint64_t size)>& visit) override;
  Status Remove(const ObjectName& name) override;
  Result<std::unique_ptr<ObjectWriter>> OpenWriter(const ObjectName& name) override;
  Status ReadStream(const ObjectName& name, uint64_t offset, uint64_t length,
                    const std::function<Status(ByteView)>& sink) override;
  std::string Location() const override { return location_.ToString(); }
  BackendStats stats() const override { return transport_->stats(); }

  // Copies `name` from `source` (an S3 backend, possibly inside decorators)
  // with a server-side CopyObject. Only when both are on the same endpoint
  // and use the same access key, so that this backend's credential can read
  // the source; objects over 5 GiB (CopyObject's limit; UploadPartCopy is
  // not implemented) are Unsupported too, and CopyObject() then streams them.
  Status CopyFrom(Backend& source, const ObjectName& name) override;

  // The object's URL, percent-encoded.
  std::string ObjectUrl(const ObjectName& name) const;
  const S3Location& location() const { return location_; }

 private:
  friend class S3PartWriter;
  S3Backend(S3Location location, S3Credentials credentials, S3Options options);

  std::string Key(const ObjectName& name) const { return location_.Key(name.Path()); }
  // One request; a non-2xx answer becomes a Status (S3AnswerStatus).
  Result<TransportResponse> Send(const TransportRequest& request, const std::string& what);
  Status AnswerStatus(const TransportResponse& response, const std::string& what) const;
  Status PutObject(const ObjectName& name, ByteView data, bool if_absent);

  S3Location location_;
  SigV4Signer signer_;
  S3Options options_;
  std::unique_ptr<HttpTransport> transport_;
};

// The Status for an S3 answer that is not a success: `response` is the
// answer (an <Error> document in its body, or none for HEAD), `what` the
// operation, `credential_source` names the credential for a refusal.
//   403, AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch, expired
//     tokens → PermissionDenied, permanent, naming the credential
//   404, NoSuchKey, NoSuchUpload → NotFound; NoSuchBucket → NotFound naming
//     the bucket and endpoint
//   5xx, 429, SlowDown, RequestTimeout, InternalError → retryable IOError
//   the rest as StatusForHttpAnswer.
// Exposed so that answers s3rver never gives (it checks no signatures) can
// be tested without a service.
Status S3AnswerStatus(const TransportResponse& response, const std::string& what,
                      const S3Location& location, const std::string& credential_source);

class BackendRegistry;
// Registers the "s3" scheme (the factory wraps the backend in a RetryBackend).
// The options the s3:// scheme takes from the environment: FERRY_S3_CA_FILE, a
// PEM file of the certificate authorities that an https endpoint's certificate
// must chain to (a private CA, a self-signed test server); unset or empty: the
// system's store. A file that cannot be read is refused here, naming the
// variable, rather than at the first request.
Result<S3Options> S3OptionsFromEnvironment();

void RegisterS3Backend(BackendRegistry& registry);

}  // namespace ferry
