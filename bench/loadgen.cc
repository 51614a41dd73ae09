// Closed-loop HTTP/1.1 load generator for Trellis and etcd, plus the blocking-query fan-out
// measurement. Each thread owns an epoll loop and a share of the keep-alive connections; every
// connection has exactly one request in flight, so the generator costs one send and one or two
// recv calls per request. Prints one JSON object on stdout. See bench/README.md.
#include <sys/epoll.h>
#include <sys/types.h>
#include <sys/resource.h>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "http1.h"

namespace trellis::bench {
namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

struct Options {
  std::string mode;
  int port = 0;
  int connections = 32;
  int threads = 1;
  double duration_s = 10;
  int64_t max_requests = 0;  // 0: bounded by duration only
  double warmup_s = 2;
  int keys = 1000;
  int value_size = 128;
  int services = 10;  // trellis-register/-health: instances are spread over this many names;
                      // trellis-authorize: destinations
  int sources = 100;  // trellis-authorize: intentions per destination
  int watchers = 10000;
  int pid = 0;  // fanout: the server whose RSS and open descriptors are read
  double settle_s = 2;
};

bool parseOptions(int argc, char** argv, Options& o) {
  std::map<std::string, std::string> kv;
  for (int i = 1; i + 1 < argc; i += 2) kv[argv[i]] = argv[i + 1];
  if (argc % 2 == 0) return false;
  for (const auto& [k, v] : kv) {
    if (k == "--mode")
      o.mode = v;
    else if (k == "--port")
      o.port = std::stoi(v);
    else if (k == "--connections" || k == "-c")
      o.connections = std::stoi(v);
    else if (k == "--threads" || k == "-t")
      o.threads = std::stoi(v);
    else if (k == "--duration" || k == "-d")
      o.duration_s = std::stod(v);
    else if (k == "--requests" || k == "-n")
      o.max_requests = std::stoll(v);
    else if (k == "--warmup")
      o.warmup_s = std::stod(v);
    else if (k == "--keys")
      o.keys = std::stoi(v);
    else if (k == "--value-size")
      o.value_size = std::stoi(v);
    else if (k == "--services")
      o.services = std::stoi(v);
    else if (k == "--sources")
      o.sources = std::stoi(v);
    else if (k == "--watchers")
      o.watchers = std::stoi(v);
    else if (k == "--pid")
      o.pid = std::stoi(v);
    else if (k == "--settle")
      o.settle_s = std::stod(v);
    else
      return false;
  }
  return !o.mode.empty() && o.port > 0 && o.connections > 0 && o.threads > 0 && o.duration_s > 0 &&
         o.keys > 0 && o.services > 0 && o.sources > 0;
}

// ---- Workloads: the request bytes, built once so the measured loop only copies pointers.

std::string header(std::string_view method, std::string_view path) {
  return std::string(method) + " " + std::string(path) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
}

std::string withBody(std::string head, std::string_view type, std::string_view body) {
  if (!type.empty()) head += "Content-Type: " + std::string(type) + "\r\n";
  head += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  head += body;
  return head;
}

std::string keyName(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "bench/k%04d", i);
  return buf;
}

std::string makeValue(int size) {
  std::mt19937 rng(42);
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string v(static_cast<size_t>(size), 'x');
  for (char& c : v) c = kChars[rng() % 36];
  return v;
}

std::string trellisPut(const std::string& key, const std::string& value) {
  return withBody(header("PUT", "/v1/kv/" + key), "", value);
}

std::string etcdPut(const std::string& key, const std::string& value) {
  return withBody(header("POST", "/v3/kv/put"), "application/json",
                  R"({"key":")" + base64(key) + R"(","value":")" + base64(value) + R"("})");
}

std::string trellisRegister(int i, int services) {
  std::string body = R"({"Name":"bench)" + std::to_string(i % services) + R"(","ID":"bench-)" +
                     std::to_string(i) + R"(","Port":)" + std::to_string(20000 + i) + "}";
  return withBody(header("PUT", "/v1/agent/service/register"), "application/json", body);
}

