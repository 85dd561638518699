// The Backend contract (storage/backend.h) as a value-parameterised suite:
// each backend's test binary instantiates it (INSTANTIATE_TEST_SUITE_P) with
// a maker of fresh, empty backends, so that local, in-memory, vault, Azure
// and S3 storage all pass the same tests.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "storage/backend.h"
#include "test_util.h"

namespace ferry {

// Each backend the suite runs on: a name for the test's output and a maker
// of a fresh, empty backend (`dir` is a scratch directory of the test's own;
// a service-backed maker uses a new prefix each time). The suite calls Create().
struct BackendUnderTest {
  const char* name;
  std::function<std::unique_ptr<Backend>(const std::string& dir)> make;
  // The test server shows an object under its name while its bytes are
  // still arriving (s3rver writes objects in place; real S3, MinIO and Ceph
  // RGW do not): ListingWhileWritingSeesOnlyWholeObjects would test the
  // server, not the backend, and is skipped.
  bool server_writes_in_place = false;
};

// gtest shows a parameter by this (ctest -N, failures): its name, not its bytes.
inline void PrintTo(const BackendUnderTest& backend, std::ostream* out) { *out << backend.name; }

class BackendContractTest : public ::testing::TestWithParam<BackendUnderTest> {
 protected:
  void SetUp() override;
  ObjectName Name(ObjectKind kind, ByteView data);

  TempDir dir_;
  std::unique_ptr<Backend> backend_;
};

// For INSTANTIATE_TEST_SUITE_P's last argument.
std::string BackendName(const ::testing::TestParamInfo<BackendUnderTest>& info);

}  // namespace ferry
