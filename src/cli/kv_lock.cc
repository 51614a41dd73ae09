#include "cli/kv_lock.h"

#include <nlohmann/json.hpp>

#include "common/duration.h"

namespace trellis::cli {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string kvPath(const std::string& key) { return "/v1/kv/" + encodePath(key); }

std::string describe(const Result<http::HttpResponse>& r) {
  return r ? unexpectedResponse(*r) : r.status().message();
}

}  // namespace

Status KvLock::createSession() {
  nlohmann::json body = {
      {"Name", opts_.sessionName}, {"TTL", formatGoDuration(opts_.ttl)}, {"Behavior", "release"}};
  ApiCall call;
  call.method = "PUT";
  call.read = false;
  call.path = "/v1/session/create";
  call.body = body.dump();
  auto res = client_.send(call);
  if (!res) return res.status();
  if (!isSuccess(*res)) return internalError(unexpectedResponse(*res));
  auto parsed = nlohmann::json::parse(res->body, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("ID") || !parsed["ID"].is_string()) {
    return internalError("session create returned no ID");
  }
  session_ = parsed["ID"].get<std::string>();
  return Status::ok();
}

bool KvLock::sleepUnlessStopped(milliseconds d) const {
  const auto until = Clock::now() + d;
  while (Clock::now() < until) {
    if (stop_.load()) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(milliseconds(50), until - Clock::now()));
  }
  return !stop_.load();
}

void KvLock::startRenewal() {
  renewer_ = std::thread([this] { renewLoop(); });
}

void KvLock::renewLoop() {
  auto lastOk = Clock::now();
  milliseconds wait = std::chrono::duration_cast<milliseconds>(opts_.ttl) / 2;
  while (sleepUnlessStopped(wait)) {
    ApiCall call;
    call.method = "PUT";
    call.read = false;
    call.path = "/v1/session/renew/" + encodeComponent(session_);
    call.cancelled = [this] { return stop_.load(); };
    auto res = client_.send(call);
    if (stop_.load()) return;
    if (res && isSuccess(*res)) {
      lastOk = Clock::now();
      wait = std::chrono::duration_cast<milliseconds>(opts_.ttl) / 2;
      continue;
    }
    // 404: the session is gone (expired or destroyed), so the server has released our lock.
    if ((res && res->status == 404) || Clock::now() - lastOk > opts_.ttl) {
      lost_.store(true);
      return;
    }
    wait = milliseconds(1000);
  }
}

Result<KvLock::KeyState> KvLock::readKey(uint64_t waitIndex, milliseconds wait,
                                         const std::function<bool()>& cancelled) const {
  ApiCall call;
  call.path = kvPath(opts_.key);
  call.cancelled = cancelled;
  auto res = client_.blockingGet(call, waitIndex, wait);
  if (!res) return res.status();
  KeyState st;
  st.index = consulIndex(*res);
  if (res->status == 404) return st;
  if (!isSuccess(*res)) return Status(Code::kUnavailable, unexpectedResponse(*res));
  auto parsed = nlohmann::json::parse(res->body, nullptr, false);
  if (!parsed.is_array()) return internalError("unexpected KV response body");
  if (parsed.empty() || !parsed[0].is_object()) return st;
  const auto& pair = parsed[0];
  st.exists = true;
  st.flags = pair.value("Flags", uint64_t{0});
  st.session = pair.value("Session", std::string());
  st.modifyIndex = pair.value("ModifyIndex", uint64_t{0});
  return st;
}

Result<bool> KvLock::putKey(std::string_view op) const {
  ApiCall call;
  call.method = "PUT";
  call.read = false;
  call.path = kvPath(opts_.key);
  call.query.add("flags", std::to_string(kLockFlagValue));
  call.query.add(std::string(op), session_);
  auto res = client_.send(call);
  if (!res) return res.status();
  if (!isSuccess(*res)) return internalError(unexpectedResponse(*res));
  return res->body.find("true") != std::string::npos;
}

