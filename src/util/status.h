// Status and Result<T>: the one error type that crosses module boundaries.
//
// A Status is either OK or carries a code and a message written for the user
// ("pack 3f2a…: header claims 9 entries past the end of the file"). Result<T>
// holds a value or a non-OK Status. Both are [[nodiscard]]: an error that is
// deliberately dropped must say so with IgnoreError(), which is greppable.
//
// An error also says whether trying the same operation again can help
// (RocksDB's IOStatus::retryable is the model). Errors are permanent unless
// whoever knows better marks them Retryable(): today the HTTP client, for a
// transport failure (connection refused or dropped, a stall, a truncated
// answer) and a server's transient 5xx. A 4xx refusal, a full vault (507),
// bad data and every local error stay permanent, so retry loops ask
// retryable() instead of guessing from codes.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace ferry {

enum class StatusCode {
  kOk = 0,
  kNotFound,
  kAlreadyExists,
  kCorruption,
  kIOError,
  kInvalidArgument,
  kPermissionDenied,
  kWrongPassword,
  kLocked,
  kNoSpace,
  kUnsupported,
  kInterrupted,
  kNoRepository,  // the location holds no repository (exit code 10)
  // The location serves another repository than the one this machine pinned
  // there (repo/known_repository.h; exit code 13).
  kRepositoryChanged,
  // Snapshots or index objects this machine wrote are no longer listed
  // (repo/history_guard.h; exit code 14).
  kHistoryMissing,
  kInternal,
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status IOError(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status PermissionDenied(std::string m) {
    return {StatusCode::kPermissionDenied, std::move(m)};
  }
  static Status WrongPassword(std::string m) { return {StatusCode::kWrongPassword, std::move(m)}; }
  static Status Locked(std::string m) { return {StatusCode::kLocked, std::move(m)}; }
  static Status NoSpace(std::string m) { return {StatusCode::kNoSpace, std::move(m)}; }
  static Status Unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
  static Status Interrupted(std::string m) { return {StatusCode::kInterrupted, std::move(m)}; }
  static Status NoRepository(std::string m) { return {StatusCode::kNoRepository, std::move(m)}; }
  static Status RepositoryChanged(std::string m) {
    return {StatusCode::kRepositoryChanged, std::move(m)};
  }
  static Status HistoryMissing(std::string m) {
    return {StatusCode::kHistoryMissing, std::move(m)};
  }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  bool IsNotFound() const { return code_ == StatusCode::kNotFound; }
  bool IsCorruption() const { return code_ == StatusCode::kCorruption; }

  // Whether the same operation may succeed if tried again (see the top of
  // this file). Never true for OK.
  bool retryable() const { return retryable_; }
  // A copy marked retryable (an OK status stays OK and permanent).
  Status Retryable() const {
    Status copy = *this;
    copy.retryable_ = !ok();
    return copy;
  }

  // A copy that is not retryable: the caller knows a retry would do harm
  // (a listing that already reported names) or cannot help.
  Status Permanent() const {
    Status copy = *this;
    copy.retryable_ = false;
    return copy;
  }

  // Returns a copy whose message is prefixed with context ("reading pack X: ").
  Status WithContext(const std::string& context) const {
    if (ok()) return *this;
    Status copy(code_, context + ": " + message_);
    copy.retryable_ = retryable_;
    return copy;
  }

  std::string ToString() const;

  // Marks a deliberately ignored error.
  void IgnoreError() const {}

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  bool retryable_ = false;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : data_(std::move(status)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(data_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(data_);
  }
  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace ferry

#define FERRY_CONCAT_INNER(a, b) a##b
#define FERRY_CONCAT(a, b) FERRY_CONCAT_INNER(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define RETURN_IF_ERROR(expr)          \
  do {                                 \
    ::ferry::Status _status = (expr);  \
    if (!_status.ok()) return _status; \
  } while (0)

// Declares `lhs` from a Result<T> expression or returns its error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(FERRY_CONCAT(_result_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(result, lhs, expr) \
  auto result = (expr);                          \
  if (!result.ok()) return result.status();      \
  lhs = std::move(result).value()
