// A job record the scheduler holds for a job no job actor holds yet: as
// the record itself, or, while the job waits deep in the queue, as its
// encoded bytes (the codec's, the same bytes the store holds), decoded
// again when the scheduler next reads it. A job record in memory costs
// about 900 bytes plus its strings; encoded, a no-op job's costs about
// 250: at a million queued jobs that is most of the engine's memory.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "persistence/codec.hpp"

namespace overseer::actors {

class held_record {
public:
  held_record() = default;
  held_record(std::shared_ptr<persistence::job_record> r) : record_(std::move(r)) {}

  /// The record, decoded first if it was packed. The same object until the
  /// next pack(). Throws std::logic_error if packed bytes do not decode
  /// (the codec round-trips every record, so that is a defect).
  const std::shared_ptr<persistence::job_record>& get();
  /// Replaces the record.
  void set(std::shared_ptr<persistence::job_record> r) {
    record_ = std::move(r);
    packed_ = {};
  }
  /// Keeps only the encoded record. A holder of the record from before
  /// keeps that object, which get() no longer returns: pack only a record
  /// nobody else changes (no job actor holds it). Times come back in whole
  /// milliseconds, as the store holds them.
  void pack();
  /// The same, with `encoded` = persistence::encode(*get()) already made
  /// (the bytes of the write that created it): no second encode.
  void pack(std::string encoded);
  [[nodiscard]] bool packed() const noexcept { return !record_ && !packed_.empty(); }

private:
  std::shared_ptr<persistence::job_record> record_;
  std::string packed_;
};

}  // namespace overseer::actors
