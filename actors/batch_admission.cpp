#include "actors/batch_admission.hpp"

#include <algorithm>

namespace overseer::actors {

void batch_admission::add(persistence::batch_record batch, std::size_t unfinished) {
  const auto id = batch.id;  // the assignment's right side (the move) is evaluated first
  batches_[id] = state{std::move(batch), 0, {}, unfinished};
}

void batch_admission::reopen(const std::string& batch_id, std::optional<persistence::batch_record> record) {
  if (auto it = batches_.find(batch_id); it != batches_.end()) ++it->second.unfinished;
  else if (record) add(std::move(*record), 1);
}

void batch_admission::readmit(const std::string& batch_id) {
  if (auto it = batches_.find(batch_id); it != batches_.end()) ++it->second.admitted;
}

const persistence::batch_record* batch_admission::find(const std::string& batch_id) const {
  auto it = batches_.find(batch_id);
  return it == batches_.end() ? nullptr : &it->second.record;
}

bool batch_admission::has_room(const state& b) const noexcept {
  return b.record.parallel_limit <= 0 || b.admitted < b.record.parallel_limit;
}

bool batch_admission::admit(const std::string& batch_id, const std::string& job_id) {
  auto it = batches_.find(batch_id);
  if (it == batches_.end()) return true;
  auto& b = it->second;
  if (!has_room(b)) {
    const auto& ids = b.record.job_ids;
    const auto index = static_cast<std::size_t>(std::find(ids.begin(), ids.end(), job_id) - ids.begin());
    b.waiting.emplace(index, job_id);
    return false;
  }
  ++b.admitted;
  return true;
}

batch_admission::ending batch_admission::finished(const std::string& batch_id, job_status status, bool admitted) {
  ending out;
  auto it = batches_.find(batch_id);
  if (it == batches_.end()) return out;
  auto& b = it->second;
  if (admitted && b.admitted > 0) --b.admitted;
  if (b.unfinished > 0) --b.unfinished;
  if (b.record.fail_fast && (status == job_status::failed || status == job_status::timed_out)) {
    b.waiting.clear();
    out.cancel = b.record.job_ids;
  }
  return out;
}

std::optional<std::string> batch_admission::next_admissible(const std::string& batch_id) {
  auto it = batches_.find(batch_id);
  if (it == batches_.end()) return std::nullopt;
  auto& b = it->second;
  if (!b.waiting.empty() && has_room(b)) {
    auto id = b.waiting.begin()->second;
    b.waiting.erase(b.waiting.begin());
    return id;
  }
  if (b.unfinished == 0) batches_.erase(it);
  return std::nullopt;
}

void batch_admission::cancel(const std::string& batch_id) {
  auto it = batches_.find(batch_id);
  if (it == batches_.end()) return;
  it->second.record.cancelled = true;
  it->second.waiting.clear();
}

}  // namespace overseer::actors
