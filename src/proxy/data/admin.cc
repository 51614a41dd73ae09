#include "proxy/data/admin.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "common/log.h"
#include "event/thread.h"
#include "proxy/data/data_plane.h"

namespace trellis::proxy::data {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kMaxHeadBytes = 8 * 1024;

std::string_view reasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

std::string render(const AdminResponse& r) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " +
                    std::string(reasonPhrase(r.status)) + "\r\nContent-Type: " + r.content_type +
                    "\r\nContent-Length: " + std::to_string(r.body.size()) +
                    "\r\nConnection: close\r\n\r\n";
  out += r.body;
  return out;
}

}  // namespace

Result<AdminRequest> parseAdminRequest(std::string_view head) {
  const size_t eol = head.find("\r\n");
  const std::string_view line = head.substr(0, eol);
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return invalidArgument("bad request line");
  const size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return invalidArgument("bad request line");
  const std::string_view version = line.substr(sp2 + 1);
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return invalidArgument("bad version");
  AdminRequest r;
  r.method = std::string(line.substr(0, sp1));
  for (char c : r.method) {
    if (c < 'A' || c > 'Z') return invalidArgument("bad method");
  }
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (target.front() != '/') return invalidArgument("bad target");
  r.path = std::string(target.substr(0, target.find('?')));
  return r;
}

std::string respond(const AdminHandlers& handlers, std::string_view head) {
  auto req = parseAdminRequest(head);
  if (!req) return render({400, "text/plain; charset=utf-8", req.status().message() + "\n"});
  if (req->method != "GET") return render({405, "text/plain; charset=utf-8", "GET only\n"});
  auto it = handlers.find(req->path);
  if (it == handlers.end()) return render({404, "text/plain; charset=utf-8", "not found\n"});
  return render(it->second());
}

AdminHandlers dataPlaneAdminHandlers(const DataPlane& dp, std::function<std::string()> extra) {
  AdminHandlers h;
  h["/ready"] = [&dp] {
    return dp.ready() ? AdminResponse{200, "text/plain; charset=utf-8", "LIVE\n"}
                      : AdminResponse{503, "text/plain; charset=utf-8", "PRE_INITIALIZING\n"};
  };
  auto stats = [&dp, extra] {
    std::string body = dp.renderPrometheus();
    if (extra) body += extra();
    return AdminResponse{200, "text/plain; version=0.0.4; charset=utf-8", std::move(body)};
  };
  h["/stats"] = stats;
  h["/stats/prometheus"] = stats;
  h["/config_dump"] = [&dp] {
    auto config = dp.current();
    return AdminResponse{200, "application/json",
                         config ? configDumpJson(*config) : std::string("{}\n")};
  };
  return h;
}

struct AdminServer::Impl {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  AdminHandlers handlers;

  void accept() {
    acceptor.async_accept([this](const boost::system::error_code& ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) serve(std::make_shared<tcp::socket>(std::move(s)));
      accept();
    });
  }

  void serve(std::shared_ptr<tcp::socket> s) {
    auto buf = std::make_shared<asio::streambuf>(kMaxHeadBytes);
    asio::async_read_until(*s, *buf, "\r\n\r\n",
                           [this, s, buf](const boost::system::error_code& ec, size_t n) {
                             if (ec && n == 0 && buf->size() == 0) return;
                             std::string head(asio::buffers_begin(buf->data()),
                                              asio::buffers_begin(buf->data()) + buf->size());
                             if (ec) head = "";  // too long or cut short: a 400
                             auto out = std::make_shared<std::string>(respond(handlers, head));
                             asio::async_write(*s, asio::buffer(*out),
                                               [s, out](const boost::system::error_code&, size_t) {
                                                 boost::system::error_code ignored;
                                                 s->shutdown(tcp::socket::shutdown_both, ignored);
                                               });
                           });
  }
};

AdminServer::AdminServer() : impl_(std::make_unique<Impl>()) {}
AdminServer::~AdminServer() { stop(); }

Status AdminServer::start(const std::string& address, uint16_t port, AdminHandlers handlers) {
  boost::system::error_code ec;
  const auto addr = asio::ip::make_address(address, ec);
  if (ec) return invalidArgument("admin: bad address '" + address + "'");
  tcp::endpoint ep(addr, port);
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return invalidArgument("admin: cannot listen on " + address + ":" + std::to_string(port) +
                           ": " + ec.message());
  port_ = impl_->acceptor.local_endpoint().port();
  impl_->handlers = std::move(handlers);
  impl_->accept();
  thread_ = event::startThread("proxy-admin", [this] { impl_->ioc.run(); });
  return Status::ok();
}

void AdminServer::stop() {
  if (!thread_.joinable()) return;
  asio::post(impl_->ioc, [this] {
    boost::system::error_code ec;
    impl_->acceptor.close(ec);
    impl_->ioc.stop();
  });
  thread_.join();
}

}  // namespace trellis::proxy::data
