// A PostgreSQL cluster for tests: the one the CTest fixture "postgres"
// started (tests/servers/postgres.sh, its env file at FERRY_POSTGRES_ENV), or,
// when the test binary runs on its own, one it starts itself with the same
// script and stops at exit. Each test takes a fresh database of its own.
#pragma once

#include <string>

#include "util/status.h"

namespace ferry {

class PostgresCluster {
 public:
  // The cluster of this process, started on first use. Unsupported (with
  // the reason, for GTEST_SKIP) when PostgreSQL is not installed; any other
  // error when it is but would not start.
  static Result<PostgresCluster*> Get();

  // The URL of a new, empty database in the cluster.
  Result<std::string> CreateDatabase();

  const std::string& url() const { return url_; }

 private:
  explicit PostgresCluster(std::string url) : url_(std::move(url)) {}
  std::string url_;  // the "ferry" database
  int databases_ = 0;
};

}  // namespace ferry