// trellis-authorize: destination `dst-D` holds one service-intentions entry with `sources`
// sources `src-S`; every fourth pair is denied, so answers are not all the same.
std::string intentionsEntry(int d, int sources) {
  std::string body = R"({"Kind":"service-intentions","Name":"dst-)" + std::to_string(d) +
                     R"(","Sources":[)";
  for (int s = 0; s < sources; ++s) {
    if (s > 0) body += ',';
    body += R"({"Name":"src-)" + std::to_string(s) + R"(","Action":")" +
            ((s + d) % 4 == 0 ? "deny" : "allow") + R"("})";
  }
  return withBody(header("PUT", "/v1/config"), "application/json", body + "]}");
}

// A blocking GET on a fresh connection; the body, or nullopt on any failure or non-200.
std::optional<std::string> fetch(int port, const std::string& path) {
  int fd = connectLoopback(port, false);
  if (fd < 0) return std::nullopt;
  ResponseParser parser;
  parser.keepBody(true);
  Response r;
  bool ok = roundTrip(fd, parser, header("GET", path) + "\r\n", r) && r.status == 200;
  ::close(fd);
  if (!ok) return std::nullopt;
  return r.body;
}

// The string value of "field" in a JSON body (no escapes inside: trust domains have none).
std::string jsonString(const std::string& body, const std::string& field) {
  size_t at = body.find("\"" + field + "\"");
  if (at == std::string::npos) return "";
  at = body.find('"', body.find(':', at));
  if (at == std::string::npos) return "";
  size_t end = body.find('"', at + 1);
  return end == std::string::npos ? "" : body.substr(at + 1, end - at - 1);
}

bool authorizedTrue(const std::string& body) {
  size_t at = body.find("\"Authorized\"");
  if (at == std::string::npos) return false;
  at = body.find(':', at);
  if (at == std::string::npos) return false;
  at = body.find_first_not_of(" \t\r\n", at + 1);
  return at != std::string::npos && body.compare(at, 4, "true") == 0;
}

struct Workload {
  std::vector<std::string> prefill;  // run once, unmeasured, before warm-up
  std::vector<std::string> requests;
  // When set, every request is made fresh from this (trellis-leaf: a never-used service name).
  std::function<std::string()> make;
  bool count_authorized = false;  // trellis-authorize: count "Authorized": true answers
};

bool buildWorkload(const Options& o, Workload& w) {
  if (o.mode == "trellis-leaf") {
    // Unique per loadgen process and per request, across warm-up and measured runs, so that
    // every request misses the agent's leaf cache: agent key + CSR, server sign, every time.
    auto counter = std::make_shared<std::atomic<int64_t>>(0);
    std::string prefix = "/v1/agent/connect/ca/leaf/lg" + std::to_string(::getpid()) + "-";
    w.make = [counter, prefix]() {
      return header("GET", prefix + std::to_string(counter->fetch_add(1))) + "\r\n";
    };
    w.requests.push_back("");  // placeholder: never sent
    return true;
  }
  if (o.mode == "trellis-authorize") {
    auto body = fetch(o.port, "/v1/connect/ca/roots");
    std::string td = body ? jsonString(*body, "TrustDomain") : "";
    if (td.empty()) {
      std::fprintf(stderr, "loadgen: no TrustDomain from /v1/connect/ca/roots\n");
      return false;
    }
    for (int d = 0; d < o.services; ++d) w.prefill.push_back(intentionsEntry(d, o.sources));
    // A tenth of the names on each side match no intention: those take the default path.
    std::mt19937 rng(7);
    int src_names = o.sources + std::max(1, o.sources / 10);
    int dst_names = o.services + std::max(1, o.services / 10);
    for (int i = 0; i < o.keys; ++i) {
      std::string body = R"({"Target":"dst-)" + std::to_string(rng() % dst_names) +
                         R"(","ClientCertURI":"spiffe://)" + td + "/ns/default/dc/dc1/svc/src-" +
                         std::to_string(rng() % src_names) + R"("})";
      w.requests.push_back(
          withBody(header("POST", "/v1/agent/connect/authorize"), "application/json", body));
    }
    w.count_authorized = true;
    return true;
  }
  std::string value = makeValue(o.value_size);
  for (int i = 0; i < o.keys; ++i) {
    std::string key = keyName(i);
    if (o.mode == "trellis-kv-put") {
      w.requests.push_back(trellisPut(key, value));
    } else if (o.mode == "trellis-kv-get") {
      w.prefill.push_back(trellisPut(key, value));
      w.requests.push_back(header("GET", "/v1/kv/" + key) + "\r\n");
    } else if (o.mode == "etcd-put") {
      w.requests.push_back(etcdPut(key, value));
    } else if (o.mode == "etcd-get" || o.mode == "etcd-get-serializable") {
      w.prefill.push_back(etcdPut(key, value));
      std::string body = R"({"key":")" + base64(key) + "\"";
      if (o.mode == "etcd-get-serializable") body += R"(,"serializable":true)";
      w.requests.push_back(
          withBody(header("POST", "/v3/kv/range"), "application/json", body + "}"));
    } else if (o.mode == "trellis-register") {
      w.requests.push_back(trellisRegister(i, o.services));
    } else if (o.mode == "trellis-health") {
      w.prefill.push_back(trellisRegister(i, o.services));
      if (i < o.services) {
        w.requests.push_back(header("GET", "/v1/health/service/bench" + std::to_string(i)) +
                             "\r\n");
      }
    } else {
      return false;
    }
  }
  return true;
}

