// RetryBackend: retries what the error says may help, with backoff and
// jitter within a budget; never repeats what a caller has seen (listed
// names, streamed bytes); permanent errors return at once.
#include "storage/retry_backend.h"

#include <gtest/gtest.h>

#include <set>

#include "crypto/hash.h"
#include "crypto/random.h"
#include "storage/memory_backend.h"

namespace ferry {
namespace {

// A backend whose next `failures` calls fail as told; `after_effect` makes a
// failing call do its work first (an answer lost on the way back).
class FlakyBackend : public MemoryBackend {
 public:
  int failures = 0;
  Status failure = Status::IOError("connection reset").Retryable();
  bool after_effect = false;
  size_t list_fail_after = 0;    // List: fail after this many names (0: before any)
  size_t stream_fail_after = 0;  // ReadStream: fail after this many bytes (0: never)
  int calls = 0;

  Status Put(const ObjectName& name, ByteView data) override {
    return Call([&] { return MemoryBackend::Put(name, data); });
  }
  Result<Bytes> Get(const ObjectName& name, uint64_t offset, uint64_t length) override {
    ++calls;
    if (failures > 0) {
      --failures;
      return failure;
    }
    return MemoryBackend::Get(name, offset, length);
  }
  Status Remove(const ObjectName& name) override {
    return Call([&] { return MemoryBackend::Remove(name); });
  }
  Status List(ObjectKind kind,
              const std::function<Status(const std::string&, uint64_t)>& visit) override {
    ++calls;
    bool fail = failures > 0;
    if (fail) --failures;
    size_t seen = 0;
    return MemoryBackend::List(kind, [&](const std::string& name, uint64_t size) -> Status {
      if (fail && seen == list_fail_after) return failure;
      ++seen;
      return visit(name, size);
    });
  }
  Status ReadStream(const ObjectName& name, uint64_t offset, uint64_t length,
                    const std::function<Status(ByteView)>& sink) override {
    ++calls;
    ASSIGN_OR_RETURN(Bytes data, MemoryBackend::Get(name, offset, length));
    bool fail = failures > 0;
    if (fail) --failures;
    size_t cut = fail ? std::min<size_t>(stream_fail_after, data.size()) : data.size();
    for (size_t at = 0; at < cut; at += 1000)
      RETURN_IF_ERROR(sink(ByteView(data).subspan(at, std::min<size_t>(1000, cut - at))));
    return fail ? failure : Status::Ok();
  }

 private:
  Status Call(const std::function<Status()>& work) {
    ++calls;
    if (failures > 0) {
      --failures;
      if (after_effect) work().IgnoreError();
      return failure;
    }
    return work();
  }
};

class RetryBackendTest : public ::testing::Test {
 protected:
  RetryBackendTest() {
    auto inner = std::make_unique<FlakyBackend>();
    flaky_ = inner.get();
    RetryPolicy policy;
    policy.budget_seconds = 60;
    policy.sleep = [this](double seconds) {
      sleeps_.push_back(seconds);
      clock_ += seconds;
    };
    policy.now = [this] { return clock_; };
    backend_ = std::make_unique<RetryBackend>(std::move(inner), policy);
  }
  ObjectName Name(ObjectKind kind, ByteView data) { return {kind, Sha256(data).Hex()}; }

