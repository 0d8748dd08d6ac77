// Memory for the few handlers a session has posted at a time, reused.
//
// The stream hub posts a session's drain from the engine's thread, outside
// the I/O threads, where Asio has no per-thread cache for its operations:
// every post cost two mallocs there (the handler's operation and the
// strand's invoker) and two frees on an I/O thread. A session has at most
// one drain and one invoker outstanding, so two slots of its own take both;
// anything larger, or a third at once, falls back to the heap (see Asio's
// "allocation" example, which this follows).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

namespace overseer::http {

class handler_memory {
public:
  handler_memory() = default;
  handler_memory(const handler_memory&) = delete;
  handler_memory& operator=(const handler_memory&) = delete;

  void* allocate(std::size_t size) {
    total_.fetch_add(1, std::memory_order_relaxed);
    if (size <= slot_size)
      for (auto& s : slots_)
        if (!s.in_use.exchange(true, std::memory_order_acquire)) return s.bytes;
    heap_.fetch_add(1, std::memory_order_relaxed);
    return ::operator new(size);
  }

  void deallocate(void* p) noexcept {
    for (auto& s : slots_)
      if (p == s.bytes) {
        s.in_use.store(false, std::memory_order_release);
        return;
      }
    ::operator delete(p);
  }

  /// Allocations asked for, and those the slots could not take (too
  /// large, or both in use): for tests.
  [[nodiscard]] std::uint64_t allocations() const noexcept { return total_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::uint64_t heap_allocations() const noexcept { return heap_.load(std::memory_order_relaxed); }

  static constexpr std::size_t slot_size = 256;

private:
  struct slot {
    alignas(std::max_align_t) unsigned char bytes[slot_size];
    std::atomic<bool> in_use{false};
  };
  std::array<slot, 2> slots_;
  std::atomic<std::uint64_t> total_{0}, heap_{0};
};

/// An allocator over a handler_memory, for asio::bind_allocator and
/// asio::execution::allocator.
template <class T>
class handler_allocator {
public:
  using value_type = T;
  explicit handler_allocator(handler_memory& m) noexcept : memory_(&m) {}
  template <class U>
  handler_allocator(const handler_allocator<U>& other) noexcept : memory_(other.memory_) {}

  T* allocate(std::size_t n) { return static_cast<T*>(memory_->allocate(sizeof(T) * n)); }
  void deallocate(T* p, std::size_t) noexcept { memory_->deallocate(p); }

  template <class U>
  bool operator==(const handler_allocator<U>& other) const noexcept {
    return memory_ == other.memory_;
  }

private:
  template <class>
  friend class handler_allocator;
  handler_memory* memory_;
};

}  // namespace overseer::http
