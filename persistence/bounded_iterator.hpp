// An iterator that ends at the edges of the range it walks.
//
// A walk of one prefix (a tool's index entries, a job's log lines, the
// pending webhook deliveries) used to check each key it reached and stop at
// the first one outside the prefix. That ends the walk only at the first
// *live* key past the edge: RocksDB keeps a deleted key until a compaction
// carries its deletion to the bottom level, and an iterator without bounds
// steps over every such key on its way to a live one. So a listing of one
// tool paid for every purged job of the tool sorted beside it, and a scan of
// the pending deliveries for every delivery made since the last compaction.
// With `iterate_lower_bound` / `iterate_upper_bound` set, RocksDB stops at
// the bound instead.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>

#include "persistence/key_layout.hpp"

namespace overseer::persistence {

/// A RocksDB iterator over the keys in [lower, upper) of one column family
/// (an empty bound: none on that side). It owns its bounds: ReadOptions
/// keeps pointers to them for the iterator's life. Neither copied nor moved,
/// for the same reason.
class bounded_iterator {
public:
  bounded_iterator(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* family, std::string lower, std::string upper,
                   const rocksdb::Snapshot* snapshot = nullptr)
      : lower_(std::move(lower)), upper_(std::move(upper)), lower_slice_(lower_), upper_slice_(upper_) {
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot;
    if (!lower_.empty()) ro.iterate_lower_bound = &lower_slice_;
    if (!upper_.empty()) ro.iterate_upper_bound = &upper_slice_;
    it_.reset(db.NewIterator(ro, family));
  }
  /// Over the keys that start with `prefix`.
  static bounded_iterator over_prefix(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* family, std::string_view prefix) {
    return bounded_iterator{db, family, std::string{prefix}, keys::prefix_end(prefix)};
  }
  bounded_iterator(const bounded_iterator&) = delete;
  bounded_iterator& operator=(const bounded_iterator&) = delete;

  rocksdb::Iterator* operator->() const noexcept { return it_.get(); }
  rocksdb::Iterator& operator*() const noexcept { return *it_; }

private:
  std::string lower_, upper_;
  rocksdb::Slice lower_slice_, upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;  // last: destroyed before its bounds
};

}  // namespace overseer::persistence
