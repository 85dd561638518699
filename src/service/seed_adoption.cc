#include "service/seed_adoption.h"

#include <cstdio>
#include <functional>

#include "seed/ingest_container.h"
#include "seed/pack_copy.h"

namespace ferry {

SeedAdoptions::~SeedAdoptions() {
  stopping_ = true;
  for (auto& [key, thread] : threads_) thread.join();
}

std::optional<uint64_t> SeedAdoptions::Running(int64_t machine_id, const std::string& job) const {
  auto it = adopting_.find({machine_id, job});
  if (it == adopting_.end()) return std::nullopt;
  return it->second;
}

void SeedAdoptions::Start(const MachineRecord& machine, const std::string& job) {
  auto key = std::make_pair(machine.id, job);
  if (adopting_.count(key)) return;
  adopting_[key] = 0;
  std::thread& thread = threads_[key];
  if (thread.joinable()) thread.join();  // the previous adoption of this seed, finished
  thread = std::thread([this, machine, job] { Adopt(machine, job); });
}

std::vector<SeedAdoptions::Progress> SeedAdoptions::Snapshot() {
  std::lock_guard lock(mutex_);
  std::vector<Progress> running;
  for (const auto& [key, examined] : adopting_)
    running.push_back({key.first, key.second, examined});
  return running;
}

void SeedAdoptions::Adopt(MachineRecord machine, std::string job) {
  MetadataStore& store = state_.store();
  auto finish = [&](const std::function<void(SeedRecord&)>& update) {
    std::lock_guard lock(mutex_);
    auto seed = store.LoadSeed(machine.id, job);
    if (seed.ok()) {
      update(*seed);
      Status status = store.SaveSeed(machine.id, *seed);
      if (!status.ok())
        std::fprintf(stderr, "seed %s: %s\n", job.c_str(), status.ToString().c_str());
    }
    adopting_.erase({machine.id, job});
  };
  SeedRecord seed;
  {
    std::lock_guard lock(mutex_);
    auto loaded = store.LoadSeed(machine.id, job);
    if (!loaded.ok()) return finish([](SeedRecord&) {});
    seed = std::move(*loaded);
  }
  auto repository = state_.MachineBackend(machine);
  if (!repository.ok()) {
    std::fprintf(stderr, "seed %s: %s\n", job.c_str(), repository.status().ToString().c_str());
    return finish([](SeedRecord& s) { s.state = SeedState::kAwaiting; });
  }
  auto container = state_.OpenContainer(seed);
  if (!container.ok()) {
    std::fprintf(stderr, "seed %s: %s\n", job.c_str(), container.status().ToString().c_str());
    return finish([](SeedRecord& s) { s.state = SeedState::kAwaiting; });
  }
  uint64_t copied = 0, copied_bytes = 0, copied_server_side = 0;
  std::vector<Id> missing, corrupt;
  for (const SeedPack& pack : seed.packs) {
    if (stopping_) return finish([](SeedRecord&) {});  // stays "adopting"; resumes on request
    if (!(*repository)->Stat({ObjectKind::kData, pack.id.Hex()}).ok()) {
      bool server_side = false;
      auto size = CopyVerifiedPackServerSide(**container, **repository, pack.id, &server_side);
      if (size.ok()) {
        ++copied;
        copied_bytes += *size;
        copied_server_side += server_side;
      } else if (size.status().IsNotFound()) {
        missing.push_back(pack.id);
      } else if (size.status().code() == StatusCode::kCorruption) {
        corrupt.push_back(pack.id);
      } else {
        state_.StorageFailure("adopt", size.status());
        std::fprintf(stderr, "seed %s: %s\n", job.c_str(), size.status().ToString().c_str());
        return finish([](SeedRecord& s) { s.state = SeedState::kAwaiting; });
      }
    }
    std::lock_guard lock(mutex_);
    ++adopting_[{machine.id, job}];
  }
  int64_t now = state_.clock().NowNanos();
  // The operator's record of where the bytes went (no secret: IDs and counts).
  std::fprintf(stderr,
               "seed %s of %s/%s adopted: %llu pack(s) from the container, %llu of them copied "
               "server-side; %zu missing, %zu corrupt\n",
               job.c_str(), machine.vault.c_str(), machine.name.c_str(),
               static_cast<unsigned long long>(copied),
               static_cast<unsigned long long>(copied_server_side), missing.size(), corrupt.size());
  if (copied == 0 && !seed.packs.empty() && missing.size() == seed.packs.size()) {
    auto location = ContainerLocation(state_.StorageRoot(), seed.storage_account, seed.container);
    std::fprintf(stderr,
                 "warning: seed %s: none of its packs is in %s, where the vault adopts from: was "
                 "it ingested elsewhere (ferry datacenter ingest's last line names where it "
                 "copied)?\n",
                 job.c_str(), location.ok() ? location->c_str() : "its container");
  }
  finish([&](SeedRecord& s) {
    s.state = SeedState::kAdopted;
    s.adopted_ns = now;
    s.packs_from_container += copied;
    s.bytes_from_container += copied_bytes;
    s.missing = missing;
    s.corrupt = corrupt;
  });
}

}  // namespace ferry
