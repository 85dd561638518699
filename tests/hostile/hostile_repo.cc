// ferry_hostile_repo: writes hostile objects into a local repository for the
// e2e tests (tests/e2e/hostile_*.sh). The password comes from FERRY_PASSWORD,
// or the first line of FERRY_PASSWORD_FILE.
//
//   ferry_hostile_repo REPO deep-tree DEPTH           prints the snapshot ID
//   ferry_hostile_repo REPO damaged SNAPSHOT          (ID prefix or latest) prints the new ID
//   ferry_hostile_repo REPO huge-file SIZE            prints the snapshot ID
//   ferry_hostile_repo REPO lock shared|exclusive HOST PID AGE_SECONDS
//                                                     prints the lock ID
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "hostile_fixtures.h"
#include "storage/local_backend.h"
#include "util/clock.h"

namespace {

int Fail(const std::string& message) {
  std::cerr << "ferry_hostile_repo: " << message << std::endl;
  return 1;
}

int Usage() {
  return Fail(
      "usage: ferry_hostile_repo REPO deep-tree DEPTH | damaged SNAPSHOT | huge-file SIZE | "
      "lock shared|exclusive HOST PID AGE_SECONDS");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ferry;
  if (argc < 3) return Usage();
  std::string password;
  if (const char* file = std::getenv("FERRY_PASSWORD_FILE"); file && *file) {
    std::ifstream in(file);
    std::getline(in, password);
  } else if (const char* env = std::getenv("FERRY_PASSWORD")) {
    password = env;
  }
  if (password.empty()) return Fail("set FERRY_PASSWORD_FILE or FERRY_PASSWORD");
  auto repository = Repository::Open(std::make_unique<LocalBackend>(argv[1]), password);
  if (!repository.ok()) return Fail(repository.status().ToString());
  Status loaded = (*repository)->LoadIndex();
  if (!loaded.ok()) return Fail(loaded.ToString());
  std::string command = argv[2];
  Result<Id> written = Status::InvalidArgument("unknown command " + command);
  if (command == "deep-tree" && argc == 4) {
    written = hostile::WriteDeepTreeSnapshot(**repository, std::stoul(argv[3]));
  } else if (command == "damaged" && argc == 4) {
    auto base = (*repository)->FindSnapshot(argv[3]);
    if (!base.ok()) return Fail(base.status().ToString());
    written = hostile::WriteDamagedSnapshot(**repository, base->id);
  } else if (command == "huge-file" && argc == 4) {
    written = hostile::WriteHugeFileSnapshot(**repository, std::stoull(argv[3]));
  } else if (command == "lock" && argc == 7) {
    int64_t age_ns = std::stoll(argv[6]) * 1000000000;
    written = hostile::WriteLock(**repository, std::string(argv[3]) == "exclusive", argv[4],
                                 std::stoll(argv[5]), Clock::System().NowNanos() - age_ns);
  } else {
    return Usage();
  }
  if (!written.ok()) return Fail(written.status().ToString());
  std::cout << written->Hex() << std::endl;
  return 0;
}
