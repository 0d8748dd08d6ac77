#include "http/stream_hub.hpp"

#include "http/json_mapping.hpp"
#include "http/stream_session.hpp"

namespace overseer::http {

stream_hub::stream_hub(engine& e, std::function<void(const event&)> observer)
  : observer_(std::move(observer)),
    nodes_sub_(e.watch_nodes([this](const node_change& c) { publish_node(c); })),
    sub_(e.subscribe(filter::all(), [this](const event& ev) { publish(ev); })) {}

stream_hub::~stream_hub() { stop(); }

void stream_hub::stop() {
  nodes_sub_.reset();
  sub_.reset();
}

void stream_hub::publish_node(const node_change& c) {
  boost::json::object m{{"type", "node"},
                        {"event", c.joined ? "joined" : "lost"},
                        {"node", c.node},
                        {"capacity", c.capacity},
                        {"at", format_time(c.at)}};
  if (!c.joined) m["reason"] = c.reason;
  auto frame = std::make_shared<const std::string>(text_frame(to_json_text(m)));
  std::lock_guard lock{mutex_};
  for (const auto& weak : sessions_)
    if (auto s = weak.lock()) s->deliver_node(frame);
}

void stream_hub::close_all() {
  std::lock_guard lock{mutex_};
  for (const auto& weak : sessions_)
    if (auto s = weak.lock()) s->go_away();
}

void stream_hub::fail_all() {
  std::lock_guard lock{mutex_};
  for (const auto& weak : sessions_)
    if (auto s = weak.lock()) s->store_failed();
}

void stream_hub::revoke(const std::function<bool(const identity&)>& valid) {
  std::lock_guard lock{mutex_};
  for (const auto& weak : sessions_)
    if (auto s = weak.lock(); s && !valid(s->who())) s->revoke();
}

void stream_hub::add(const std::shared_ptr<stream_session>& session) {
  std::lock_guard lock{mutex_};
  sessions_.push_back(session);
}

void stream_hub::publish(const event& e) {
  // Before any client sees the event: a client that saw its job created
  // finds it counted in its quota.
  if (observer_) observer_(e);
  {
    // No stream is open: render nothing. A session that opens later reads
    // its starting seq after this event was committed, so it wants the
    // event only through a replay from the store, never from here.
    std::lock_guard lock{mutex_};
    if (sessions_.empty()) return;
  }
  auto item = std::make_shared<const live_event>(live_event{e, text_frame(to_json_text(render_event(e)))});
  std::lock_guard lock{mutex_};
  std::erase_if(sessions_, [&](const std::weak_ptr<stream_session>& weak) {
    auto s = weak.lock();
    if (!s || !s->deliver(item)) return true;  // closed: forget it
    return false;
  });
}

}  // namespace overseer::http
