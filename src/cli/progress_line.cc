#include "cli/progress_line.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace ferry {

ProgressLine::ProgressLine(const GlobalOptions& options,
                           std::function<std::string(double)> render_text,
                           std::function<nlohmann::json(double)> render_json)
    : render_text_(std::move(render_text)),
      render_json_(std::move(render_json)),
      terminal_(!options.quiet && !options.json && isatty(STDERR_FILENO)),
      json_(options.json && !options.quiet),
      started_(std::chrono::steady_clock::now()) {
  if (terminal_ || json_) thread_ = std::thread([this] { Loop(); });
}

ProgressLine::~ProgressLine() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (terminal_) std::cerr << "\r\033[K" << std::flush;
}

void ProgressLine::Loop() {
  auto interval = std::chrono::milliseconds(terminal_ ? 200 : 1000);
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, interval, [&] { return stopping_; })) {
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    if (terminal_) {
      std::string line = render_text_(elapsed);
      int width = 120;
      if (line.size() > static_cast<size_t>(width)) line.resize(static_cast<size_t>(width));
      std::cerr << "\r\033[K" << line << std::flush;
    } else {
      nlohmann::json status = render_json_(elapsed);
      status["message_type"] = "status";
      status["seconds_elapsed"] = elapsed;
      PrintJson(status);
    }
  }
}

std::string RateAndEta(uint64_t done, uint64_t total, double elapsed, bool total_known) {
  double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
  std::string text = HumanBytes(static_cast<uint64_t>(rate)) + "/s";
  if (total_known && rate > 0 && total > done)
    text += ", ETA " + HumanDuration(static_cast<double>(total - done) / rate);
  return text;
}

}  // namespace ferry
