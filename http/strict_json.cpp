#include "http/strict_json.hpp"

#include "tools/utf8.hpp"

#include <algorithm>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>

namespace overseer::http {
namespace {

namespace json = boost::json;
using json_ec = json::error_code;

// Builds the value as json::parse does (through a value_stack) and keeps,
// per open container, its keys so far or its element index: enough to see
// a repeated key when its object ends, and to name it by its path.
class handler {
public:
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  json::value_stack st;
  std::vector<field_error> duplicates;

  bool on_document_begin(json_ec&) { return true; }
  bool on_document_end(json_ec&) { return true; }
  bool on_object_begin(json_ec&) { return open(true); }
  bool on_object_end(std::size_t n, json_ec&) {
    check_keys();
    --depth_;
    st.push_object(n);
    return value_done();
  }
  bool on_array_begin(json_ec&) { return open(false); }
  bool on_array_end(std::size_t n, json_ec&) {
    --depth_;
    st.push_array(n);
    return value_done();
  }
  bool on_key_part(json::string_view s, std::size_t, json_ec&) {
    key_.append(s.data(), s.size());
    st.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json_ec&) {
    key_.append(s.data(), s.size());
    frames_[depth_ - 1].keys.push_back(key_);
    key_.clear();
    st.push_key(s);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, json_ec&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json_ec&) {
    st.push_string(s);
    return value_done();
  }
  bool on_number_part(json::string_view, json_ec&) { return true; }
  bool on_int64(std::int64_t i, json::string_view, json_ec&) {
    st.push_int64(i);
    return value_done();
  }
  bool on_uint64(std::uint64_t u, json::string_view, json_ec&) {
    st.push_uint64(u);
    return value_done();
  }
  bool on_double(double d, json::string_view, json_ec&) {
    st.push_double(d);
    return value_done();
  }
  bool on_bool(bool b, json_ec&) {
    st.push_bool(b);
    return value_done();
  }
  bool on_null(json_ec&) {
    st.push_null();
    return value_done();
  }
  bool on_comment_part(json::string_view, json_ec&) { return true; }
  bool on_comment(json::string_view, json_ec&) { return true; }

private:
  struct frame {
    bool object = false;
    std::vector<std::string> keys;  ///< an object's keys so far
    std::size_t index = 0;          ///< an array's current element
  };

  bool open(bool object) {
    // Frames are reused, so their key vectors keep their capacity.
    if (depth_ == frames_.size()) frames_.emplace_back();
    auto& f = frames_[depth_++];
    f.object = object;
    f.keys.clear();
    f.index = 0;
    return true;
  }

  bool value_done() {
    if (depth_ > 0 && !frames_[depth_ - 1].object) ++frames_[depth_ - 1].index;
    return true;
  }

  // The path of a key of the innermost open object: its ancestors' current
  // keys and indexes, then the key.
  std::string path_of(std::string_view key) const {
    std::string path;
    for (std::size_t i = 0; i + 1 < depth_; ++i) {
      const auto& f = frames_[i];
      if (!f.object) {
        path += '[';
        path += std::to_string(f.index);
        path += ']';
        continue;
      }
      if (!path.empty()) path += '.';
      path += f.keys.back();
    }
    if (!path.empty()) path += '.';
    path += key;
    return path;
  }

  void check_keys() {
    const auto& keys = frames_[depth_ - 1].keys;
    if (keys.size() < 2) return;
    // Sorted, so a body of many keys costs n log n, not n squared.
    sorted_.assign(keys.begin(), keys.end());
    std::sort(sorted_.begin(), sorted_.end());
    for (std::size_t i = 1; i < sorted_.size(); ++i) {
      if (sorted_[i] != sorted_[i - 1] || (i > 1 && sorted_[i] == sorted_[i - 2])) continue;
      duplicates.push_back({path_of(sorted_[i]), std::string{"the key \""}
                                                     .append(sorted_[i])
                                                     .append("\" appears more than once in this object; give it once")});
    }
  }

  std::vector<frame> frames_;
  std::size_t depth_ = 0;
  std::string key_;  ///< a key arriving in parts
  std::vector<std::string_view> sorted_;
};

}  // namespace

strict_json parse_strict_json(std::string_view text) {
  json::parse_options options;
  options.max_depth = max_json_depth;
  json::basic_parser<handler> p{options};
  p.handler().st.reset();
  json_ec ec;
  const auto used = p.write_some(false, text.data(), text.size(), ec);
  if (!ec && used < text.size()) ec = json::error::extra_data;
  strict_json out;
  if (ec) {
    // Where, so a client can find it: text that is not UTF-8 says so (the
    // parser's own word for it is "syntax error"), anything else gets the
    // parser's reason and the offset it stopped at.
    const auto bad = tools::first_invalid_utf8(text.substr(0, std::min(text.size(), used + 4)));
    if (bad != std::string_view::npos) {
      static constexpr char hex[] = "0123456789ABCDEF";
      const auto byte = static_cast<unsigned char>(text[bad]);
      out.syntax_error = std::string{"the text is not UTF-8: byte 0x"} + hex[byte >> 4] + hex[byte & 15] +
                         " at offset " + std::to_string(bad);
    } else if (ec == json::error::too_deep) {
      out.syntax_error = ec.message();
    } else {
      out.syntax_error = ec.message() + " at offset " + std::to_string(used);
      // A \uD800-\uDFFF escape just before: the likely cause.
      const auto escape = text.rfind("\\u", used);
      if (escape != std::string_view::npos && used - escape <= 12 && escape + 3 < text.size() &&
          (text[escape + 2] == 'd' || text[escape + 2] == 'D') &&
          std::string_view{"89abcdefABCDEF"}.find(text[escape + 3]) != std::string_view::npos)
        out.syntax_error += " (a \\u escape of a surrogate: they come in pairs, high then low)";
    }
    return out;
  }
  out.duplicates = std::move(p.handler().duplicates);
  if (out.duplicates.empty()) out.value = p.handler().st.release();
  return out;
}

}  // namespace overseer::http
