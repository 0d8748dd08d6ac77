// Files over HTTP (docs/api.md, "Files"): the upload's answer, downloads
// with Range, listing and deletion. A user sees and uses only its own files
// (another's are 404, like jobs); admins and readers see every file.
#include <boost/json/array.hpp>

#include "http/api.hpp"
#include "http/json_mapping.hpp"
#include "http/ops_context.hpp"
#include "persistence/file_store.hpp"
#include "tools/utf8.hpp"

namespace overseer::http {

namespace json = boost::json;

namespace {

/// Longest file name accepted, in bytes.
constexpr std::size_t max_file_name = 1024;

json::object render_file(const file_info& f) {
  json::object o{{"file_id", f.id},
                 {"name", f.name},
                 {"size", f.size},
                 {"sha256", f.sha256},
                 {"created_at", format_time(f.created_at)}};
  if (!f.owner.empty()) o["owner"] = f.owner;
  if (!f.job_id.empty()) o["job_id"] = f.job_id;
  return o;
}

/// The file `id` if the caller may see it; otherwise answers 404 (or the
/// read's failure) and returns nothing.
std::optional<file_info> visible_file(api_context& ctx, const call& c, const replier& r, const std::string& id) {
  if (!persistence::files::looks_like_file_id(id)) {
    r.refused(errc::not_found, "no file " + tools::sanitize_utf8(id));
    return std::nullopt;
  }
  auto f = ctx.eng.get_file(id);
  if (!f) {
    r.refused(f.code(), f.message());
    return std::nullopt;
  }
  if (!c.who.sees(f->owner)) {
    r.refused(errc::not_found, "no file " + id);
    return std::nullopt;
  }
  return std::move(*f);
}

}  // namespace

std::optional<upload_refusal> check_upload(const api_context& ctx, const call& c) {
  std::vector<field_error> errors = check_query_keys(c, {"name"});
  const auto it = c.query.find("name");
  if (it == c.query.end()) errors.push_back({"name", "is required: the file's name, e.g. ?name=reads.fasta"});
  else if (it->second.empty()) errors.push_back({"name", "must not be empty"});
  else if (!tools::valid_utf8(it->second)) errors.push_back({"name", "is not valid UTF-8"});
  else if (it->second.size() > max_file_name)
    errors.push_back({"name", "is longer than " + std::to_string(max_file_name) + " bytes"});
  if (!errors.empty()) return upload_refusal{400, "invalid query", std::move(errors)};
  auto type = c.req[bhttp::field::content_type];
  const auto semi = type.find(';');
  if (semi != boost::beast::string_view::npos) type = type.substr(0, semi);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  if (!boost::beast::iequals(type, "application/octet-stream"))
    return upload_refusal{415, "the body must be application/octet-stream, not \"" +
                                 tools::sanitize_utf8(std::string{c.req[bhttp::field::content_type]}) + "\"", {}};
  (void)ctx;
  return std::nullopt;
}

void upload_file(api_context& ctx, const call& c, const replier& r) {
  // An accepted upload is streamed by the session (finish_upload). This is
  // reached by one the session refused on its headers and read whole, its
  // body being small (http_session::refuse_upload): the same refusal, in
  // order, and the connection stays open. (401 and 403 are the router's.)
  if (ctx.ops && ctx.ops->draining)
    return r.problem(503, "the daemon is stopping and takes no uploads; upload again once it is back");
  if (c.req.body().size() > ctx.config.max_file_size)
    return r.problem(413, "the file is larger than the limit of " + std::to_string(ctx.config.max_file_size) +
                            " bytes");
  if (auto bad = check_upload(ctx, c)) return r.problem(bad->status, std::move(bad->detail), bad->errors);
  r.problem(503, "the upload could not be stored; send it again");
}

void finish_upload(api_context& ctx, const call& c, const replier& r, upload_body::value_type body) {
  file_upload up;
  up.size = body.size();
  up.sha256 = body.sha256();
  up.temp_path = body.release();
  up.name = c.query.at("name");
  up.owner = c.who.owner;
  ctx.eng.commit_upload_async(std::move(up), [r](result<file_info> f) {
    if (!f) return r.refused(f.code(), f.message());
    r.json(201, render_file(*f));
  });
}

void list_files(api_context& ctx, const call& c, const replier& r) {
  auto errors = check_query_keys(c, {"limit", "cursor"});
  file_list_query q;
  q.limit = static_cast<std::size_t>(query_int(c.query, "limit", 100, 1, 1000, errors));
  if (auto it = c.query.find("cursor"); it != c.query.end()) {
    if (!persistence::files::looks_like_file_id(it->second))
      errors.push_back({"cursor", "is not a file id (the next_cursor of a page)"});
    else
      q.cursor = it->second;
  }
  if (!errors.empty()) return r.problem(400, "invalid query", errors);
  q.owner = c.who.scope();
  const auto found = ctx.eng.list_files(q);
  json::array files;
  for (const auto& f : found.files) files.push_back(render_file(f));
  json::object out{{"files", std::move(files)}, {"limit", q.limit}, {"has_next", !found.next_cursor.empty()}};
  if (!found.next_cursor.empty()) out["next_cursor"] = found.next_cursor;
  r.json(200, out);
}

void get_file(api_context& ctx, const call& c, const replier& r) {
  const auto f = visible_file(ctx, c, r, c.param("id"));
  if (!f) return;
  file_response res{bhttp::status::ok, r.version()};
  if (!res.body().open(ctx.eng.file_path(f->id)))
    return r.problem(500, "the bytes of file " + f->id + " cannot be read");
  res.set(bhttp::field::content_type, "application/octet-stream");
  res.set(bhttp::field::accept_ranges, "bytes");
  res.set(bhttp::field::etag, "\"" + f->sha256 + "\"");
  res.set(bhttp::field::content_disposition, content_disposition(f->name));
  const auto range = parse_range(c.req[bhttp::field::range], f->size);
  if (range.what == byte_range::kind::unsatisfiable) {
    auto p = problem_response(416, "the range " + tools::sanitize_utf8(std::string{c.req[bhttp::field::range]}) +
                                     " is outside the file's " + std::to_string(f->size) + " bytes",
                              r.version(), r.keep_alive());
    p.set(bhttp::field::content_range, "bytes */" + std::to_string(f->size));
    return r.send(std::move(p));
  }
  if (range.what == byte_range::kind::partial) {
    res.result(bhttp::status::partial_content);
    res.set(bhttp::field::content_range, "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) +
                                           "/" + std::to_string(f->size));
    res.body().range(range.first, range.last - range.first + 1);
  } else {
    res.body().range(0, f->size);
  }
  res.prepare_payload();
  r.send_file(std::move(res));
}

void delete_file(api_context& ctx, const call& c, const replier& r) {
  const auto f = visible_file(ctx, c, r, c.param("id"));
  if (!f) return;
  ctx.eng.delete_file_async(f->id, [r, id = f->id](result<void> done) {
    if (!done.ok()) return r.refused(done.code(), done.message());
    r.json(200, json::object{{"file_id", id}, {"deleted", true}});
  });
}

void hidden_files(api_context& ctx, const call& c, const job_spec& spec, const std::string& prefix,
                  std::vector<field_error>& errors) {
  if (!c.who.scope()) return;
  auto tool = ctx.eng.tools().find(spec.tool);
  if (!tool) return;
  for (const auto& [name, entry] : tool->definition.params) {
    const auto* type = entry.is_object() ? entry.get_object().if_contains("type") : nullptr;
    if (!type || !type->is_string() || type->get_string() != "file") continue;
    const auto* v = spec.params.if_contains(name);
    if (!v || !v->is_string()) continue;
    auto f = ctx.eng.get_file(v->get_string());
    if (f && !c.who.sees(f->owner))
      errors.push_back({prefix + "params." + std::string{name}, "no file " + std::string{v->get_string()}});
  }
}

}  // namespace overseer::http
