// ProgressLine: while a long command runs, redraws one status line on a
// terminal (stderr) several times a second, or prints a JSON status object
// every second with --json. Silent otherwise (pipes, cron, --quiet).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "cli/global_options.h"

namespace ferry {

class ProgressLine {
 public:
  // `render_text(elapsed_seconds)` gives the terminal line, `render_json(elapsed)` the object.
  ProgressLine(const GlobalOptions& options, std::function<std::string(double)> render_text,
               std::function<nlohmann::json(double)> render_json);
  ~ProgressLine();  // stops and clears the line

 private:
  void Loop();

  std::function<std::string(double)> render_text_;
  std::function<nlohmann::json(double)> render_json_;
  bool terminal_ = false;
  bool json_ = false;
  std::chrono::steady_clock::time_point started_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

// "12.3% 1,234 files 1.2 GiB / 2.1 GiB 180 MiB/s ETA 0:05" style pieces.
std::string RateAndEta(uint64_t done, uint64_t total, double elapsed, bool total_known);

}  // namespace ferry
