// SeedAdoptions: the adoptions of offline seeds that this server runs, each
// on a thread of its own (a seed is terabytes, far longer than a request),
// and the mutex that serializes read-modify-write of seed records.
//
// Every step of an adoption is idempotent (packs already in the repository
// are skipped), so an adoption cut off by a restart runs again when the agent
// asks for it; a seed "adopting" in the store that no thread here works on is
// reported as "interrupted".
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "service/vault_state.h"

namespace ferry {

class SeedAdoptions {
 public:
  explicit SeedAdoptions(VaultState& state) : state_(state) {}
  // Stops every adoption (each stays "adopting" and resumes on request) and
  // waits for their threads.
  ~SeedAdoptions();

  // Held while a seed record is read, changed and saved, and around the
  // calls below marked REQUIRES.
  std::unique_lock<std::mutex> Lock() { return std::unique_lock(mutex_); }

  // Packs examined so far by the running adoption of the seed, nullopt if
  // none runs. REQUIRES: Lock() held.
  std::optional<uint64_t> Running(int64_t machine_id, const std::string& job) const;
  // Starts adopting the seed unless that runs already; the caller has saved
  // it as "adopting". REQUIRES: Lock() held.
  void Start(const MachineRecord& machine, const std::string& job);

  struct Progress {
    int64_t machine_id;
    std::string job;
    uint64_t packs_examined;
  };
  // The running adoptions (for metrics).
  std::vector<Progress> Snapshot();

 private:
  void Adopt(MachineRecord machine, std::string job);

  VaultState& state_;
  std::mutex mutex_;
  // One thread per seed at most; a finished one is joined when its seed is
  // adopted again (it has left `adopting_` by then), all of them at shutdown.
  std::map<std::pair<int64_t, std::string>, std::thread> threads_;
  std::map<std::pair<int64_t, std::string>, uint64_t> adopting_;  // running: packs examined
  std::atomic<bool> stopping_{false};
};

}  // namespace ferry