// ---- Closed loop.

struct Shared {
  int port;
  const std::vector<std::string>* requests;
  const std::function<std::string()>* make = nullptr;
  bool count_authorized = false;
  int64_t max_requests;
  std::atomic<int64_t> issued{0};
  Clock::time_point start;
  Clock::time_point deadline;
};

struct ThreadStats {
  std::vector<uint32_t> latency_us;
  int64_t completed = 0;
  int64_t errors = 0;
  int64_t authorized = 0;
  Clock::time_point last_done;
};

struct Conn {
  int fd = -1;
  bool done = false;
  Clock::time_point sent;
  ResponseParser parser;
  std::string made;  // the request in flight when Workload::make builds them
};

class Worker {
 public:
  Worker(Shared& sh, int nconns, bool record, ThreadStats& st)
      : sh_(sh), conns_(static_cast<size_t>(nconns)), record_(record), st_(st) {}

  void connectAll() {
    ep_ = ::epoll_create1(EPOLL_CLOEXEC);
    for (size_t i = 0; i < conns_.size(); ++i) open(i);
  }

  void run() {
    active_ = static_cast<int>(conns_.size());
    for (size_t i = 0; i < conns_.size(); ++i) issue(i);
    std::vector<epoll_event> events(256);
    char buf[65536];
    // A request still unanswered this long after the deadline counts as an error.
    auto give_up = sh_.deadline + std::chrono::seconds(15);
    while (active_ > 0) {
      int n = ::epoll_wait(ep_, events.data(), static_cast<int>(events.size()), 100);
      for (int e = 0; e < n; ++e) readable(events[e].data.u32, buf, sizeof(buf));
      if (Clock::now() > give_up) {
        for (auto& c : conns_) {
          if (!c.done) ++st_.errors;
        }
        break;
      }
    }
    for (auto& c : conns_) {
      if (c.fd >= 0) ::close(c.fd);
    }
    ::close(ep_);
  }

