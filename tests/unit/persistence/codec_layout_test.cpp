// The stored bytes of each record type, pinned: the codec's field lists
// (persistence/codec.cpp) must write exactly what this build writes, and
// read back what earlier builds wrote (the format 2 samples: a data
// directory from before owners existed opens, its records owned by ""; the
// format 3 samples: from before trace ids, its jobs without one; format 4:
// before a job's history and small result moved into its record; format 5:
// before worker nodes). The expected bytes were written by the codec before its field
// order was defined once for encode and decode; a change to the layout must
// bump format_version and add a sample here, never alter one.
#include <string>

#include <catch2/catch.hpp>

#include "persistence/codec.hpp"
#include "unit/persistence/codec_samples.hpp"

using namespace overseer;
using namespace overseer::persistence;

namespace {

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 0xF];
  }
  return out;
}

std::string unhex(std::string_view text) {
  std::string out;
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (std::size_t i = 0; i + 1 < text.size(); i += 2)
    out.push_back(static_cast<char>(nibble(text[i]) << 4 | nibble(text[i + 1])));
  return out;
}

// 374 bytes
constexpr std::string_view job_bytes =
      "4a021e0000006a6f625f30314d383830504845314631474e35345436544553373237373306000000"
      "72656e64657205000000322e312e30070000006e696768746c790d0000007b226672616d6573223a"
      "32347d090000000200000003000000656e760400000070726f64040000007465616d030000006766"
      "78905f01000000000004000000fa000000000000003075000000000000000000000000f83f01a800"
      "0000060000007265712d34320202000000010000000000000000c042400300000008000000060000"
      "00656e636f6465011b24f3cf8b0100000b0000006578697420636f646520330168e5cf8b01000001"
      "a2eee6cf8b010000014375e8cf8b01000001e4fbe9cf8b0100000105000000636b00707492100000"
      "b168de3a000000000800000062617463685f303102000000050000006a6f625f61050000006a6f62"
      "5f62018582ebcf8b0100000106000000633066666565012609edcf8b010000070000006a6f625f73"
      "7263efcdab8967452301fa3a6984";

// 40 bytes
constexpr std::string_view transition_bytes =
      "5402010106e76be5cf8b010000030000000f000000646561646c696e6520706173736564c5dfeb80";

// 36 bytes
constexpr std::string_view log_bytes =
      "4c02f469e5cf8b01000004090000006469736b2066756c6c04000000746f6f6cb08660e4";

// 126 bytes
constexpr std::string_view event_bytes =
      "450201000000ffffffff050000006a6f625f7801096be5cf8b010000010001010000000700000073"
      "7461727465640000000000e05840090000000a0000000600000075706c6f616401e86be5cf8b0100"
      "000204000000736c6f770600000072656e6465720800000062617463685f303106000000656e6769"
      "6e65398e5637";

// 65 bytes
constexpr std::string_view batch_bytes =
      "42020800000062617463685f3031070000006e696768746c7902000000050000006a6f625f610500"
      "00006a6f625f6202000000017b68e5cf8b01000001b0604de3";

// 48 bytes
constexpr std::string_view cache_bytes =
      "4302050000006a6f625f6105000000736c6565707b68e5cf8b0100007bc40bd58b010000d2040000"
      "000000008b5aff70";

// Format 3 (the owner: a job's, an event's and a batch's, "alice" here;
// the other types only carry the new version byte).
// 383 bytes
constexpr std::string_view job_bytes_v3 =
      "4a031e0000006a6f625f30314d383830504845314631474e35345436544553373237373306000000"
      "72656e64657205000000322e312e30070000006e696768746c790d0000007b226672616d6573223a"
      "32347d090000000200000003000000656e760400000070726f64040000007465616d030000006766"
      "78905f01000000000004000000fa000000000000003075000000000000000000000000f83f01a800"
      "0000060000007265712d34320202000000010000000000000000c042400300000008000000060000"
      "00656e636f6465011b24f3cf8b0100000b0000006578697420636f646520330168e5cf8b01000001"
      "a2eee6cf8b010000014375e8cf8b01000001e4fbe9cf8b0100000105000000636b00707492100000"
      "b168de3a000000000800000062617463685f303102000000050000006a6f625f61050000006a6f62"
      "5f62018582ebcf8b0100000106000000633066666565012609edcf8b010000070000006a6f625f73"
      "7263efcdab896745230105000000616c696365ad9bac8a";

// 40 bytes
constexpr std::string_view transition_bytes_v3 =
      "5403010106e76be5cf8b010000030000000f000000646561646c696e65207061737365640dc8754f";

