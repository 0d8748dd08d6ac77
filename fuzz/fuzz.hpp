// Fuzz entry points: one per surface that reads bytes from outside the
// engine (docs/fuzzing.md).
//
// Each takes one input, drives the real code with it and checks what the
// code promises beyond "does not crash": a complete HTTP request is
// answered, every answer is valid UTF-8 and parses, a decoded record
// re-encodes to itself, and so on. A broken promise is reported through
// fail(). The same functions serve libFuzzer (fuzz/libfuzzer_main.cpp, with
// clang) and the regression replay in the unit tests (GCC), which calls
// them on every file of fuzz/corpus/<target>/ and fuzz/regressions/<target>/.
// Not thread-safe: one input at a time.
//
//   overseer::fuzz::throw_on_findings(true);  // tests: a finding throws
//   overseer::fuzz::fuzz_codec(bytes.data(), bytes.size());
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace overseer::fuzz {

/// Raw HTTP/1.1 bytes sent to a live server (live_server.hpp) over loopback.
int fuzz_http_request(const std::uint8_t* data, std::size_t size);
/// A JSON body read by parse_job_spec and parse_batch_spec (and the text
/// itself by parse_time).
int fuzz_job_spec(const std::uint8_t* data, std::size_t size);
/// WebSocket messages to GET /v1/stream of the live server, separated by
/// 0x1E (RS, as in RFC 7464 JSON text sequences).
int fuzz_stream_message(const std::uint8_t* data, std::size_t size);
/// The text of a tools file.
int fuzz_tools_file(const std::uint8_t* data, std::size_t size);
/// A stored record, given to every decoder of persistence/codec.hpp.
int fuzz_codec(const std::uint8_t* data, std::size_t size);
/// The stdout of an exec tool: its lines, "@overseer {...}" protocol lines
/// among them.
int fuzz_exec_protocol(const std::uint8_t* data, std::size_t size);
/// {"schema": {...}, "params": {...}}: a param schema checked, then params
/// validated against it.
int fuzz_param_schema(const std::uint8_t* data, std::size_t size);

struct target {
  std::string_view name;  ///< the directory under fuzz/corpus/ and fuzz/regressions/
  int (*run)(const std::uint8_t*, std::size_t);
};

inline constexpr std::array<target, 7> targets{{
  {"http_request", fuzz_http_request},
  {"job_spec", fuzz_job_spec},
  {"stream_message", fuzz_stream_message},
  {"tools_file", fuzz_tools_file},
  {"codec", fuzz_codec},
  {"exec_protocol", fuzz_exec_protocol},
  {"param_schema", fuzz_param_schema},
}};

/// A promise of the code under test that an input broke.
class finding : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Reports a finding: printed to stderr, then abort(), so that libFuzzer
/// keeps the input; or, after throw_on_findings(true), thrown as `finding`.
[[noreturn]] void fail(const std::string& what);
void throw_on_findings(bool enabled);

/// The input as text (bytes as they are, no decoding).
[[nodiscard]] inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// At most `n` bytes of `s`, for messages: a finding quotes what it saw.
[[nodiscard]] std::string excerpt(std::string_view s, std::size_t n = 300);

}  // namespace overseer::fuzz
