// S3Location: what an "s3://" storage location names, parsed strictly.
//
//   s3://BUCKET[/PREFIX][?endpoint=URL][&region=R][&addressing=path|virtual]
//
// Without an endpoint the bucket is on AWS, https://s3.REGION.amazonaws.com,
// addressed virtual-host style (https://BUCKET.s3.REGION.amazonaws.com/KEY);
// a custom endpoint (MinIO, Ceph RGW, Garage, s3rver) defaults to path style
// (URL/BUCKET/KEY), which every S3 implementation serves. The region defaults
// to us-east-1, the region such services answer to unless configured.
// Objects live at PREFIX/<ObjectName::Path()>.
//
// Nothing secret may appear in a location: an endpoint with user:password@
// is refused, and keys come from the environment (s3_credentials.h).
#pragma once

#include <string>

#include "storage/backend_registry.h"
#include "util/status.h"

namespace ferry {

struct S3Location {
  std::string bucket;
  std::string prefix;    // "" or "a/b" (no leading, trailing or doubled "/")
  std::string endpoint;  // "https://host[:port]", no path, no trailing "/"
  std::string region;
  bool path_style = false;
  bool endpoint_given = false;  // false: the AWS endpoint of the region

  // The URL of the bucket itself, and of the object `key` (not yet
  // percent-encoded), for the chosen addressing style.
  std::string BucketUrl() const;
  std::string ObjectUrl(const std::string& key) const;
  // The object key of a repository path ("data/3f/3f2a…"): PREFIX/path.
  std::string Key(const std::string& path) const;
  // "s3://bucket/prefix?endpoint=…&region=…": the location again, in its
  // complete form, for messages. Holds nothing secret.
  std::string ToString() const;
};

// Parses the address part of an "s3://" location (`location.address`);
// every error names the location and what is wrong with it.
Result<S3Location> ParseS3Location(const StorageLocation& location);

}  // namespace ferry