// 36 bytes
constexpr std::string_view log_bytes_v3 =
      "4c03f469e5cf8b01000004090000006469736b2066756c6c04000000746f6f6c616e87ea";

// 135 bytes
constexpr std::string_view event_bytes_v3 =
      "450301000000ffffffff050000006a6f625f7801096be5cf8b010000010001010000000700000073"
      "7461727465640000000000e05840090000000a0000000600000075706c6f616401e86be5cf8b0100"
      "000204000000736c6f770600000072656e6465720800000062617463685f303106000000656e6769"
      "6e6505000000616c6963651e40d7e9";

// 74 bytes
constexpr std::string_view batch_bytes_v3 =
      "42030800000062617463685f3031070000006e696768746c7902000000050000006a6f625f610500"
      "00006a6f625f6202000000017b68e5cf8b0100000105000000616c696365747bb4b5";

// 48 bytes
constexpr std::string_view cache_bytes_v3 =
      "4303050000006a6f625f6105000000736c6565707b68e5cf8b0100007bc40bd58b010000d2040000"
      "0000000070acec37";

// Format 4 (the trace id: a job's and an event's, besides the owner "alice";
// the other types only carry the new version byte).
// 419 bytes
constexpr std::string_view job_bytes_v4 =
      "4a041e0000006a6f625f30314d383830504845314631474e35345436544553373237373306000000"
      "72656e64657205000000322e312e30070000006e696768746c790d0000007b226672616d6573223a"
      "32347d090000000200000003000000656e760400000070726f64040000007465616d030000006766"
      "78905f01000000000004000000fa000000000000003075000000000000000000000000f83f01a800"
      "0000060000007265712d34320202000000010000000000000000c042400300000008000000060000"
      "00656e636f6465011b24f3cf8b0100000b0000006578697420636f646520330168e5cf8b01000001"
      "a2eee6cf8b010000014375e8cf8b01000001e4fbe9cf8b0100000105000000636b00707492100000"
      "b168de3a000000000800000062617463685f303102000000050000006a6f625f61050000006a6f62"
      "5f62018582ebcf8b0100000106000000633066666565012609edcf8b010000070000006a6f625f73"
      "7263efcdab896745230105000000616c696365200000003462663932663335373762333464613661"
      "3363653932396430653065343733365cea95f7";
// 40 bytes
constexpr std::string_view transition_bytes_v4 =
      "5404010106e76be5cf8b010000030000000f000000646561646c696e6520706173736564b6a53c4c";
// 36 bytes
constexpr std::string_view log_bytes_v4 =
      "4c04f469e5cf8b01000004090000006469736b2066756c6c04000000746f6f6c56f430c2";
// 171 bytes
constexpr std::string_view event_bytes_v4 =
      "450401000000ffffffff050000006a6f625f7801096be5cf8b010000010001010000000700000073"
      "7461727465640000000000e05840090000000a0000000600000075706c6f616401e86be5cf8b0100"
      "000204000000736c6f770600000072656e6465720800000062617463685f303106000000656e6769"
      "6e6505000000616c6963652000000034626639326633353737623334646136613363653932396430"
      "653065343733367d58de66";
// 74 bytes
constexpr std::string_view batch_bytes_v4 =
      "42040800000062617463685f3031070000006e696768746c7902000000050000006a6f625f610500"
      "00006a6f625f6202000000017b68e5cf8b0100000105000000616c696365c3043df3";
// 48 bytes
constexpr std::string_view cache_bytes_v4 =
      "4304050000006a6f625f6105000000736c6565707b68e5cf8b0100007bc40bd58b010000d2040000"
      "00000000d06ae639";

// Format 5 (a job's history after its creation, here one transition, and
// its inline result {"n":1}; an event block, here two copies of the
// format-4 event; the other types only carry the new version byte).
// 469 bytes
constexpr std::string_view job_bytes_v5 =
      "4a051e0000006a6f625f30314d383830504845314631474e35345436544553373237373306000000"
      "72656e64657205000000322e312e30070000006e696768746c790d0000007b226672616d6573223a"
      "32347d090000000200000003000000656e760400000070726f64040000007465616d030000006766"
      "78905f01000000000004000000fa000000000000003075000000000000000000000000f83f01a800"
      "0000060000007265712d34320202000000010000000000000000c042400300000008000000060000"
      "00656e636f6465011b24f3cf8b0100000b0000006578697420636f646520330168e5cf8b01000001"
      "a2eee6cf8b010000014375e8cf8b01000001e4fbe9cf8b0100000105000000636b00707492100000"
      "b168de3a000000000800000062617463685f303102000000050000006a6f625f61050000006a6f62"
      "5f62018582ebcf8b0100000106000000633066666565012609edcf8b010000070000006a6f625f73"
      "7263efcdab896745230105000000616c696365200000003462663932663335373762333464613661"
      "33636539323964306530653437333601000000010106e76be5cf8b010000030000000f0000006465"
      "61646c696e652070617373656401070000007b226e223a317d109197af";
