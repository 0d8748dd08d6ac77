#include "http/handler_memory.hpp"

#include <vector>

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <catch2/catch.hpp>

using overseer::http::handler_allocator;
using overseer::http::handler_memory;
namespace net = boost::asio;

// Posted from outside run(), as the hub posts a session's drain from the
// engine's thread, where Asio has no per-thread cache of its own.
TEST_CASE("a post to an idle strand takes its handler and the strand's invoker from the slots", "[http][stream]") {
  net::io_context ioc{1};
  auto strand = net::make_strand(ioc);
  handler_memory memory;

  SECTION("one at a time, as the hub posts a drain: never the heap") {
    int ran = 0;
    for (int i = 0; i < 1000; ++i) {
      net::post(strand, net::bind_allocator(handler_allocator<void>(memory), [&] { ++ran; }));
      ioc.restart();
      ioc.poll();  // the invoker, then the handler: the strand is idle again
    }
    CHECK(ran == 1000);
    CHECK(memory.allocations() == 2000);  // the handler's operation and the strand's invoker
    CHECK(memory.heap_allocations() == 0);
  }
  SECTION("more at once than the slots hold: the rest from the heap, every one runs, in order") {
    std::vector<int> order;
    for (int i = 0; i < 8; ++i)
      net::post(strand, net::bind_allocator(handler_allocator<void>(memory), [&order, i] { order.push_back(i); }));
    // The first post scheduled the strand (an invoker); the others joined it.
    CHECK(memory.allocations() == 9);
    CHECK(memory.heap_allocations() == 7);
    ioc.poll();
    CHECK(order == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7});
  }
}

TEST_CASE("handler_memory gives a slot back on deallocate and takes nothing larger than a slot", "[http]") {
  handler_memory memory;
  void* a = memory.allocate(64);
  void* b = memory.allocate(64);
  void* c = memory.allocate(64);  // both slots taken
  CHECK(memory.heap_allocations() == 1);
  memory.deallocate(a);
  void* d = memory.allocate(64);
  CHECK(d == a);  // the freed slot again
  CHECK(memory.heap_allocations() == 1);
  void* big = memory.allocate(handler_memory::slot_size + 1);
  CHECK(memory.heap_allocations() == 2);
  for (void* p : {b, c, d, big}) memory.deallocate(p);
}
