#include "storage/s3_location.h"

#include <algorithm>
#include <cctype>

#include "storage/http_transport.h"

namespace ferry {

namespace {

// S3's bucket naming rules (the strict, DNS-compatible ones every service accepts).
bool IsBucketName(const std::string& name) {
  if (name.size() < 3 || name.size() > 63) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  return alnum(name.front()) && alnum(name.back()) && name.find("..") == std::string::npos;
}

bool IsRegionName(const std::string& region) {
  if (region.empty() || region.size() > 64) return false;
  return std::all_of(region.begin(), region.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

}  // namespace

std::string S3Location::BucketUrl() const {
  if (path_style) return endpoint + "/" + bucket;
  size_t host = endpoint.find("://") + 3;
  return endpoint.substr(0, host) + bucket + "." + endpoint.substr(host) + "/";
}

std::string S3Location::ObjectUrl(const std::string& key) const {
  std::string base = BucketUrl();
  if (base.back() != '/') base += '/';
  return base + PercentEncode(key, true);
}

std::string S3Location::Key(const std::string& path) const {
  return prefix.empty() ? path : prefix + "/" + path;
}

std::string S3Location::ToString() const {
  std::string text = "s3://" + bucket + (prefix.empty() ? "" : "/" + prefix);
  text += "?endpoint=" + endpoint + "&region=" + region;
  bool default_style = endpoint_given;  // custom endpoints default to path style
  if (path_style != default_style)
    text += std::string("&addressing=") + (path_style ? "path" : "virtual");
  return text;
}

Result<S3Location> ParseS3Location(const StorageLocation& location) {
  // A location with user information ("http://user:secret@host", maybe
  // %-encoded) is refused below; the refusal must not repeat the secret.
  std::string text = location.text;
  if (text.find('@') != std::string::npos || AsciiLower(text).find("%40") != std::string::npos)
    text = "s3://… (not shown: it holds user information)";
  auto refuse = [&](const std::string& why) {
    return Status::InvalidArgument(
        "storage location '" + text + "': " + why +
        " (the form is s3://BUCKET[/PREFIX]?endpoint=URL&region=R[&addressing=path|virtual])");
  };
  auto split = SplitObjectStoreAddress(location.address, {"endpoint", "region", "addressing"});
  if (!split.ok()) return refuse(split.status().message());
  S3Location parsed;
  parsed.bucket = split->name;
  parsed.prefix = split->prefix;
  if (parsed.bucket.empty()) return refuse("no bucket given");
  if (!IsBucketName(parsed.bucket))
    return refuse("'" + parsed.bucket +
                  "' is not a bucket name (3 to 63 lower-case letters, digits, '.' and '-')");
  auto parameter = [&](const char* key, std::string* value) {
    auto found = split->parameters.find(key);
    if (found == split->parameters.end()) return false;
    *value = found->second;
    return true;
  };
  std::string addressing;
  parsed.endpoint_given = parameter("endpoint", &parsed.endpoint);
  bool region_given = parameter("region", &parsed.region);
  bool addressing_given = parameter("addressing", &addressing);
  if (!region_given) parsed.region = "us-east-1";
  if (!IsRegionName(parsed.region)) return refuse("'" + parsed.region + "' is not a region name");
  if (parsed.endpoint_given) {
    std::string& endpoint = parsed.endpoint;
    // Before any message that would quote the endpoint.
    if (endpoint.find('@') != std::string::npos)
      return refuse(
          "the endpoint holds user information (credentials never go in a location: set "
          "FERRY_S3_ACCESS_KEY_ID and FERRY_S3_SECRET_ACCESS_KEY)");
    size_t scheme_end = endpoint.find("://");
    std::string scheme = scheme_end == std::string::npos ? "" : endpoint.substr(0, scheme_end);
    scheme = AsciiLower(scheme);
    if (scheme != "http" && scheme != "https")
      return refuse("the endpoint '" + endpoint + "' is not an http:// or https:// URL");
    std::string rest = endpoint.substr(scheme_end + 3);
    while (!rest.empty() && rest.back() == '/') rest.pop_back();
    if (rest.empty()) return refuse("the endpoint has no host");
    if (rest.find_first_of("/?#") != std::string::npos)
      return refuse("the endpoint has a path, query or fragment (give only scheme://host[:port])");
    for (unsigned char c : rest)
      if (c <= 0x20 || c >= 0x7f) return refuse("the endpoint holds a blank or control character");
    endpoint = scheme + "://" + rest;
  } else {
    parsed.endpoint = "https://s3." + parsed.region + ".amazonaws.com";
  }
  if (addressing_given) {
    if (addressing != "path" && addressing != "virtual")
      return refuse("addressing is '" + addressing + "', not path or virtual");
    parsed.path_style = addressing == "path";
  } else {
    parsed.path_style = parsed.endpoint_given;
  }
  if (!parsed.path_style && parsed.bucket.find('.') != std::string::npos &&
      parsed.endpoint.rfind("https://", 0) == 0)
    return refuse("bucket '" + parsed.bucket +
                  "' has a '.', which breaks TLS with virtual-host addressing: add "
                  "addressing=path");
  return parsed;
}

}  // namespace ferry
