#include "util/status.h"

namespace ferry {

namespace {
const char* CodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kNotFound:
      return "not found";
    case StatusCode::kAlreadyExists:
      return "already exists";
    case StatusCode::kCorruption:
      return "corruption";
    case StatusCode::kIOError:
      return "I/O error";
    case StatusCode::kInvalidArgument:
      return "invalid argument";
    case StatusCode::kPermissionDenied:
      return "permission denied";
    case StatusCode::kWrongPassword:
      return "wrong password";
    case StatusCode::kLocked:
      return "locked";
    case StatusCode::kNoSpace:
      return "no space";
    case StatusCode::kUnsupported:
      return "unsupported";
    case StatusCode::kInterrupted:
      return "interrupted";
    case StatusCode::kNoRepository:
      return "no repository";
    case StatusCode::kRepositoryChanged:
      return "repository changed";
    case StatusCode::kHistoryMissing:
      return "objects missing";
    case StatusCode::kInternal:
      return "internal error";
  }
  return "unknown";
}
}  // namespace

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(CodeName(code_)) + ": " + message_;
}

}  // namespace ferry
