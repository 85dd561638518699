// Status: whether an error says a retry can help, and that the attribute
// survives the context callers add.
#include "util/status.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

TEST(StatusTest, ErrorsArePermanentUnlessMarkedRetryable) {
  EXPECT_FALSE(Status::IOError("disk").retryable());
  EXPECT_FALSE(Status::NoSpace("full").retryable());
  Status transient = Status::IOError("connection reset").Retryable();
  EXPECT_TRUE(transient.retryable());
  EXPECT_EQ(transient.code(), StatusCode::kIOError);
  EXPECT_EQ(transient.message(), "connection reset");
}

TEST(StatusTest, OkIsNeverRetryable) { EXPECT_FALSE(Status::Ok().Retryable().retryable()); }

TEST(StatusTest, ContextKeepsTheRetryableAttribute) {
  EXPECT_TRUE(Status::IOError("reset").Retryable().WithContext("PUT data/x").retryable());
  EXPECT_FALSE(Status::NoSpace("full").WithContext("PUT data/x").retryable());
  Result<int> result(Status::IOError("reset").Retryable());
  EXPECT_TRUE(result.status().retryable());
}

}  // namespace
}  // namespace ferry