Result<KvLock::Outcome> KvLock::acquire(std::optional<Clock::time_point> deadline,
                                        const std::function<bool()>& cancelled) {
  uint64_t waitIndex = 0;
  while (true) {
    if (cancelled && cancelled()) return Outcome::kCancelled;
    milliseconds wait = opts_.waitTime;
    if (deadline) {
      auto left = std::chrono::duration_cast<milliseconds>(*deadline - Clock::now());
      if (left <= milliseconds(0)) return Outcome::kTimedOut;
      wait = std::min(wait, left);
    }
    auto key = readKey(waitIndex, wait, cancelled);
    if (cancelled && cancelled()) return Outcome::kCancelled;
    if (!key) return internalError("failed to read lock: " + key.status().message());
    if (key->exists && key->flags != kLockFlagValue) {
      return internalError("Existing key does not match lock use");
    }
    if (key->exists && key->session == session_) {
      heldIndex_ = key->index;
      return Outcome::kAcquired;
    }
    if (key->exists && !key->session.empty()) {
      waitIndex = key->index;
      continue;
    }
    auto locked = putKey("acquire");
    if (!locked) return internalError("failed to acquire lock: " + locked.status().message());
    if (*locked) {
      heldIndex_ = 0;  // the monitor's first read returns at once and sets the index
      return Outcome::kAcquired;
    }
    // Refused although free: either someone was faster (wait on the key) or a lock-delay is
    // in effect after an invalidated session (nothing to block on, so retry on a timer).
    auto again = readKey(0, wait, cancelled);
    if (again && again->exists && !again->session.empty()) {
      waitIndex = again->index;
      continue;
    }
    waitIndex = 0;
    auto until = Clock::now() + opts_.lockDelayRetry;
    if (deadline) until = std::min(until, *deadline);
    while (Clock::now() < until) {
      if (cancelled && cancelled()) return Outcome::kCancelled;
      std::this_thread::sleep_for(milliseconds(50));
    }
  }
}

void KvLock::startMonitor() {
  monitor_ = std::thread([this] { monitorLoop(); });
}

void KvLock::monitorLoop() {
  uint64_t index = heldIndex_;
  int retries = opts_.monitorRetries;
  auto stopped = [this] { return stop_.load(); };
  while (!stop_.load()) {
    auto key = readKey(index, opts_.waitTime, stopped);
    if (stop_.load()) return;
    if (!key) {
      // Ride out brief unavailability (transport errors, 5xx) before giving the lock up.
      if (retries-- > 0 && sleepUnlessStopped(opts_.monitorRetryTime)) {
        index = 0;
        continue;
      }
      if (!stop_.load()) lost_.store(true);
      return;
    }
    retries = opts_.monitorRetries;
    if (!key->exists || key->session != session_) {
      lost_.store(true);
      return;
    }
    index = key->index < index ? 0 : key->index;
  }
}

void KvLock::stopThreads() {
  stop_.store(true);
  if (monitor_.joinable()) monitor_.join();
  if (renewer_.joinable()) renewer_.join();
}

Status KvLock::release() {
  auto released = putKey("release");
  if (!released) return released.status();
  return Status::ok();
}

Status KvLock::cleanup() {
  auto key = readKey(0, opts_.waitTime, nullptr);
  if (!key) return key.status();
  // Someone else holds or waits on it, or it is not a lock: leave it alone.
  if (!key->exists || !key->session.empty() || key->flags != kLockFlagValue) return Status::ok();
  ApiCall call;
  call.method = "DELETE";
  call.read = false;
  call.path = kvPath(opts_.key);
  call.query.add("cas", std::to_string(key->modifyIndex));
  auto res = client_.send(call);
  if (!res) return res.status();
  if (!isSuccess(*res)) return internalError(unexpectedResponse(*res));
  return Status::ok();
}

Status KvLock::destroySession() {
  if (session_.empty()) return Status::ok();
  ApiCall call;
  call.method = "PUT";
  call.read = false;
  call.path = "/v1/session/destroy/" + encodeComponent(session_);
  auto res = client_.send(call);
  if (!res || !isSuccess(*res)) return internalError(describe(res));
  return Status::ok();
}

}  // namespace trellis::cli
