#include "storage/s3_credentials.h"

#include <cstdlib>
#include <map>
#include <set>

#include "util/file_util.h"

namespace ferry {

namespace {

std::string Trim(std::string_view text) {
  size_t first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return "";
  size_t last = text.find_last_not_of(" \t\r");
  return std::string(text.substr(first, last - first + 1));
}

// A key, secret or token goes into an HTTP header: printable ASCII without
// blanks, or a request could be split (and the value would be wrong anyway).
Status CheckValue(const std::string& value, const std::string& what) {
  if (value.empty()) return Status::InvalidArgument(what + " is empty");
  for (unsigned char c : value)
    if (c <= 0x20 || c >= 0x7f)
      return Status::InvalidArgument(
          what +
          " holds a blank, a control or a non-ASCII character (a key pasted with a "
          "line break or quotes?)");
  return Status::Ok();
}

// The pair from PREFIX_ACCESS_KEY_ID / PREFIX_SECRET_ACCESS_KEY /
// PREFIX_SESSION_TOKEN; `*set` says whether either key variable is set (an
// empty S3Credentials is returned when neither is).
Result<S3Credentials> FromVariables(const std::function<const char*(const char*)>& getenv,
                                    const std::string& prefix, bool* set) {
  std::string id_name = prefix + "_ACCESS_KEY_ID";
  std::string secret_name = prefix + "_SECRET_ACCESS_KEY";
  std::string token_name = prefix + "_SESSION_TOKEN";
  const char* id = getenv(id_name.c_str());
  const char* secret = getenv(secret_name.c_str());
  const char* token = getenv(token_name.c_str());
  *set = (id && *id) || (secret && *secret);
  if (!*set) return S3Credentials{};
  if (!id || !*id)
    return Status::InvalidArgument(secret_name + " is set but " + id_name +
                                   " is not: set both (the access key ID and its secret)");
  if (!secret || !*secret)
    return Status::InvalidArgument(id_name + " is set but " + secret_name +
                                   " is not: set both (the access key ID and its secret)");
  S3Credentials credentials{id, secret, token ? token : "", "the key in " + id_name};
  RETURN_IF_ERROR(CheckValue(credentials.access_key_id, id_name));
  RETURN_IF_ERROR(CheckValue(credentials.secret_access_key, secret_name));
  if (token && *token) RETURN_IF_ERROR(CheckValue(credentials.session_token, token_name));
  return credentials;
}

}  // namespace

Result<S3Credentials> ParseSharedCredentials(std::string_view text, const std::string& profile,
                                             const std::string& path) {
  std::map<std::string, std::map<std::string, std::string>> sections;
  std::string section;
  bool in_section = false;
  size_t line_number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string line = Trim(text.substr(start, end - start));
    start = end + 1;
    ++line_number;
    std::string where = path + " line " + std::to_string(line_number);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']') return Status::InvalidArgument(where + ": a '[' without its ']'");
      section = Trim(std::string_view(line).substr(1, line.size() - 2));
      if (section.empty()) return Status::InvalidArgument(where + ": a section without a name");
      if (sections.count(section))
        return Status::InvalidArgument(where + ": profile '" + section + "' is given twice");
      sections[section];
      in_section = true;
      continue;
    }
    size_t equals = line.find('=');
    if (equals == std::string::npos)
      return Status::InvalidArgument(where + ": neither [profile], key = value nor a # comment");
    if (!in_section)
      return Status::InvalidArgument(where + ": a key = value line before the first [profile]");
    std::string key = Trim(std::string_view(line).substr(0, equals));
    std::string value = Trim(std::string_view(line).substr(equals + 1));
    if (key.empty()) return Status::InvalidArgument(where + ": a value without a key name");
    auto& keys = sections[section];
    if (keys.count(key))
      return Status::InvalidArgument(where + ": '" + key + "' is given twice in profile '" +
                                     section + "'");
    keys[key] = value;
  }
  auto found = sections.find(profile);
  if (found == sections.end()) {
    std::string known;
    for (const auto& [name, keys] : sections) known += (known.empty() ? "" : ", ") + name;
    return Status::InvalidArgument(path + " has no profile '" + profile + "'" +
                                   (known.empty() ? "" : " (it has " + known + ")") +
                                   ": set FERRY_S3_PROFILE to one it has");
  }
  std::string source = "profile '" + profile + "' of " + path;
  const auto& keys = found->second;
  auto get = [&](const char* key) {
    auto value = keys.find(key);
    return value == keys.end() ? std::string() : value->second;
  };
  S3Credentials credentials{get("aws_access_key_id"), get("aws_secret_access_key"),
                            get("aws_session_token"), "the key of " + source};
  if (credentials.access_key_id.empty())
    return Status::InvalidArgument(source + " has no aws_access_key_id");
  if (credentials.secret_access_key.empty())
    return Status::InvalidArgument(source + " has no aws_secret_access_key");
  RETURN_IF_ERROR(CheckValue(credentials.access_key_id, "aws_access_key_id of " + source));
  RETURN_IF_ERROR(CheckValue(credentials.secret_access_key, "aws_secret_access_key of " + source));
  if (keys.count("aws_session_token"))
    RETURN_IF_ERROR(CheckValue(credentials.session_token, "aws_session_token of " + source));
  return credentials;
}

Result<S3Credentials> LoadS3Credentials(const std::function<const char*(const char*)>& getenv_in) {
  std::function<const char*(const char*)> getenv =
      getenv_in ? getenv_in : [](const char* name) -> const char* { return std::getenv(name); };
  bool ferry_set = false;
  ASSIGN_OR_RETURN(S3Credentials ferry, FromVariables(getenv, "FERRY_S3", &ferry_set));
  const char* file = getenv("FERRY_S3_CREDENTIALS_FILE");
  bool file_set = file && *file;
  if (ferry_set && file_set)
    return Status::InvalidArgument(
        "both FERRY_S3_ACCESS_KEY_ID and FERRY_S3_CREDENTIALS_FILE are set: unset one, so it "
        "is clear which S3 key ferry uses");
  if (ferry_set) return ferry;
  if (file_set) {
    const char* profile = getenv("FERRY_S3_PROFILE");
    std::string name = profile && *profile ? profile : "default";
    auto bytes = ReadWholeFile(file);
    if (!bytes.ok())
      return bytes.status().WithContext("reading the S3 credentials in FERRY_S3_CREDENTIALS_FILE");
    // A credentials file is a few lines; anything large is not one.
    if (bytes->size() > (1 << 20))
      return Status::InvalidArgument(std::string(file) +
                                     " (FERRY_S3_CREDENTIALS_FILE) is over 1 MiB: not an AWS "
                                     "credentials file");
    return ParseSharedCredentials(AsString(*bytes), name, file);
  }
  bool aws_set = false;
  ASSIGN_OR_RETURN(S3Credentials aws, FromVariables(getenv, "AWS", &aws_set));
  if (aws_set) return aws;
  return Status::InvalidArgument(
      "no S3 credentials: set FERRY_S3_ACCESS_KEY_ID and FERRY_S3_SECRET_ACCESS_KEY, or "
      "FERRY_S3_CREDENTIALS_FILE (an AWS credentials file), or AWS_ACCESS_KEY_ID and "
      "AWS_SECRET_ACCESS_KEY");
}

}  // namespace ferry
