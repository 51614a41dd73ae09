// Open-loop constant-rate HTTP/1.1 latency probe for bench/proxy. Requests are due on a fixed
// schedule (request k at start + k / rate) whatever the server does; each is sent on an idle
// keep-alive connection as soon as one is free, and its latency runs from the scheduled time,
// not the send time. A closed-loop tool would wait for a slow answer before sending the next
// request and so hide the stall (coordinated omission); here a stall shows up in every request
// that was due during it. Single thread, one epoll loop, a timerfd as the clock. Bounded: stops
// at warm-up + duration + drain seconds at the latest. Prints one JSON object on stdout.
#include <sys/epoll.h>
#include <sys/timerfd.h>

#include <fcntl.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "http1.h"

namespace trellis::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int port = 0;
  double rate = 1000;
  double duration_s = 10;
  double warmup_s = 1;   // requests due in the warm-up are sent but not recorded
  double drain_s = 5;    // after the last scheduled request, how long answers may still take
  int connections = 32;  // the pool; a request waits (and its latency grows) when all are busy
  std::string path = "/";
};

bool parseOptions(int argc, char** argv, Options& o) {
  if (argc % 2 == 0) return false;
  std::map<std::string, std::string> kv;
  for (int i = 1; i + 1 < argc; i += 2) kv[argv[i]] = argv[i + 1];
  for (const auto& [k, v] : kv) {
    if (k == "--port")
      o.port = std::stoi(v);
    else if (k == "--rate")
      o.rate = std::stod(v);
    else if (k == "--duration" || k == "-d")
      o.duration_s = std::stod(v);
    else if (k == "--warmup")
      o.warmup_s = std::stod(v);
    else if (k == "--drain")
      o.drain_s = std::stod(v);
    else if (k == "--connections" || k == "-c")
      o.connections = std::stoi(v);
    else if (k == "--path")
      o.path = v;
    else
      return false;
  }
  return o.port > 0 && o.rate > 0 && o.rate <= 1e6 && o.duration_s > 0 && o.duration_s <= 3600 &&
         o.warmup_s >= 0 && o.drain_s > 0 && o.connections > 0 && o.connections <= 10000;
}

struct Conn {
  int fd = -1;
  ResponseParser parser;
  bool busy = false;
  Clock::time_point scheduled;
};

class RateBench {
 public:
  explicit RateBench(const Options& o)
      : o_(o), request_("GET " + o.path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") {}

  int run() {
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    timer_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (epoll_ < 0 || timer_ < 0) return fail("epoll/timerfd");
    conns_.resize(static_cast<size_t>(o_.connections));
    for (size_t i = 0; i < conns_.size(); ++i) {
      if (!open(i)) return fail("connect");
    }
    // steady_clock is CLOCK_MONOTONIC on Linux, so the timer and the schedule share one clock.
    start_ = Clock::now() + std::chrono::milliseconds(10);
    auto period = std::chrono::nanoseconds(static_cast<int64_t>(1e9 / o_.rate));
    itimerspec spec{};
    spec.it_value = toTimespec(start_);
    spec.it_interval.tv_sec = period.count() / 1000000000;
    spec.it_interval.tv_nsec = period.count() % 1000000000;
    if (::timerfd_settime(timer_, TFD_TIMER_ABSTIME, &spec, nullptr) < 0) return fail("timer");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kTimerTag;
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, timer_, &ev);

    total_ = static_cast<int64_t>(std::llround((o_.warmup_s + o_.duration_s) * o_.rate));
    measure_from_ = start_ + toDuration(o_.warmup_s);
    deadline_ = start_ + toDuration(o_.warmup_s + o_.duration_s + o_.drain_s);
    epoll_event events[64];
    while (Clock::now() < deadline_) {
      if (next_ >= total_ && pending_.empty() && busyCount() == 0) break;
      int n = ::epoll_wait(epoll_, events, 64, 50);
      for (int i = 0; i < n; ++i) {
        if (events[i].data.u64 == kTimerTag) {
          onTimer();
        } else {
          onReadable(static_cast<size_t>(events[i].data.u64));
        }
      }
      dispatch();
    }
    finish();
    return 0;
  }

 private:
  static constexpr uint64_t kTimerTag = ~uint64_t{0};

  static Clock::duration toDuration(double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  }
  static timespec toTimespec(Clock::time_point t) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    return timespec{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  }
  int fail(const char* what) {
    std::fprintf(stderr, "ratebench: %s failed on 127.0.0.1:%d: %s\n", what, o_.port,
                 std::strerror(errno));
    return 1;
  }