// 40 bytes
constexpr std::string_view transition_bytes_v5 =
      "5405010106e76be5cf8b010000030000000f000000646561646c696e65207061737365647eb2a283";
// 36 bytes
constexpr std::string_view log_bytes_v5 =
      "4c05f469e5cf8b01000004090000006469736b2066756c6c04000000746f6f6c871cd7cc";
// 171 bytes
constexpr std::string_view event_bytes_v5 =
      "450501000000ffffffff050000006a6f625f7801096be5cf8b010000010001010000000700000073"
      "7461727465640000000000e05840090000000a0000000600000075706c6f616401e86be5cf8b0100"
      "000204000000736c6f770600000072656e6465720800000062617463685f303106000000656e6769"
      "6e6505000000616c6963652000000034626639326633353737623334646136613363653932396430"
      "65306534373336643ca049";
// 74 bytes
constexpr std::string_view batch_bytes_v5 =
      "42050800000062617463685f3031070000006e696768746c7902000000050000006a6f625f610500"
      "00006a6f625f6202000000017b68e5cf8b0100000105000000616c696365bf783826";
// 48 bytes
constexpr std::string_view cache_bytes_v5 =
      "4305050000006a6f625f6105000000736c6565707b68e5cf8b0100007bc40bd58b010000d2040000"
      "000000002b9cf57e";
// 340 bytes
constexpr std::string_view event_block_bytes_v5 =
      "4b050200000001000000ffffffff050000006a6f625f7801096be5cf8b0100000100010100000007"
      "000000737461727465640000000000e05840090000000a0000000600000075706c6f616401e86be5"
      "cf8b0100000204000000736c6f770600000072656e6465720800000062617463685f303106000000"
      "656e67696e6505000000616c69636520000000346266393266333537376233346461366133636539"
      "323964306530653437333601000000ffffffff050000006a6f625f7801096be5cf8b010000010001"
      "0100000007000000737461727465640000000000e05840090000000a0000000600000075706c6f61"
      "6401e86be5cf8b0100000204000000736c6f770600000072656e6465720800000062617463685f30"
      "3106000000656e67696e6505000000616c6963652000000034626639326633353737623334646136"
      "61336365393239643065306534373336b8b42d34";

// Format 6: a job's node and node_selector, a transition's node (worker nodes).
// 500 bytes
constexpr std::string_view job_bytes_v6 =
      "4a061e0000006a6f625f30314d383830504845314631474e35345436544553373237373306000000"
      "72656e64657205000000322e312e30070000006e696768746c790d0000007b226672616d6573223a"
      "32347d090000000200000003000000656e760400000070726f64040000007465616d030000006766"
      "78905f01000000000004000000fa000000000000003075000000000000000000000000f83f01a800"
      "0000060000007265712d34320202000000010000000000000000c042400300000008000000060000"
      "00656e636f6465011b24f3cf8b0100000b0000006578697420636f646520330168e5cf8b01000001"
      "a2eee6cf8b010000014375e8cf8b01000001e4fbe9cf8b0100000105000000636b00707492100000"
      "b168de3a000000000800000062617463685f303102000000050000006a6f625f61050000006a6f62"
      "5f62018582ebcf8b0100000106000000633066666565012609edcf8b010000070000006a6f625f73"
      "7263efcdab896745230105000000616c696365200000003462663932663335373762333464613661"
      "33636539323964306530653437333601000000010106e76be5cf8b010000030000000f0000006465"
      "61646c696e652070617373656402000000773101070000007b226e223a317d020000007731010000"
      "00030000006770750400000061313030e9f491d9";
// 46 bytes
constexpr std::string_view transition_bytes_v6 =
      "5406010106e76be5cf8b010000030000000f000000646561646c696e652070617373656402000000"
      "7731931bdd71";
// 36 bytes
constexpr std::string_view log_bytes_v6 =
      "4c06f469e5cf8b01000004090000006469736b2066756c6c04000000746f6f6cf425ffdf";
