#include "postgres_cluster.h"

#include <libpq-fe.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>

#include "test_util.h"

namespace ferry {

namespace {

// A cluster this process started: stopped (and its directory removed) at exit.
struct OwnCluster {
  std::string state;
  ~OwnCluster() {
    std::string command = "bash '" FERRY_POSTGRES_SCRIPT "' stop '" + state + "' >/dev/null 2>&1";
    if (std::system(command.c_str()) != 0) {
      // Nothing to do at exit but leave the directory for a look.
    }
    std::error_code ignored;
    std::filesystem::remove_all(state, ignored);
  }
};

Result<std::string> StartOwnCluster() {
  static std::unique_ptr<OwnCluster> own;
  std::string pattern =
      (std::filesystem::temp_directory_path() / "ferry-postgres-state-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) return Status::IOError("cannot make a state directory");
  own = std::make_unique<OwnCluster>(OwnCluster{pattern});
  std::string command = "bash '" FERRY_POSTGRES_SCRIPT "' start '" + pattern + "' >/dev/null";
  int rc = std::system(command.c_str());
  if (WIFEXITED(rc) && WEXITSTATUS(rc) == 77)
    return Status::Unsupported(
        "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): apt-get install "
        "postgresql, or run scripts/install-deps.sh");
  if (rc != 0)
    return Status::IOError(std::string(FERRY_POSTGRES_SCRIPT) +
                           " start failed (its messages are above)");
  return ReadEnvFile(pattern + "/env")["POSTGRES_URL"];
}

}  // namespace

Result<PostgresCluster*> PostgresCluster::Get() {
  static std::mutex mutex;
  static std::unique_ptr<PostgresCluster> cluster;
  static Status failure;
  std::lock_guard lock(mutex);
  if (cluster) return cluster.get();
  if (!failure.ok()) return failure;
  auto fixture = ReadEnvFile(FERRY_POSTGRES_ENV);
  std::string url;
  if (!fixture["POSTGRES_SKIP"].empty()) {
    failure = Status::Unsupported(fixture["POSTGRES_SKIP"]);
    return failure;
  }
  if (!fixture["POSTGRES_URL"].empty()) {
    url = fixture["POSTGRES_URL"];
  } else {
    auto started = StartOwnCluster();
    if (!started.ok()) {
      failure = started.status();
      return failure;
    }
    url = *started;
  }
  cluster.reset(new PostgresCluster(url));
  return cluster.get();
}

Result<std::string> PostgresCluster::CreateDatabase() {
  // Unique across the test processes that share the fixture's cluster.
  std::string name = "test_" + std::to_string(::getpid()) + "_" + std::to_string(++databases_);
  PGconn* connection = PQconnectdb(url_.c_str());
  std::unique_ptr<PGconn, void (*)(PGconn*)> closer(connection, PQfinish);
  if (PQstatus(connection) != CONNECTION_OK)
    return Status::IOError("cannot connect to " + url_ + ": " + PQerrorMessage(connection));
  PGresult* result = PQexec(connection, ("CREATE DATABASE " + name).c_str());
  bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
  std::string message = PQresultErrorMessage(result);
  PQclear(result);
  if (!ok) return Status::IOError("CREATE DATABASE " + name + ": " + message);
  return url_.substr(0, url_.rfind('/') + 1) + name;
}

}  // namespace ferry
