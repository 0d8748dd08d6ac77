// A job_context for unit tests: records what a tool reports, and lets the
// test set the attempt, params, last checkpoint and the stop flag.
//
//   overseer::test::fake_context ctx({{"seconds", 0}});
//   auto r = body(ctx);
//   CHECK(ctx.progress_reports().size() == 4);
#pragma once

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "overseer/tool.hpp"

namespace overseer::test {

class fake_context final : public job_context {
public:
  explicit fake_context(boost::json::object params = {}, int attempt = 1)
    : params_(std::move(params)), attempt_(attempt) {}

  [[nodiscard]] const std::string& job_id() const noexcept override { return id_; }
  [[nodiscard]] int attempt() const noexcept override { return attempt_; }
  [[nodiscard]] const boost::json::object& params() const noexcept override { return params_; }

  void progress(const overseer::progress& p) override {
    std::lock_guard lock(mutex_);
    progress_.push_back(p);
  }
  void log(log_level level, std::string_view message) override {
    std::lock_guard lock(mutex_);
    logs_.push_back({overseer::clock::now(), level, std::string(message), "tool"});
  }
  void checkpoint(std::string bytes) override {
    std::lock_guard lock(mutex_);
    checkpoints_.push_back(bytes);
    last_checkpoint_ = std::move(bytes);
  }
  [[nodiscard]] std::optional<std::string> last_checkpoint() const override {
    std::lock_guard lock(mutex_);
    return last_checkpoint_;
  }
  [[nodiscard]] bool stop_requested() const noexcept override { return stop_; }
  bool sleep_for(std::chrono::milliseconds d) override {
    std::unique_lock lock(mutex_);
    stop_cv_.wait_for(lock, d, [this] { return stop_.load(); });
    return stop_;
  }

  std::filesystem::path workdir() override {
    std::filesystem::create_directories(workdir_);
    return workdir_;
  }
  void record_process(int process_group, std::uint64_t start_time) override {
    std::lock_guard lock(mutex_);
    processes_.emplace_back(process_group, start_time);
  }

  // Test side. Set attempt and params before the tool runs; the rest is safe
  // from any thread.
  void set_attempt(int attempt) { attempt_ = attempt; }
  void set_params(boost::json::object params) { params_ = std::move(params); }
  void set_last_checkpoint(std::string bytes) {
    std::lock_guard lock(mutex_);
    last_checkpoint_ = std::move(bytes);
  }
  void request_stop() {
    {
      std::lock_guard lock(mutex_);  // under the lock so sleep_for cannot miss it
      stop_ = true;
    }
    stop_cv_.notify_all();
  }
  [[nodiscard]] std::vector<overseer::progress> progress_reports() const {
    std::lock_guard lock(mutex_);
    return progress_;
  }
  [[nodiscard]] std::vector<log_line> logs() const {
    std::lock_guard lock(mutex_);
    return logs_;
  }
  void set_workdir(std::filesystem::path dir) { workdir_ = std::move(dir); }
  [[nodiscard]] std::vector<std::pair<int, std::uint64_t>> processes() const {
    std::lock_guard lock(mutex_);
    return processes_;
  }
  [[nodiscard]] std::vector<std::string> checkpoints() const {
    std::lock_guard lock(mutex_);
    return checkpoints_;
  }

private:
  std::string id_ = "test-job";
  boost::json::object params_;
  int attempt_;
  mutable std::mutex mutex_;
  std::condition_variable stop_cv_;
  std::atomic<bool> stop_ = false;
  std::optional<std::string> last_checkpoint_;
  std::vector<overseer::progress> progress_;
  std::vector<log_line> logs_;
  std::vector<std::string> checkpoints_;
  std::filesystem::path workdir_ = std::filesystem::temp_directory_path() / "overseer-fake-workdir";
  std::vector<std::pair<int, std::uint64_t>> processes_;
};

}  // namespace overseer::test