  bool open(size_t i) {
    Conn& c = conns_[i];
    c.fd = connectLoopback(o_.port, false);
    if (c.fd < 0) return false;
    ::fcntl(c.fd, F_SETFL, ::fcntl(c.fd, F_GETFL) | O_NONBLOCK);
    c.parser = ResponseParser{};
    c.busy = false;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev);
    idle_.push_back(i);
    return true;
  }

  // A broken connection fails the request it carried and is replaced; the pool never shrinks
  // unless the server stops accepting.
  void reset(size_t i) {
    Conn& c = conns_[i];
    if (c.busy) ++errors_;
    ::close(c.fd);
    c.fd = -1;
    c.busy = false;
    idle_.erase(std::remove(idle_.begin(), idle_.end(), i), idle_.end());
    if (!open(i)) ++errors_;
  }

  void onTimer() {
    uint64_t expirations = 0;
    if (::read(timer_, &expirations, sizeof(expirations)) < 0) return;
    // Derive due requests from the clock, not from the expiration count, so a late wake-up
    // still queues everything that was due, each with its own scheduled time.
    double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    int64_t due = std::min(total_, static_cast<int64_t>(std::floor(elapsed * o_.rate)) + 1);
    for (; next_ < due; ++next_) pending_.push_back(start_ + toDuration(next_ / o_.rate));
  }

  void dispatch() {
    while (!pending_.empty() && !idle_.empty()) {
      size_t i = idle_.back();
      idle_.pop_back();
      Conn& c = conns_[i];
      c.busy = true;
      c.scheduled = pending_.front();
      pending_.pop_front();
      if (!sendAll(c.fd, request_)) reset(i);
    }
  }

  void onReadable(size_t i) {
    Conn& c = conns_[i];
    char buf[65536];
    for (;;) {
      ssize_t n = ::recv(c.fd, buf, sizeof(buf), 0);
      if (n > 0) {
        c.parser.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      reset(i);  // closed by the peer or a hard error
      return;
    }
    Response r;
    int got = c.parser.next(r);
    if (got < 0 || (got == 1 && !c.busy)) {
      reset(i);
      return;
    }
    if (got == 0) return;
    auto now = Clock::now();
    if (r.status != 200) ++errors_;
    if (c.scheduled >= measure_from_) {
      latencies_ms_.push_back(std::chrono::duration<double, std::milli>(now - c.scheduled).count());
    }
    ++completed_;
    c.busy = false;
    idle_.push_back(i);
  }

  size_t busyCount() const {
    return static_cast<size_t>(std::count_if(conns_.begin(), conns_.end(),
                                             [](const Conn& c) { return c.busy; }));
  }

  void finish() {
    // Requests still queued or in flight at the deadline count with the time they have waited so
    // far: a lower bound, but dropping them would flatter the tail.
    auto now = Clock::now();
    int64_t unfinished = 0;
    auto addUnfinished = [&](Clock::time_point scheduled) {
      ++unfinished;
      if (scheduled >= measure_from_) {
        latencies_ms_.push_back(std::chrono::duration<double, std::milli>(now - scheduled).count());
      }
    };
    for (const Conn& c : conns_) {
      if (c.busy) addUnfinished(c.scheduled);
    }
    for (auto t : pending_) addUnfinished(t);
    unfinished += total_ - next_;  // never even due: the deadline came first
    std::sort(latencies_ms_.begin(), latencies_ms_.end());
    auto pct = [&](double p) {
      if (latencies_ms_.empty()) return 0.0;
      size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * latencies_ms_.size()));
      return latencies_ms_[std::min(latencies_ms_.size() - 1, rank == 0 ? 0 : rank - 1)];
    };
    double sum = 0;
    for (double v : latencies_ms_) sum += v;
    double mean = latencies_ms_.empty() ? 0 : sum / latencies_ms_.size();
    std::printf(
        "{\"rate\": %.0f, \"duration_s\": %.1f, \"connections\": %d, \"scheduled\": %lld, "
        "\"completed\": %lld, \"errors\": %lld, \"unfinished\": %lld, \"recorded\": %zu, "
        "\"p50_ms\": %.3f, \"p90_ms\": %.3f, \"p99_ms\": %.3f, \"p999_ms\": %.3f, "
        "\"max_ms\": %.3f, \"mean_ms\": %.3f}\n",
        o_.rate, o_.duration_s, o_.connections, static_cast<long long>(total_),
        static_cast<long long>(completed_), static_cast<long long>(errors_),
        static_cast<long long>(unfinished), latencies_ms_.size(), pct(50), pct(90), pct(99),
        pct(99.9), latencies_ms_.empty() ? 0.0 : latencies_ms_.back(), mean);
  }

  Options o_;
  std::string request_;
  int epoll_ = -1;
  int timer_ = -1;
  std::vector<Conn> conns_;
  std::vector<size_t> idle_;
  std::deque<Clock::time_point> pending_;
  Clock::time_point start_, measure_from_, deadline_;
  int64_t total_ = 0;
  int64_t next_ = 0;  // index of the next request to become due
  int64_t completed_ = 0;
  int64_t errors_ = 0;
  std::vector<double> latencies_ms_;
};

}  // namespace
}  // namespace trellis::bench

int main(int argc, char** argv) {
  trellis::bench::Options o;
  bool ok = false;
  try {
    ok = trellis::bench::parseOptions(argc, argv, o);
  } catch (const std::exception&) {
    ok = false;  // std::stoi/stod on a malformed number
  }
  if (!ok) {
    std::fprintf(stderr,
                 "usage: ratebench --port P [--rate 1000] [-d 10] [--warmup 1] [--drain 5] "
                 "[-c 32] [--path /]\n");
    return 2;
  }
  return trellis::bench::RateBench(o).run();
}