 private:
  void open(size_t i) {
    Conn& c = conns_[i];
    c.fd = connectLoopback(sh_.port, false);
    c.parser = ResponseParser{};
    c.parser.keepBody(sh_.count_authorized);
    if (c.fd < 0) return;
    ::fcntl(c.fd, F_SETFL, ::fcntl(c.fd, F_GETFL) | O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(i);
    ::epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
  }

  void finish(Conn& c) {
    c.done = true;
    --active_;
  }

  void issue(size_t i) {
    Conn& c = conns_[i];
    auto now = Clock::now();
    if (now >= sh_.deadline) return finish(c);
    int64_t seq = sh_.issued.fetch_add(1, std::memory_order_relaxed);
    if (sh_.max_requests > 0 && seq >= sh_.max_requests) return finish(c);
    if (sh_.make != nullptr) c.made = (*sh_.make)();
    const std::string& req = sh_.make != nullptr
                                 ? c.made
                                 : (*sh_.requests)[static_cast<size_t>(seq) % sh_.requests->size()];
    c.sent = now;
    if (c.fd < 0 || !sendNonblocking(c.fd, req)) {
      ++st_.errors;
      reopen(i);
    }
  }

  // The socket is idle when a request goes out (one in flight), so a short write never happens in
  // practice; if it does, the rest is pushed with poll rather than by an EPOLLOUT state machine.
  static bool sendNonblocking(int fd, std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<size_t>(n));
      } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        pollfd p{fd, POLLOUT, 0};
        ::poll(&p, 1, 1000);
      } else {
        return false;
      }
    }
    return true;
  }

  void reopen(size_t i) {
    Conn& c = conns_[i];
    if (c.fd >= 0) ::close(c.fd);
    c.fd = -1;
    if (Clock::now() >= sh_.deadline) return finish(c);
    open(i);
    if (c.fd < 0) {
      // The server refuses connections: back off a little instead of spinning.
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    issue(i);
  }

  void readable(uint32_t i, char* buf, size_t cap) {
    Conn& c = conns_[i];
    if (c.done || c.fd < 0) return;
    for (;;) {
      ssize_t n = ::recv(c.fd, buf, cap, 0);
      if (n > 0) {
        c.parser.append(buf, static_cast<size_t>(n));
        if (static_cast<size_t>(n) < cap) break;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      ++st_.errors;  // EOF or reset with a request in flight
      return reopen(i);
    }
    Response r;
    int status = c.parser.next(r);
    if (status == 0) return;
    auto now = Clock::now();
    if (status < 0 || r.status != 200) {
      ++st_.errors;
      if (status < 0) return reopen(i);
    } else {
      ++st_.completed;
      if (sh_.count_authorized && authorizedTrue(r.body)) ++st_.authorized;
      if (record_) {
        st_.latency_us.push_back(static_cast<uint32_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(now - c.sent).count()));
      }
    }
    st_.last_done = now;
    issue(i);
  }

  Shared& sh_;
  std::vector<Conn> conns_;
  bool record_;
  ThreadStats& st_;
  int ep_ = -1;
  int active_ = 0;
};

struct LoadResult {
  int64_t requests = 0;
  int64_t errors = 0;
  int64_t authorized = 0;
  double seconds = 0;
  std::vector<uint32_t> latency_us;
};

LoadResult closedLoop(const Options& o, const std::vector<std::string>& requests, double duration_s,
                      int64_t max_requests, bool record, const Workload* w = nullptr) {
  Shared sh;
  sh.port = o.port;
  sh.requests = &requests;
  if (w != nullptr && w->make) sh.make = &w->make;
  sh.count_authorized = w != nullptr && w->count_authorized;
  sh.max_requests = max_requests;
  int threads = std::min(o.threads, o.connections);
  std::vector<ThreadStats> stats(static_cast<size_t>(threads));
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < threads; ++t) {
    int share = o.connections / threads + (t < o.connections % threads ? 1 : 0);
    workers.push_back(std::make_unique<Worker>(sh, share, record, stats[static_cast<size_t>(t)]));
  }
  // Every connection is open before the clock starts.
  std::barrier sync(threads, [&]() noexcept {
    sh.start = Clock::now();
    sh.deadline = sh.start + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(duration_s));
  });
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      workers[static_cast<size_t>(t)]->connectAll();
      sync.arrive_and_wait();
      workers[static_cast<size_t>(t)]->run();
    });
  }
  for (auto& th : pool) th.join();
  LoadResult out;
  Clock::time_point last = sh.start;
  for (auto& s : stats) {
    out.requests += s.completed;
    out.errors += s.errors;
    out.authorized += s.authorized;
    last = std::max(last, s.last_done);
    out.latency_us.insert(out.latency_us.end(), s.latency_us.begin(), s.latency_us.end());
  }
  out.seconds = msSince(sh.start, last) / 1000.0;
  return out;
}

double percentileMs(std::vector<uint32_t>& v, double p) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k] / 1000.0;
}

// CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat; -1 if unknown.
double processCpuSeconds(int pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return -1;
  char buf[1024];
  size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* p = std::strrchr(buf, ')');
  if (p == nullptr) return -1;
  // After ") " come state (field 3) ... utime (14) and stime (15).
  unsigned long long utime = 0, stime = 0;
  if (std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) !=
      2) {
    return -1;
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// Busy CPU seconds of the whole machine (all but idle and iowait), from /proc/stat.
double machineBusySeconds() {
  FILE* f = std::fopen("/proc/stat", "r");
  if (f == nullptr) return -1;
  unsigned long long v[8] = {};
  int n = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                      &v[4], &v[5], &v[6], &v[7]);
  std::fclose(f);
  if (n != 8) return -1;
  unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
  return static_cast<double>(busy) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double selfCpuSeconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

int runLoad(const Options& o) {
  Workload w;
  if (!buildWorkload(o, w)) {
    std::fprintf(stderr, "loadgen: unknown mode %s\n", o.mode.c_str());
    return 2;
  }
  if (!w.prefill.empty()) {
    LoadResult p = closedLoop(o, w.prefill, 120, static_cast<int64_t>(w.prefill.size()), false);
    if (p.errors > 0 || p.requests != static_cast<int64_t>(w.prefill.size())) {
      std::fprintf(stderr, "loadgen: prefill failed (%lld ok, %lld errors)\n",
                   static_cast<long long>(p.requests), static_cast<long long>(p.errors));
      return 1;
    }
  }
  if (o.warmup_s > 0) closedLoop(o, w.requests, o.warmup_s, 0, false, &w);
  double server_cpu0 = o.pid > 0 ? processCpuSeconds(o.pid) : -1;
  double self_cpu0 = selfCpuSeconds();
  double machine0 = machineBusySeconds();
  LoadResult r = closedLoop(o, w.requests, o.duration_s, o.max_requests, true, &w);
  // Who is busy tells what bounds the number: a server near its core count, or the generator.
  double server_cores = -1;
  if (server_cpu0 >= 0 && r.seconds > 0) {
    server_cores = (processCpuSeconds(o.pid) - server_cpu0) / r.seconds;
  }
  double loadgen_cores = r.seconds > 0 ? (selfCpuSeconds() - self_cpu0) / r.seconds : 0;
  // Everything else that ran meanwhile (other processes, interrupts): the noise on a shared box.
  double other_cores = -1;
  if (machine0 >= 0 && server_cores >= 0 && r.seconds > 0) {
    other_cores = (machineBusySeconds() - machine0) / r.seconds - server_cores - loadgen_cores;
  }
  double rps = r.seconds > 0 ? static_cast<double>(r.requests) / r.seconds : 0;
  double p50 = percentileMs(r.latency_us, 0.50);
  double p99 = percentileMs(r.latency_us, 0.99);
  double p999 = percentileMs(r.latency_us, 0.999);
  std::string extra;
  if (w.count_authorized) extra = ",\"authorized\":" + std::to_string(r.authorized);
  std::printf(
      "{\"mode\":\"%s\",\"connections\":%d,\"requests\":%lld,\"seconds\":%.3f,\"rps\":%.0f,"
      "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"errors\":%lld,"
      "\"server_cores\":%.2f,\"loadgen_cores\":%.2f,\"other_cores\":%.2f%s}\n",
      o.mode.c_str(), o.connections, static_cast<long long>(r.requests), r.seconds, rps, p50, p99,
      p999, static_cast<long long>(r.errors), server_cores, loadgen_cores, other_cores,
      extra.c_str());
  return r.errors > 0 ? 1 : 0;
}

// ---- Fan-out: W parked blocking queries on one key, one write, time until all have returned.

int64_t procStatusKib(int pid, const char* field) {
  std::string path = "/proc/" + std::to_string(pid) + "/status";
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return -1;
  char line[256];
  int64_t out = -1;
  size_t len = std::strlen(field);
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    if (std::strncmp(line, field, len) == 0 && line[len] == ':') {
      out = std::strtoll(line + len + 1, nullptr, 10);
      break;
    }
  }
  std::fclose(f);
  return out;
}

int openFds(int pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return -1;
  int n = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n;
}

struct Watcher {
  int fd = -1;
  bool connected = false;
  bool returned = false;
  ResponseParser parser;
};

class Fanout {
 public:
  explicit Fanout(const Options& o) : o_(o), watchers_(static_cast<size_t>(o.watchers)) {}

