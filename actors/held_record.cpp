#include "actors/held_record.hpp"

#include <cassert>
#include <stdexcept>

namespace overseer::actors {

const std::shared_ptr<persistence::job_record>& held_record::get() {
  if (!record_ && !packed_.empty()) {
    auto record = std::make_shared<persistence::job_record>();
    if (auto error = persistence::decode_job_into(packed_, *record); !error.empty())
      throw std::logic_error("a queued job's packed record does not decode: " + error);
    record_ = std::move(record);
    packed_ = {};
  }
  return record_;
}

void held_record::pack() {
  if (record_) pack(persistence::encode(*record_));
}

void held_record::pack(std::string encoded) {
  if (!record_) return;
  assert(encoded == persistence::encode(*record_));
  packed_ = std::move(encoded);
  packed_.shrink_to_fit();
  record_.reset();
}

}  // namespace overseer::actors
