#include "tools/builtin_tools.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace overseer::tools {
namespace {

using namespace std::chrono_literals;

double number_param(const job_context& ctx, std::string_view name) {
  const auto& v = ctx.params().at(name);
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return v.as_double();
}

tool_result sleep_body(job_context& ctx) {
  const double seconds = number_param(ctx, "seconds");
  const int steps = static_cast<int>(number_param(ctx, "steps"));
  int done = 0;
  if (auto saved = ctx.last_checkpoint()) {
    // A checkpoint that does not parse or lies outside this run's steps
    // (the params differ) is ignored: starting over is always correct.
    int k = 0;
    auto [end, ec] = std::from_chars(saved->data(), saved->data() + saved->size(), k);
    if (ec == std::errc{} && end == saved->data() + saved->size() && k >= 0 && k <= steps) {
      done = k;
      ctx.log(log_level::info, "resuming after step " + std::to_string(k));
    }
  }
  // Step ends are computed from the total so that rounding to milliseconds
  // does not accumulate over many steps.
  auto step_end = [&](int i) {
    return std::chrono::milliseconds(std::llround(seconds * 1000.0 * i / steps));
  };
  for (int i = done + 1; i <= steps; ++i) {
    if (ctx.sleep_for(step_end(i) - step_end(i - 1))) return stopped();
    overseer::progress p;
    p.percent = 100.0 * i / steps;
    p.current_step = i;
    p.total_steps = steps;
    p.step_name = "step " + std::to_string(i) + "/" + std::to_string(steps);
    ctx.progress(p);
    ctx.checkpoint(std::to_string(i));
  }
  return boost::json::object{{"slept_seconds", seconds}, {"steps", steps}};
}

tool_result fail_body(job_context& ctx) {
  const auto failures = static_cast<long long>(number_param(ctx, "failures"));
  if (ctx.attempt() <= failures) {
    return failure(std::string(ctx.params().at("message").as_string()) + " (attempt " +
                   std::to_string(ctx.attempt()) + ")");
  }
  return boost::json::object{{"attempts", ctx.attempt()}};
}

// Sequence statistics accumulated while streaming, so that chunk boundaries
// may fall anywhere, even inside a header.
struct fasta_scan {
  std::vector<std::uint64_t> lengths;  // one per sequence
  std::uint64_t total = 0, gc = 0, at = 0;
  bool line_start = true, in_header = false;

  // Returns false when sequence data comes before any header: not FASTA.
  bool feed(const char* p, std::size_t n) {
    for (const char* end = p + n; p != end; ++p) {
      const auto c = static_cast<unsigned char>(*p);
      const bool at_line_start = std::exchange(line_start, c == '\n');
      if (c == '\n') {
        in_header = false;
      } else if (in_header || std::isspace(c)) {
        // header text and whitespace are not residues
      } else if (at_line_start && c == '>') {
        in_header = true;
        lengths.push_back(0);
      } else if (lengths.empty()) {
        return false;
      } else {
        // Every other byte of a sequence line is a residue ('N', '-', '*'
        // included); only A, C, G and T count towards the GC fraction.
        ++lengths.back();
        ++total;
        switch (std::toupper(c)) {
          case 'G': case 'C': ++gc; break;
          case 'A': case 'T': ++at; break;
          default: break;
        }
      }
    }
    return true;
  }

  [[nodiscard]] std::uint64_t n50() {
    std::sort(lengths.begin(), lengths.end(), std::greater<>());
    std::uint64_t sum = 0;
    for (auto len : lengths) {
      sum += len;
      if (2 * sum >= total) return len;
    }
    return 0;
  }
};

tool_result fasta_stats_body(job_context& ctx) {
  const std::string path(ctx.params().at("path").as_string());
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) return failure("cannot open " + path + ": " + std::strerror(errno));
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  ctx.log(log_level::info, "reading " + path + (ec ? "" : " (" + std::to_string(size) + " bytes)"));

  fasta_scan scan;
  std::vector<char> buffer(1 << 16);
  std::uint64_t read = 0;
  int reported = -1;
  while (std::size_t n = std::fread(buffer.data(), 1, buffer.size(), file.get())) {
    if (ctx.stop_requested()) return stopped();
    if (!scan.feed(buffer.data(), n)) {
      return failure(path + " is not FASTA: its first non-empty line does not start with '>'");
    }
    read += n;
    // Report only whole-percent changes: a large file has many chunks.
    if (!ec && size > 0) {
      if (int pct = static_cast<int>(read * 100 / size); pct > reported) {
        reported = pct;
        overseer::progress p;
        p.percent = std::min(pct, 100);
        ctx.progress(p);
      }
    }
  }
  if (std::ferror(file.get())) return failure("cannot read " + path + ": " + std::strerror(errno));

  const auto sequences = scan.lengths.size();
  const auto n50 = scan.n50();
  const double gc_content =
    scan.gc + scan.at == 0 ? 0.0 : static_cast<double>(scan.gc) / static_cast<double>(scan.gc + scan.at);
  ctx.log(log_level::info, path + ": " + std::to_string(sequences) + " sequences, " +
                             std::to_string(scan.total) + " residues, N50 " + std::to_string(n50));
  return boost::json::object{{"sequences", sequences},
                             {"total_length", scan.total},
                             {"gc_content", gc_content},
                             {"n50", n50}};
}

// Designated initializers would leave timeout and retry out, which GCC 12's
// -Wmissing-field-initializers refuses.
tool_definition definition(std::string name, std::string description, boost::json::object params) {
  tool_definition d;
  d.name = std::move(name);
  d.description = std::move(description);
  d.params = std::move(params);
  return d;
}

}  // namespace

void register_builtin_tools(tool_registry& registry) {
  registry.add(
    definition("sleep", "Sleeps in equal steps, reporting progress and checkpointing after each",
               {{"seconds", {{"type", "number"}, {"default", 1}, {"minimum", 0},
                             {"maximum", 86400}, {"description", "total time to sleep"}}},
                {"steps", {{"type", "integer"}, {"default", 4}, {"minimum", 1},
                           {"maximum", 10000}, {"description", "number of equal steps"}}}}),
    sleep_body);
  registry.add(
    definition("fail", "Fails its first attempts, then completes: shows retries",
               {{"failures", {{"type", "integer"}, {"default", 1}, {"minimum", 0},
                              {"description", "how many attempts fail"}}},
                {"message", {{"type", "string"}, {"default", "deliberate failure"},
                             {"description", "the failure message"}}}}),
    fail_body);
  registry.add(definition("noop", "Completes at once with {}", {}),
               [](job_context&) -> tool_result { return boost::json::object{}; });
  registry.add(
    definition("fasta_stats", "Counts sequences, residues, GC content and N50 of a FASTA file",
               {{"path", {{"type", "string"}, {"required", true},
                          {"description", "FASTA file, relative to the working directory"}}}}),
    fasta_stats_body);
}

}  // namespace overseer::tools
