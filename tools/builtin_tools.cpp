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
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/allowed_paths.hpp"

namespace overseer::tools {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

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
    auto message = std::string(ctx.params().at("message").as_string()) + " (attempt " +
                   std::to_string(ctx.attempt()) + ")";
    // A crash is an exception out of the body, as a broken tool would throw.
    if (ctx.params().at("crash").as_bool()) throw std::runtime_error(message);
    return failure(std::move(message));
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

// Where fasta_stats may read; replaced whole when the built-ins are
// configured, so that a running job keeps the set it started with.
class path_policy {
public:
  void set(std::vector<allowed_dir> dirs) {
    auto p = std::make_shared<const std::vector<allowed_dir>>(std::move(dirs));
    std::lock_guard lock{mutex_};
    dirs_ = std::move(p);
  }
  [[nodiscard]] std::shared_ptr<const std::vector<allowed_dir>> get() const {
    std::lock_guard lock{mutex_};
    return dirs_;
  }

private:
  mutable std::mutex mutex_;
  std::shared_ptr<const std::vector<allowed_dir>> dirs_ = std::make_shared<const std::vector<allowed_dir>>();
};

using file_ptr = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;

// Opens `given` for reading if it is a regular file inside `dirs`, or says
// why not. The path is checked as written (so that nothing outside is even
// looked at), then resolved (symbolic links, "..") and checked again, then
// opened without following a last symbolic link, and the opened file's
// own path is checked a third time: a link swapped in between the check
// and the open is caught.
file_ptr open_confined(const std::string& given, const std::vector<allowed_dir>& dirs, std::string& problem) {
  file_ptr none{nullptr, &std::fclose};
  const std::string where = "\"" + given + "\"";
  if (dirs.empty()) {
    problem = "params.path: fasta_stats may read no file: it has no allowed_paths (configure them in the tools "
              "file: {\"builtins\": {\"fasta_stats\": {\"allowed_paths\": [\"/srv/genomes\"]}}})";
    return none;
  }
  const fs::path p{given};
  if (!p.is_absolute()) {
    problem = "params.path: " + where + " is a relative path; give an absolute one inside the allowed paths (" +
              describe(dirs) + ")";
    return none;
  }
  const auto normal = p.lexically_normal();
  const bool lexically_inside = std::any_of(dirs.begin(), dirs.end(), [&](const allowed_dir& d) {
    return is_within(normal, d.configured) || is_within(normal, d.canonical);
  });
  if (!lexically_inside) {
    problem = "params.path: " + where + " is outside the allowed paths (" + describe(dirs) + ")";
    return none;
  }
  std::error_code ec;
  const auto resolved = fs::canonical(p, ec);
  if (ec) {
    problem = "cannot open " + given + ": " + ec.message();
    return none;
  }
  if (!is_allowed(resolved, dirs)) {
    problem = "params.path: " + where + " resolves to " + resolved.string() + ", outside the allowed paths (" +
              describe(dirs) + ")";
    return none;
  }
  // O_NONBLOCK: a FIFO must not hang the attempt in open().
  const int fd = ::open(resolved.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    problem = "cannot open " + given + ": " + std::strerror(errno);
    return none;
  }
  struct stat st{};
  std::error_code opened_ec;
  const auto opened = fs::read_symlink("/proc/self/fd/" + std::to_string(fd), opened_ec);
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    problem = "cannot read " + given + ": not a regular file";
  } else if (opened_ec || !is_allowed(opened, dirs)) {
    problem = "params.path: " + where + " changed while it was opened (now " +
              (opened_ec ? opened_ec.message() : opened.string()) + "), refused";
  } else if (std::FILE* f = ::fdopen(fd, "rb")) {
    return {f, &std::fclose};
  } else {
    problem = "cannot open " + given + ": " + std::strerror(errno);
  }
  ::close(fd);
  return none;
}

tool_result fasta_stats_body(job_context& ctx, const path_policy& policy) {
  const std::string path(ctx.params().at("path").as_string());
  std::string problem;
  auto file = open_confined(path, *policy.get(), problem);
  if (!file) return failure(problem);
  struct stat st{};
  const bool sized = ::fstat(::fileno(file.get()), &st) == 0;
  const auto size = static_cast<std::uint64_t>(sized ? st.st_size : 0);
  ctx.log(log_level::info, "reading " + path + (sized ? " (" + std::to_string(size) + " bytes)" : ""));

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
    if (sized && size > 0) {
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
  d.strict_params = true;
  return d;
}

// The body of fasta_stats as a type of its own, so that configuring the
// built-ins finds its policy in the registry (std::function::target).
struct fasta_stats_tool {
  std::shared_ptr<path_policy> policy;
  tool_result operator()(job_context& ctx) const { return fasta_stats_body(ctx, *policy); }
};

std::shared_ptr<path_policy> fasta_stats_policy(const tool_registry& registry) {
  const auto e = registry.find("fasta_stats");
  const auto* tool = e ? e->body.target<fasta_stats_tool>() : nullptr;
  return tool ? tool->policy : nullptr;
}

}  // namespace

std::vector<field_error> check_builtin_config(const tool_registry& registry, const builtin_config& config) {
  std::vector<field_error> problems;
  const std::string field = "builtins.fasta_stats.allowed_paths";
  (void)resolve_allowed_dirs(config.fasta_stats_allowed_paths, field, problems);
  if (!config.fasta_stats_allowed_paths.empty() && !fasta_stats_policy(registry))
    problems.push_back({"builtins.fasta_stats", "the built-in fasta_stats is not registered (built-in tools off?)"});
  return problems;
}

void configure_builtin_tools(tool_registry& registry, const builtin_config& config) {
  std::vector<field_error> problems;
  auto dirs = resolve_allowed_dirs(config.fasta_stats_allowed_paths, "", problems);
  if (auto policy = fasta_stats_policy(registry)) policy->set(std::move(dirs));
}

void register_builtin_tools(tool_registry& registry, const builtin_config& config) {
  std::vector<field_error> problems;
  auto policy = std::make_shared<path_policy>();
  policy->set(resolve_allowed_dirs(config.fasta_stats_allowed_paths, "fasta_stats_allowed_paths", problems));
  if (!problems.empty()) {
    throw error(errc::invalid_spec, "built-in tools: " + problems.front().field + ": " + problems.front().message,
                std::move(problems));
  }
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
                             {"description", "the failure message"}}},
                {"crash", {{"type", "boolean"}, {"default", false},
                           {"description", "throw instead of returning the failure: a crash, which counts "
                                           "toward the tool's restart intensity"}}}}),
    fail_body);
  registry.add(definition("noop", "Completes at once with {}", {}),
               [](job_context&) -> tool_result { return boost::json::object{}; });
  registry.add(
    definition("fasta_stats", "Counts sequences, residues, GC content and N50 of a FASTA file",
               {{"path", {{"type", "string"}, {"required", true}, {"absolute_path", true},
                          {"description", "absolute path of a FASTA file inside fasta_stats' allowed_paths"}}}}),
    fasta_stats_tool{std::move(policy)});
}

}  // namespace overseer::tools
