// The Backend contract (tests/unit/backend_contract.cc) on the local, in-memory
// and registry-opened backends, and what is particular to LocalBackend.
#include <gtest/gtest.h>

#include <cstdio>

#include "backend_contract.h"
#include "storage/backend_registry.h"
#include "storage/local_backend.h"
#include "storage/memory_backend.h"
#include "test_util.h"

namespace ferry {
namespace {

INSTANTIATE_TEST_SUITE_P(
    Backends, BackendContractTest,
    ::testing::Values(BackendUnderTest{"Local",
                                       [](const std::string& dir) -> std::unique_ptr<Backend> {
                                         return std::make_unique<LocalBackend>(dir);
                                       }},
                      BackendUnderTest{"Memory",
                                       [](const std::string&) -> std::unique_ptr<Backend> {
                                         return std::make_unique<MemoryBackend>();
                                       }},
                      // Through the registry, as every command opens storage.
                      BackendUnderTest{"RegistryLocal",
                                       [](const std::string& dir) -> std::unique_ptr<Backend> {
                                         auto opened = OpenBackend("local:" + dir);
                                         return opened.ok() ? std::move(*opened) : nullptr;
                                       }},
                      BackendUnderTest{"RegistryMemory",
                                       [](const std::string& dir) -> std::unique_ptr<Backend> {
                                         auto opened = OpenBackend("memory://" + dir);
                                         return opened.ok() ? std::move(*opened) : nullptr;
                                       }}),
    BackendName);

class LocalBackendTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(backend_.Create().ok()); }
  TempDir dir_;
  LocalBackend backend_{dir_.path() + "/repo"};
};

TEST_F(LocalBackendTest, TempFilesAreNeverListed) {
  // A crash between create and rename leaves a temp file behind.
  FILE* f = std::fopen((dir_.path() + "/repo/index/abc.tmp-123").c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  size_t count = 0;
  ASSERT_TRUE(backend_
                  .List(ObjectKind::kIndex,
                        [&](const std::string&, uint64_t) {
                          ++count;
                          return Status::Ok();
                        })
                  .ok());
  EXPECT_EQ(count, 0u);
}

}  // namespace
}  // namespace ferry
