// Counters a running backup updates and the CLI reads to draw its progress
// line; plain atomics, so reading never slows the pipeline down.
#pragma once

#include <atomic>
#include <cstdint>

namespace ferry {

struct BackupProgress {
  std::atomic<uint64_t> files_done{0};
  std::atomic<uint64_t> bytes_done{0};   // of file sizes, read or found unchanged
  std::atomic<uint64_t> bytes_read{0};   // actually read from disk
  std::atomic<uint64_t> files_total{0};  // from the scanner; grows while it runs
  std::atomic<uint64_t> bytes_total{0};
  std::atomic<bool> scan_finished{false};
  std::atomic<uint64_t> warnings{0};
};

}  // namespace ferry