  int run() {
    if (o_.pid <= 0) return fail("--pid of the agent is required");
    rlimit lim{};
    ::getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
    if (lim.rlim_cur < static_cast<rlim_t>(o_.watchers) + 64) {
      return fail("RLIMIT_NOFILE too low for the number of watchers");
    }
    const std::string key = "bench/fanout";
    const std::string value = makeValue(o_.value_size);
    control_ = connectLoopback(o_.port, false);
    if (control_ < 0) return fail("cannot connect");
    Response r;
    if (!roundTrip(control_, control_parser_, trellisPut(key, value), r) || r.status != 200 ||
        !roundTrip(control_, control_parser_, header("GET", "/v1/kv/" + key) + "\r\n", r) ||
        r.status != 200 || r.consul_index < 0) {
      return fail("setup PUT/GET failed");
    }
    index_ = r.consul_index;
    const std::string watch =
        header("GET", "/v1/kv/" + key + "?index=" + std::to_string(index_) + "&wait=60s") + "\r\n";

    ep_ = ::epoll_create1(EPOLL_CLOEXEC);
    int64_t rss_before = procStatusKib(o_.pid, "VmRSS");
    int fds_before = openFds(o_.pid);
    auto park_start = Clock::now();
    if (!openWatchers(watch, fds_before)) return fail("could not open every watcher");
    // Parked means: the agent holds every socket, and its memory has stopped growing.
    auto settle_until = Clock::now() + std::chrono::seconds(30);
    while (openFds(o_.pid) < fds_before + o_.watchers && Clock::now() < settle_until) pump(50);
    int64_t rss_parked = settle();
    double parked_ms = msSince(park_start, Clock::now());
    int fds_parked = openFds(o_.pid);

    auto t0 = Clock::now();
    std::string put = trellisPut(key, value + "!");
    if (!sendAll(control_, put)) return fail("trigger PUT failed");
    const Clock::time_point give_up = t0 + std::chrono::seconds(30);
    while (returned_ < o_.watchers && Clock::now() < give_up) pump(10, t0);
    double all_ms = msSince(t0, last_return_);
    bool put_ok = roundTripTail(r) && r.status == 200;
    std::sort(return_ms_.begin(), return_ms_.end());
    auto pct = [&](double p) {
      if (return_ms_.empty()) return 0.0;
      return return_ms_[std::min(return_ms_.size() - 1,
                                 static_cast<size_t>(p * static_cast<double>(return_ms_.size())))];
    };
    double kib_per = static_cast<double>(rss_parked - rss_before) / o_.watchers;
    int64_t missing = o_.watchers - returned_;
    std::printf(
        "{\"mode\":\"fanout\",\"watchers\":%d,\"agent_fds_added\":%d,\"park_ms\":%.0f,"
        "\"rss_before_kib\":%lld,\"rss_parked_kib\":%lld,\"kib_per_watcher\":%.2f,"
        "\"first_ms\":%.3f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"all_returned_ms\":%.3f,"
        "\"early\":%lld,\"missing\":%lld,\"errors\":%lld}\n",
        o_.watchers, fds_parked - fds_before, parked_ms, static_cast<long long>(rss_before),
        static_cast<long long>(rss_parked), kib_per, pct(0), pct(0.5), pct(0.99),
        missing == 0 ? all_ms : -1.0, static_cast<long long>(early_),
        static_cast<long long>(missing), static_cast<long long>(errors_ + (put_ok ? 0 : 1)));
    for (auto& w : watchers_) {
      if (w.fd >= 0) ::close(w.fd);
    }
    ::close(control_);
    return missing == 0 && early_ == 0 && errors_ == 0 && put_ok ? 0 : 1;
  }

 private:
  int fail(const char* why) {
    std::fprintf(stderr, "loadgen fanout: %s\n", why);
    return 1;
  }

  // Connects in batches so the agent's accept queue never overflows (a dropped SYN costs a 1 s
  // retransmit and would be charged to parking, not to the agent's fan-out).
  bool openWatchers(const std::string& watch, int fds_before) {
    watch_ = &watch;
    constexpr int kBatch = 500;
    for (int i = 0; i < o_.watchers; ++i) {
      Watcher& w = watchers_[static_cast<size_t>(i)];
      w.fd = connectLoopback(o_.port, true);
      if (w.fd < 0) return false;
      epoll_event ev{};
      ev.events = EPOLLOUT | EPOLLIN;
      ev.data.u32 = static_cast<uint32_t>(i);
      ::epoll_ctl(ep_, EPOLL_CTL_ADD, w.fd, &ev);
      if ((i + 1) % kBatch == 0) {
        auto until = Clock::now() + std::chrono::seconds(10);
        while (openFds(o_.pid) < fds_before + i + 1 - kBatch && Clock::now() < until) pump(5);
      }
    }
    auto until = Clock::now() + std::chrono::seconds(10);
    while (connected_ < o_.watchers && Clock::now() < until) pump(20);
    return connected_ == o_.watchers;
  }

