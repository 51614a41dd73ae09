#include "state/watch.h"

namespace trellis::state {

void Waiter::cancel() {
  for (auto& r : registrations_) r.hub->remove(r.topic, r.it);
  registrations_.clear();
}

void WatchHub::watch(Waiter& w, const std::string& topic) {
  auto& list = topics_[topic];
  list.push_front(&w);
  w.registrations_.push_back({this, topic, list.begin()});
  w.fired_ = false;
  ++count_;
}

void WatchHub::remove(const std::string& topic, std::list<Waiter*>::iterator it) {
  auto found = topics_.find(topic);
  if (found == topics_.end()) return;
  found->second.erase(it);
  --count_;
  if (found->second.empty()) topics_.erase(found);
}

void WatchHub::fire(const std::string& topic) {
  auto found = topics_.find(topic);
  if (found == topics_.end()) return;
  // Detach the whole list first: callbacks may cancel other registrations of the same waiter.
  std::list<Waiter*> waiters = std::move(found->second);
  topics_.erase(found);
  count_ -= waiters.size();
  for (auto it = waiters.begin(); it != waiters.end(); ++it) {
    Waiter* w = *it;
    // Drop this registration from the waiter, then its others (a waiter fires once).
    auto& regs = w->registrations_;
    for (auto r = regs.begin(); r != regs.end(); ++r) {
      if (r->topic == topic && r->it == it) {
        regs.erase(r);
        break;
      }
    }
    w->cancel();
    w->fired_ = true;
    if (w->on_fire_) w->on_fire_();
  }
}

void WatchHub::fireKv(std::string_view key) {
  fire(kvKeyTopic(key));
  for (size_t n = 0; n <= key.size(); ++n) fire(kvPrefixTopic(key.substr(0, n)));
}

}  // namespace trellis::state