// 171 bytes
constexpr std::string_view event_bytes_v6 =
      "450601000000ffffffff050000006a6f625f7801096be5cf8b010000010001010000000700000073"
      "7461727465640000000000e05840090000000a0000000600000075706c6f616401e86be5cf8b0100"
      "000204000000736c6f770600000072656e6465720800000062617463685f303106000000656e6769"
      "6e6505000000616c6963652000000034626639326633353737623334646136613363653932396430"
      "653065343733364f902238";
// 74 bytes
constexpr std::string_view batch_bytes_v6 =
      "42060800000062617463685f3031070000006e696768746c7902000000050000006a6f625f610500"
      "00006a6f625f6202000000017b68e5cf8b0100000105000000616c6963657afa4682";
// 48 bytes
constexpr std::string_view cache_bytes_v6 =
      "4306050000006a6f625f6105000000736c6565707b68e5cf8b0100007bc40bd58b010000d2040000"
      "000000002687c1b7";
// 340 bytes
constexpr std::string_view event_block_bytes_v6 =
      "4b060200000001000000ffffffff050000006a6f625f7801096be5cf8b0100000100010100000007"
      "000000737461727465640000000000e05840090000000a0000000600000075706c6f616401e86be5"
      "cf8b0100000204000000736c6f770600000072656e6465720800000062617463685f303106000000"
      "656e67696e6505000000616c69636520000000346266393266333537376233346461366133636539"
      "323964306530653437333601000000ffffffff050000006a6f625f7801096be5cf8b010000010001"
      "0100000007000000737461727465640000000000e05840090000000a0000000600000075706c6f61"
      "6401e86be5cf8b0100000204000000736c6f770600000072656e6465720800000062617463685f30"
      "3106000000656e67696e6505000000616c6963652000000034626639326633353737623334646136"
      "61336365393239643065306534373336393b14e3";
const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";

}  // namespace

TEST_CASE("a job record keeps its stored bytes and reads them back", "[codec]") {
  const auto r = samples::job();
  const auto d = decode_job(unhex(job_bytes));
  REQUIRE(d);
  CHECK(*d.value == r);
  CHECK(d.value->owner.empty());  // format 2: before owners, the single tenant's
  auto owned = r;
  owned.owner = "alice";
  const auto d3 = decode_job(unhex(job_bytes_v3));
  REQUIRE(d3);
  CHECK(*d3.value == owned);
  CHECK(d3.value->trace_id.empty());  // format 3: before trace ids
  auto traced = owned;
  traced.trace_id = trace;
  const auto d4 = decode_job(unhex(job_bytes_v4));
  REQUIRE(d4);
  CHECK(*d4.value == traced);
  CHECK(d4.value->history.empty());  // format 4: history in its own rows
  auto v5 = traced;
  v5.history = {samples::transition_entry()};
  v5.result = R"({"n":1})";
  const auto d5 = decode_job(unhex(job_bytes_v5));
  REQUIRE(d5);
  CHECK(*d5.value == v5);
  CHECK(d5.value->node.empty());  // format 5: before worker nodes
  auto v6 = v5;
  v6.history[0].node = "w1";
  v6.node = "w1";
  v6.node_selector = {{"gpu", "a100"}};
  CHECK(hex(encode(v6)) == job_bytes_v6);
  const auto d6 = decode_job(unhex(job_bytes_v6));
  REQUIRE(d6);
  CHECK(*d6.value == v6);
}

TEST_CASE("an event block keeps its stored bytes, and a single event reads as a block of one", "[codec]") {
  auto e = samples::progress_event();
  e.owner = "alice";
  e.trace_id = trace;
  const std::vector<event> two{e, e};
  CHECK(hex(encode_event_block(two, 0, 2)) == event_block_bytes_v6);
  REQUIRE(decode_events(unhex(event_block_bytes_v6)));
  const auto d = decode_events(unhex(event_block_bytes_v5));
  REQUIRE(d);
  REQUIRE(d.value->size() == 2);
  CHECK(d.value->at(1).trace_id == trace);
  CHECK(d.value->at(1).message == e.message);
  const auto one = decode_events(unhex(event_bytes_v4));
  REQUIRE(one);
  REQUIRE(one.value->size() == 1);
  CHECK(one.value->front().owner == "alice");
  // A changed count (the checksum), a torn block and a job record are refused.
  auto overrun = unhex(event_block_bytes_v5);
  overrun[2] = '\x7f';
  CHECK_FALSE(decode_events(overrun));
  CHECK_FALSE(decode_events(unhex(event_block_bytes_v5).substr(0, 40)));
  CHECK_FALSE(decode_events(unhex(job_bytes_v5)));
}

