#include "cli/json_text.hpp"

#include <boost/json/serialize.hpp>

#include "tools/json_number.hpp"

namespace overseer::cli {

namespace {

void write(std::string& out, const boost::json::value& v, int depth, bool pretty) {
  const std::string indent = pretty ? std::string(static_cast<std::size_t>(depth + 1) * 2, ' ') : "";
  const std::string closing = pretty ? std::string(static_cast<std::size_t>(depth) * 2, ' ') : "";
  const char* newline = pretty ? "\n" : "";
  switch (v.kind()) {
    case boost::json::kind::object: {
      const auto& o = v.get_object();
      if (o.empty()) {
        out += "{}";
        return;
      }
      out += "{";
      out += newline;
      bool first = true;
      for (const auto& kv : o) {
        if (!first) out += std::string{","} + newline;
        first = false;
        out += indent + boost::json::serialize(boost::json::string_view{kv.key()}) + (pretty ? ": " : ":");
        write(out, kv.value(), depth + 1, pretty);
      }
      out += newline + closing + "}";
      return;
    }
    case boost::json::kind::array: {
      const auto& a = v.get_array();
      if (a.empty()) {
        out += "[]";
        return;
      }
      out += "[";
      out += newline;
      bool first = true;
      for (const auto& e : a) {
        if (!first) out += std::string{","} + newline;
        first = false;
        out += indent;
        write(out, e, depth + 1, pretty);
      }
      out += newline + closing + "]";
      return;
    }
    case boost::json::kind::double_: out += tools::format_number(v.get_double()); return;
    case boost::json::kind::string:
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
    case boost::json::kind::bool_:
    case boost::json::kind::null: out += boost::json::serialize(v); return;
  }
}

}  // namespace

std::string compact_json(const boost::json::value& v) {
  std::string out;
  write(out, v, 0, false);
  return out;
}

std::string pretty_json(const boost::json::value& v) {
  std::string out;
  write(out, v, 0, true);
  return out;
}

}  // namespace overseer::cli
