// A local repository in a scratch directory, with a KDF cheap enough for
// tests, and direct access to its stored objects (what an attacker or a
// failing disk changes behind the repository's back).
#pragma once

#include <gtest/gtest.h>

#include "crypto/hash.h"
#include "repo/repository.h"
#include "storage/local_backend.h"
#include "test_util.h"
#include "util/file_util.h"

namespace ferry {

class RepositoryFixture : public ::testing::Test {
 protected:
  static constexpr Argon2Params kFastKdf{1, 8 << 20};

  std::string Location() const { return dir_.path() + "/repo"; }
  std::unique_ptr<Repository> Init() {
    auto repository = Repository::Init(std::make_unique<LocalBackend>(Location()), "pw", kFastKdf);
    EXPECT_TRUE(repository.ok()) << repository.status().ToString();
    return repository.ok() ? std::move(*repository) : nullptr;
  }
  std::unique_ptr<Repository> Open(bool load_index = false) {
    auto repository = Repository::Open(std::make_unique<LocalBackend>(Location()), "pw");
    EXPECT_TRUE(repository.ok()) << repository.status().ToString();
    if (!repository.ok()) return nullptr;
    if (load_index) {
      EXPECT_TRUE((*repository)->LoadIndex().ok());
    }
    return std::move(*repository);
  }
  // What a machine token can do: store any bytes under their SHA-256 name.
  Id Plant(ObjectKind kind, const Bytes& bytes) {
    Id id = Sha256(bytes);
    EXPECT_TRUE(LocalBackend(Location()).Put({kind, id.Hex()}, bytes).ok());
    return id;
  }
  std::string PathOf(ObjectKind kind, const Id& id) const {
    return Location() + "/" + ObjectName{kind, id.Hex()}.Path();
  }
  // A copy of a stored object with one bit flipped, under its own correct name.
  Id PlantFlippedCopy(ObjectKind kind, const Id& of) {
    auto bytes = LocalBackend(Location()).Get({kind, of.Hex()}, 0, Backend::kToEnd);
    EXPECT_TRUE(bytes.ok());
    if (!bytes.ok()) return of;
    (*bytes)[bytes->size() / 2] ^= 1;
    return Plant(kind, *bytes);
  }
  // Flips the lowest bit of the byte at `offset` (-1: the middle one).
  void FlipInPlace(ObjectKind kind, const Id& id, int64_t offset = -1) {
    std::string path = PathOf(kind, id);
    auto bytes = ReadWholeFile(path);
    ASSERT_TRUE(bytes.ok());
    size_t at = offset < 0 ? bytes->size() / 2 : static_cast<size_t>(offset);
    ASSERT_LT(at, bytes->size());
    (*bytes)[at] ^= 1;
    ASSERT_TRUE(WriteFileAtomic(path, *bytes, 0600).ok());
  }
  std::vector<Id> Names(ObjectKind kind) const {
    LocalBackend backend(Location());
    auto names = ListNames(backend, kind);
    EXPECT_TRUE(names.ok());
    std::vector<Id> ids;
    if (names.ok())
      for (const std::string& name : *names) ids.push_back(*Id::FromHex(name));
    return ids;
  }

  TempDir dir_;
};

}  // namespace ferry