  // Waits at least --settle seconds, then until two samples 250 ms apart agree within 1%.
  int64_t settle() {
    auto start = Clock::now();
    auto min_until = start + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(o_.settle_s));
    auto max_until = start + std::chrono::seconds(15);
    int64_t prev = procStatusKib(o_.pid, "VmRSS");
    for (;;) {
      auto next = Clock::now() + std::chrono::milliseconds(250);
      while (Clock::now() < next) pump(50);
      int64_t cur = procStatusKib(o_.pid, "VmRSS");
      bool stable = std::llabs(cur - prev) * 100 <= std::max<int64_t>(prev, 1);
      if ((Clock::now() >= min_until && stable) || Clock::now() >= max_until) return cur;
      prev = cur;
    }
  }

  void pump(int timeout_ms, std::optional<Clock::time_point> t0 = std::nullopt) {
    epoll_event events[512];
    int n = ::epoll_wait(ep_, events, 512, timeout_ms);
    char buf[16384];
    for (int e = 0; e < n; ++e) {
      uint32_t i = events[e].data.u32;
      Watcher& w = watchers_[i];
      if (w.returned || w.fd < 0) continue;
      if (!w.connected && (events[e].events & EPOLLOUT)) {
        int err = 0;
        socklen_t len = sizeof(err);
        ::getsockopt(w.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0 || !sendAll(w.fd, *watch_)) {
          ++errors_;
          drop(w);
          continue;
        }
        w.connected = true;
        ++connected_;
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = i;
        ::epoll_ctl(ep_, EPOLL_CTL_MOD, w.fd, &ev);
        continue;
      }
      if (!(events[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
      ssize_t got = ::recv(w.fd, buf, sizeof(buf), 0);
      if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (got <= 0) {
        ++errors_;
        drop(w);
        continue;
      }
      w.parser.append(buf, static_cast<size_t>(got));
      Response r;
      int status = w.parser.next(r);
      if (status == 0) continue;
      auto now = Clock::now();
      if (!t0) {
        ++early_;  // returned before the write: not parked
      } else if (status < 0 || r.status != 200 || r.consul_index <= index_) {
        ++errors_;
      } else {
        return_ms_.push_back(msSince(*t0, now));
        last_return_ = now;
      }
      w.returned = true;
      ++returned_;
      ::epoll_ctl(ep_, EPOLL_CTL_DEL, w.fd, nullptr);
    }
  }

  void drop(Watcher& w) {
    ::epoll_ctl(ep_, EPOLL_CTL_DEL, w.fd, nullptr);
    ::close(w.fd);
    w.fd = -1;
    w.returned = true;
    ++returned_;
  }

  // The trigger PUT's response, read after the watchers (its latency is not what we measure).
  bool roundTripTail(Response& r) { return roundTrip(control_, control_parser_, "", r); }

  const Options& o_;
  std::vector<Watcher> watchers_;
  const std::string* watch_ = nullptr;
  int ep_ = -1;
  int control_ = -1;
  ResponseParser control_parser_;
  int64_t index_ = 0;
  int connected_ = 0;
  int returned_ = 0;
  int64_t early_ = 0;
  int64_t errors_ = 0;
  std::vector<double> return_ms_;
  Clock::time_point last_return_;
};

}  // namespace

int runFanout(const Options& o) { return Fanout(o).run(); }

}  // namespace trellis::bench

int main(int argc, char** argv) {
  trellis::bench::Options o;
  bool ok = false;
  try {
    ok = trellis::bench::parseOptions(argc, argv, o);
  } catch (const std::exception&) {
    ok = false;
  }
  if (!ok) {
    std::fprintf(stderr,
                 "usage: loadgen --mode M --port P [-c 32] [-t 1] [-d secs] [-n count] "
                 "[--warmup secs] [--keys 1000] [--value-size 128] [--services 10] "
                 "[--sources 100] [--pid SERVER_PID]\n"
                 "       loadgen --mode fanout --port P --pid AGENT_PID [--watchers 10000] "
                 "[--settle 2]\n"
                 "modes: trellis-kv-put trellis-kv-get etcd-put etcd-get etcd-get-serializable "
                 "trellis-register trellis-health trellis-leaf trellis-authorize fanout\n");
    return 2;
  }
  if (o.mode == "fanout") return trellis::bench::runFanout(o);
  return trellis::bench::runLoad(o);
}
