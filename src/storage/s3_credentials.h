// S3Credentials: the access key pair an S3 backend signs with, and where it
// came from. Credentials never come from the command line or a location
// string; they are read, in this order, from
//
//   1. FERRY_S3_ACCESS_KEY_ID + FERRY_S3_SECRET_ACCESS_KEY [+ FERRY_S3_SESSION_TOKEN]
//   2. FERRY_S3_CREDENTIALS_FILE: an AWS shared-credentials file (INI), profile
//      FERRY_S3_PROFILE or "default"
//   3. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY [+ AWS_SESSION_TOKEN]
//
// ferry's own settings come first so that AWS_* variables a shell exports
// for other tools do not silently override a choice made for ferry; setting
// both of ferry's sources at once is refused as ambiguous.
//
// `source` names the credential in messages ("the key in
// FERRY_S3_ACCESS_KEY_ID", "profile 'backup' of /etc/ferry/s3.ini"): a refused
// request says which credential was used, and no message ever holds the
// secret or the session token.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "util/status.h"

namespace ferry {

struct S3Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials
  std::string source;         // for messages; never a secret
};

// Reads the environment through `getenv` (tests pass their own).
Result<S3Credentials> LoadS3Credentials(
    const std::function<const char*(const char*)>& getenv = nullptr);

// Parses an AWS shared-credentials file's `text` and returns `profile`'s
// keys. Strict: a line that is not a comment, a [section] or key = value, a
// section or key given twice, or a profile without both keys is an error
// naming the line number (never its text: it may hold a secret). `path`
// names the file in messages.
Result<S3Credentials> ParseSharedCredentials(std::string_view text, const std::string& profile,
                                             const std::string& path);

}  // namespace ferry
