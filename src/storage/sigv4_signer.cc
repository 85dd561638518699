#include "storage/sigv4_signer.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "crypto/hash.h"

namespace ferry {

namespace {

constexpr const char* kAlgorithm = "AWS4-HMAC-SHA256";
constexpr const char* kService = "s3";

// A header value as SigV4 canonicalises it: leading and trailing blanks
// dropped, runs of blanks inside folded to one space.
std::string TrimValue(const std::string& value) {
  std::string out;
  bool blank = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      blank = !out.empty();
      continue;
    }
    if (blank) out += ' ';
    blank = false;
    out += c;
  }
  return out;
}

Bytes Hmac(ByteView key, std::string_view data) {
  Id mac = HmacSha256(key, AsBytes(data));
  return Bytes(mac.bytes.begin(), mac.bytes.end());
}

struct SplitUrl {
  std::string authority;
  std::string path;   // as written, "/" if empty
  std::string query;  // without "?"
};

Result<SplitUrl> Split(const std::string& url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos)
    return Status::InvalidArgument("cannot sign '" + url.substr(0, url.find('?')) +
                                   "': not an absolute URL");
  std::string scheme = AsciiLower(url.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https")
    return Status::InvalidArgument("cannot sign a " + scheme + ":// URL");
  size_t authority_start = scheme_end + 3;
  size_t path_start = url.find_first_of("/?#", authority_start);
  SplitUrl split;
  split.authority =
      url.substr(authority_start, path_start == std::string::npos ? std::string::npos
                                                                  : path_start - authority_start);
  if (split.authority.empty() || split.authority.find('@') != std::string::npos)
    return Status::InvalidArgument("cannot sign a URL without a plain host[:port]");
  if (path_start == std::string::npos) {
    split.path = "/";
    return split;
  }
  size_t query_start = url.find('?', path_start);
  size_t fragment = url.find('#', path_start);
  if (fragment != std::string::npos)
    return Status::InvalidArgument("cannot sign a URL with a fragment");
  split.path = url.substr(
      path_start, query_start == std::string::npos ? std::string::npos : query_start - path_start);
  if (split.path.empty()) split.path = "/";
  if (query_start != std::string::npos) split.query = url.substr(query_start + 1);
  return split;
}

// "b=2&a=1&flag" → "a=1&b=2&flag=": each name and value encoded the SigV4
// way, pairs sorted by name, then value.
std::string CanonicalQuery(const std::string& query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  size_t start = 0;
  while (start <= query.size() && !query.empty()) {
    size_t end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    std::string item = query.substr(start, end - start);
    if (!item.empty()) {
      size_t equals = item.find('=');
      std::string name = item.substr(0, equals);
      std::string value = equals == std::string::npos ? "" : item.substr(equals + 1);
      pairs.emplace_back(SigV4Encode(name, false), SigV4Encode(value, false));
    }
    start = end + 1;
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [name, value] : pairs) out += (out.empty() ? "" : "&") + name + "=" + value;
  return out;
}

}  // namespace

std::string SigV4Encode(const std::string& component, bool keep_slashes) {
  // Decode what the caller escaped, so "%24" and "$" both sign as "%24".
  std::string decoded;
  decoded.reserve(component.size());
  for (size_t i = 0; i < component.size(); ++i) {
    if (component[i] == '%' && i + 2 < component.size()) {
      int high = HexDigitValue(component[i + 1]), low = HexDigitValue(component[i + 2]);
      if (high >= 0 && low >= 0) {
        decoded += static_cast<char>(high * 16 + low);
        i += 2;
        continue;
      }
    }
    decoded += component[i];
  }
  return PercentEncode(decoded, keep_slashes);
}