TEST_CASE("a transition keeps its stored bytes and reads them back", "[codec]") {
  const auto t = samples::transition_entry();
  auto on_node = t;
  on_node.node = "w1";
  CHECK(hex(encode(on_node)) == transition_bytes_v6);
  const auto d6 = decode_transition(unhex(transition_bytes_v6));
  REQUIRE(d6);
  CHECK(*d6.value == on_node);
  const auto d5 = decode_transition(unhex(transition_bytes_v5));
  REQUIRE(d5);
  CHECK(*d5.value == t);
  REQUIRE(decode_transition(unhex(transition_bytes_v4)));
  REQUIRE(decode_transition(unhex(transition_bytes_v3)));
  const auto d = decode_transition(unhex(transition_bytes));
  REQUIRE(d);
  CHECK(d.value->from == t.from);
  CHECK(d.value->to == t.to);
  CHECK(d.value->at == t.at);
  CHECK(d.value->attempt == t.attempt);
  CHECK(d.value->reason == t.reason);
}

TEST_CASE("a log line keeps its stored bytes and reads them back", "[codec]") {
  const auto l = samples::log();
  CHECK(hex(encode(l)) == log_bytes_v6);
  REQUIRE(decode_log(unhex(log_bytes_v6)));
  REQUIRE(decode_log(unhex(log_bytes_v5)));
  REQUIRE(decode_log(unhex(log_bytes_v4)));
  REQUIRE(decode_log(unhex(log_bytes_v3)));
  const auto d = decode_log(unhex(log_bytes));
  REQUIRE(d);
  CHECK(d.value->at == l.at);
  CHECK(d.value->level == l.level);
  CHECK(d.value->message == l.message);
  CHECK(d.value->component == l.component);
}

TEST_CASE("an event keeps its stored bytes and reads them back", "[codec]") {
  auto e = samples::progress_event();
  auto owned = e;
  owned.owner = "alice";
  owned.trace_id = trace;
  CHECK(hex(encode(owned)) == event_bytes_v6);
  REQUIRE(decode_event(unhex(event_bytes_v6)));
  REQUIRE(decode_event(unhex(event_bytes_v5)));
  const auto d4 = decode_event(unhex(event_bytes_v4));
  REQUIRE(d4);
  CHECK(d4.value->owner == "alice");
  CHECK(d4.value->trace_id == trace);
  const auto d3 = decode_event(unhex(event_bytes_v3));
  REQUIRE(d3);
  CHECK(d3.value->owner == "alice");
  CHECK(d3.value->trace_id.empty());
  const auto d = decode_event(unhex(event_bytes));
  REQUIRE(d);
  const auto& x = *d.value;
  CHECK(x.seq == e.seq);
  CHECK(x.job_id == e.job_id);
  CHECK(x.kind == e.kind);
  CHECK(x.at == e.at);
  CHECK(x.from == e.from);
  CHECK(x.to == e.to);
  CHECK(x.attempt == e.attempt);
  CHECK(x.reason == e.reason);
  CHECK(x.progress == e.progress);
  CHECK(x.level == e.level);
  CHECK(x.message == e.message);
  CHECK(x.component == e.component);
  CHECK(x.tool == e.tool);
  CHECK(x.batch_id == e.batch_id);
  CHECK(x.owner.empty());
}

TEST_CASE("a batch record keeps its stored bytes and reads them back", "[codec]") {
  const auto b = samples::batch();
  const auto d = decode_batch(unhex(batch_bytes));
  REQUIRE(d);
  CHECK(*d.value == b);
  CHECK(d.value->owner.empty());
  auto owned = b;
  owned.owner = "alice";
  CHECK(hex(encode(owned)) == batch_bytes_v6);
  REQUIRE(decode_batch(unhex(batch_bytes_v6)));
  REQUIRE(decode_batch(unhex(batch_bytes_v5)));
  REQUIRE(decode_batch(unhex(batch_bytes_v4)));
  const auto d3 = decode_batch(unhex(batch_bytes_v3));
  REQUIRE(d3);
  CHECK(*d3.value == owned);
}

TEST_CASE("a cache entry keeps its stored bytes and reads them back", "[codec]") {
  const auto c = samples::cache();
  CHECK(hex(encode(c)) == cache_bytes_v6);
  REQUIRE(decode_cache_entry(unhex(cache_bytes_v6)));
  REQUIRE(decode_cache_entry(unhex(cache_bytes_v5)));
  REQUIRE(decode_cache_entry(unhex(cache_bytes_v4)));
  REQUIRE(decode_cache_entry(unhex(cache_bytes_v3)));
  const auto d = decode_cache_entry(unhex(cache_bytes));
  REQUIRE(d);
  CHECK(*d.value == c);
}