  FlakyBackend* flaky_;
  std::unique_ptr<RetryBackend> backend_;
  std::vector<double> sleeps_;
  double clock_ = 1000;
};

TEST_F(RetryBackendTest, TransientFailuresAreRetriedWithGrowingJitteredWaits) {
  Bytes data = RandomBytes(5000);
  ObjectName name = Name(ObjectKind::kData, data);
  flaky_->failures = 4;
  ASSERT_TRUE(backend_->Put(name, data).ok());
  EXPECT_EQ(flaky_->calls, 5);
  EXPECT_EQ(backend_->retries(), 4u);
  ASSERT_EQ(sleeps_.size(), 4u);
  double ceiling = 0.25;
  for (double wait : sleeps_) {
    EXPECT_GE(wait, ceiling / 2);
    EXPECT_LE(wait, ceiling);
    ceiling *= 2;
  }
  flaky_->failures = 2;
  auto read = backend_->Get(name, 0, Backend::kToEnd);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, data);
}

TEST_F(RetryBackendTest, PermanentErrorsReturnAtOnce) {
  flaky_->failures = 1;
  flaky_->failure = Status::PermissionDenied("403: signature does not match (key 'acct1')");
  Status put = backend_->Put(ObjectName::Config(), RandomBytes(10));
  EXPECT_EQ(put.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(flaky_->calls, 1);
  EXPECT_TRUE(sleeps_.empty());
  EXPECT_TRUE(backend_->Get(ObjectName::Config(), 0, Backend::kToEnd).status().IsNotFound());
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(RetryBackendTest, GivesUpWhenTheBudgetIsSpent) {
  flaky_->failures = 1000000;
  Status put = backend_->Put(ObjectName::Config(), RandomBytes(10));
  ASSERT_FALSE(put.ok());
  EXPECT_TRUE(put.retryable());
  EXPECT_NE(put.message().find("gave up after"), std::string::npos) << put.message();
  EXPECT_NE(put.message().find("connection reset"), std::string::npos);
  EXPECT_LE(clock_ - 1000, 60.0);
  EXPECT_GT(clock_ - 1000, 60.0 - 8.0);  // it used the budget, not just a few tries
}

TEST_F(RetryBackendTest, AListingIsRetriedOnlyBeforeItReportedNames) {
  std::set<std::string> names;
  for (int i = 0; i < 5; ++i) {
    Bytes data = RandomBytes(100);
    names.insert(Name(ObjectKind::kIndex, data).name);
    ASSERT_TRUE(flaky_->MemoryBackend::Put(Name(ObjectKind::kIndex, data), data).ok());
  }
  auto list = [&](std::multiset<std::string>& seen) {
    return backend_->List(ObjectKind::kIndex, [&](const std::string& name, uint64_t) {
      seen.insert(name);
      return Status::Ok();
    });
  };
  flaky_->failures = 2;
  flaky_->list_fail_after = 0;
  std::multiset<std::string> before;
  ASSERT_TRUE(list(before).ok());
  EXPECT_EQ(std::set<std::string>(before.begin(), before.end()), names);
  EXPECT_EQ(before.size(), names.size()) << "a name was reported twice";

  flaky_->failures = 1;
  flaky_->list_fail_after = 2;
  std::multiset<std::string> midway;
  Status failed = list(midway);
  EXPECT_FALSE(failed.ok());
  EXPECT_FALSE(failed.retryable());
  EXPECT_EQ(midway.size(), 2u);
}

TEST_F(RetryBackendTest, AStreamedReadResumesAfterWhatTheSinkHad) {
  Bytes data = RandomBytes(10000);
  ObjectName name = Name(ObjectKind::kData, data);
  ASSERT_TRUE(flaky_->MemoryBackend::Put(name, data).ok());
  flaky_->failures = 2;
  flaky_->stream_fail_after = 3000;
  Bytes received;
  ASSERT_TRUE(backend_
                  ->ReadStream(name, 500, 9000,
                               [&](ByteView piece) {
                                 received.insert(received.end(), piece.begin(), piece.end());
                                 return Status::Ok();
                               })
                  .ok());
  EXPECT_EQ(received, Bytes(data.begin() + 500, data.begin() + 9500));
  // The sink's own error is final.
  flaky_->failures = 0;
  Status refused = backend_->ReadStream(
      name, 0, Backend::kToEnd, [](ByteView) { return Status::NoSpace("restore target full"); });
  EXPECT_EQ(refused.code(), StatusCode::kNoSpace);
  EXPECT_EQ(flaky_->calls, 4);
}

TEST_F(RetryBackendTest, ARemoveWhoseAnswerWasLostCountsAsDone) {
  Bytes data = RandomBytes(100);
  ObjectName name = Name(ObjectKind::kSnapshot, data);
  ASSERT_TRUE(flaky_->MemoryBackend::Put(name, data).ok());
  flaky_->failures = 1;
  flaky_->after_effect = true;
  EXPECT_TRUE(backend_->Remove(name).ok());
  EXPECT_TRUE(flaky_->MemoryBackend::Stat(name).status().IsNotFound());
  // A first attempt that finds nothing is NotFound, as the contract says.
  EXPECT_TRUE(backend_->Remove(name).IsNotFound());
}

// A client with no retry budget (the vault backend's HttpClient, which a
// RetryBackend wraps) makes one attempt and reports its failure as it was,
// without claiming to have given up on retries it never meant to make.
TEST(RetrierTest, NoBudgetMeansOneAttemptAndTheFailureUnchanged) {
  RetryPolicy policy;
  policy.budget_seconds = 0;
  policy.sleep = [](double) { ADD_FAILURE() << "a retrier without budget waited"; };
  Retrier retrier(policy);
  int attempts = 0;
  Status status = retrier.Run([&](int) {
    ++attempts;
    return Status::IOError("connection reset").Retryable();
  });
  EXPECT_EQ(attempts, 1);
  EXPECT_TRUE(status.retryable());
  EXPECT_EQ(status.message(), "connection reset");
  EXPECT_EQ(retrier.retries(), 0u);
}

}  // namespace
}  // namespace ferry