std::string AmzDate(std::time_t time) {
  struct tm utc;
  gmtime_r(&time, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

Result<std::string> UrlAuthority(const std::string& url) {
  ASSIGN_OR_RETURN(SplitUrl split, Split(url));
  return split.authority;
}

SigV4Signer::SigV4Signer(S3Credentials credentials, std::string region,
                         std::function<std::time_t()> now)
    : credentials_(std::move(credentials)), region_(std::move(region)), now_(std::move(now)) {
  if (!now_) now_ = [] { return std::time(nullptr); };
}

Result<SigV4Parts> SigV4Signer::Compute(const std::string& method, const std::string& url,
                                        const std::vector<HttpHeader>& headers,
                                        const std::string& payload_hash,
                                        const std::string& amz_date) const {
  ASSIGN_OR_RETURN(SplitUrl split, Split(url));
  if (amz_date.size() != 16 || amz_date[8] != 'T' || amz_date[15] != 'Z')
    return Status::InvalidArgument("x-amz-date '" + amz_date + "' is not YYYYMMDDTHHMMSSZ");
  std::vector<std::pair<std::string, std::string>> canonical;
  for (const HttpHeader& header : headers) {
    std::string name = AsciiLower(header.name);
    std::string value = TrimValue(header.value);
    for (char c : value)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
        return Status::InvalidArgument("header " + name + " holds a control character");
    auto same = std::find_if(canonical.begin(), canonical.end(),
                             [&](const auto& entry) { return entry.first == name; });
    // Repeated headers sign as one, values joined by commas (as HTTP merges them).
    if (same != canonical.end())
      same->second += "," + value;
    else
      canonical.emplace_back(name, value);
  }
  std::sort(canonical.begin(), canonical.end());
  SigV4Parts parts;
  std::string header_block;
  for (const auto& [name, value] : canonical) {
    header_block += name + ":" + value + "\n";
    parts.signed_headers += (parts.signed_headers.empty() ? "" : ";") + name;
  }
  parts.canonical_request = method + "\n" + SigV4Encode(split.path, true) + "\n" +
                            CanonicalQuery(split.query) + "\n" + header_block + "\n" +
                            parts.signed_headers + "\n" + payload_hash;
  std::string date = amz_date.substr(0, 8);
  std::string scope = date + "/" + region_ + "/" + kService + "/aws4_request";
  parts.string_to_sign = std::string(kAlgorithm) + "\n" + amz_date + "\n" + scope + "\n" +
                         Sha256(AsBytes(parts.canonical_request)).Hex();
  Bytes key = Hmac(AsBytes("AWS4" + credentials_.secret_access_key), date);
  key = Hmac(key, region_);
  key = Hmac(key, kService);
  key = Hmac(key, "aws4_request");
  parts.signature = HexEncode(Hmac(key, parts.string_to_sign));
  parts.authorization = std::string(kAlgorithm) + " Credential=" + credentials_.access_key_id +
                        "/" + scope + ",SignedHeaders=" + parts.signed_headers +
                        ",Signature=" + parts.signature;
  return parts;
}

Status SigV4Signer::Sign(TransportRequest& request) const {
  ASSIGN_OR_RETURN(std::string authority, UrlAuthority(request.url));
  // An Authorization left from an earlier attempt must not be signed itself.
  std::erase_if(request.headers, [](const HttpHeader& header) {
    return AsciiLower(header.name) == "authorization";
  });
  request.SetHeader("host", authority);
  request.SetHeader("x-amz-date", AmzDate(now_()));
  std::string payload_hash = request.Header("x-amz-content-sha256");
  if (payload_hash.empty()) {
    payload_hash = request.body_source ? kUnsignedPayload : Sha256(request.body).Hex();
    request.SetHeader("x-amz-content-sha256", payload_hash);
  }
  if (!credentials_.session_token.empty())
    request.SetHeader("x-amz-security-token", credentials_.session_token);
  ASSIGN_OR_RETURN(SigV4Parts parts, Compute(request.method, request.url, request.headers,
                                             payload_hash, request.Header("x-amz-date")));
  request.SetHeader("Authorization", parts.authorization);
  return Status::Ok();
}

}  // namespace ferry
