#include "dns/server.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "dns/message.h"

namespace trellis::dns {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pb::Node n;
    n.set_node("n1");
    n.set_address("10.0.0.1");
    ASSERT_TRUE(store_.ensureNode(1, n).isOk());
    pb::Service s;
    s.set_node("n1");
    s.set_id("web");
    s.set_service("web");
    s.set_port(80);
    ASSERT_TRUE(store_.ensureService(2, s).isOk());
  }

  std::string query(const std::string& name, uint16_t id = 7) {
    Message q;
    q.header.id = id;
    q.questions.push_back({nameFromString(name), type::kA, kClassIn});
    return encode(q);
  }

  // Sends over UDP and runs the loop until the reply arrives (or a deadline passes).
  std::optional<Message> udpAsk(uint16_t port, const std::string& packet) {
    udp::socket client(io_, udp::endpoint(udp::v4(), 0));
    client.non_blocking(true);
    client.send_to(asio::buffer(packet), udp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    std::string buf(65535, '\0');
    for (int i = 0; i < 300; ++i) {
      io_.run_for(std::chrono::milliseconds(10));
      io_.restart();
      boost::system::error_code ec;
      udp::endpoint from;
      size_t n = client.receive_from(asio::buffer(buf), from, 0, ec);
      if (!ec) {
        auto m = parse(std::string_view(buf.data(), n));
        if (m) return *m;
        return std::nullopt;
      }
    }
    return std::nullopt;
  }

  asio::io_context io_;
  state::Store store_;
};

TEST_F(ServerTest, AnswersOverUdpAndTcp) {
  Server server(io_, store_, DnsConfig{});
  ASSERT_TRUE(server.listen("127.0.0.1", 0).isOk());
  ASSERT_NE(server.port(), 0);
  auto m = udpAsk(server.port(), query("web.service.consul"));
  ASSERT_TRUE(m);
  ASSERT_EQ(m->answers.size(), 1u);
  EXPECT_EQ(std::get<Ipv4>(m->answers[0].data), (Ipv4{10, 0, 0, 1}));

  // Two queries on one TCP connection, written in a single burst.
  tcp::socket client(io_);
  client.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
  std::string out;
  for (uint16_t id : {1, 2}) {
    std::string q = query("web.service.consul", id);
    out.push_back(static_cast<char>(q.size() >> 8));
    out.push_back(static_cast<char>(q.size()));
    out += q;
  }
  asio::write(client, asio::buffer(out));
  for (uint16_t id : {1, 2}) {
    uint8_t len[2];
    size_t got = 0;
    client.non_blocking(true);
    for (int i = 0; i < 300 && got < 2; ++i) {
      io_.run_for(std::chrono::milliseconds(10));
      io_.restart();
      boost::system::error_code ec;
      got += client.read_some(asio::buffer(len + got, 2 - got), ec);
    }
    ASSERT_EQ(got, 2u);
    client.non_blocking(false);
    std::string body((len[0] << 8) | len[1], '\0');
    asio::read(client, asio::buffer(body));
    auto r = parse(body);
    ASSERT_TRUE(r.isOk());
    EXPECT_EQ(r->header.id, id);
    EXPECT_EQ(r->answers.size(), 1u);
  }
  EXPECT_EQ(server.stats().tcp_queries, 2u);
  server.stop();
}

TEST_F(ServerTest, ForwardsToRecursorAndServfailsOnTimeout) {
  // A fake recursor on the same loop answering every query with rcode 0 and one A record.
  udp::socket recursor(io_, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  std::string rbuf(512, '\0');
  udp::endpoint rfrom;
  std::function<void()> serve = [&] {
    recursor.async_receive_from(
        asio::buffer(rbuf), rfrom, [&](boost::system::error_code ec, size_t n) {
          if (ec) return;
          auto q = parse(std::string_view(rbuf.data(), n));
          Message r;
          r.header = q->header;
          r.header.qr = true;
          r.questions = q->questions;
          r.answers.push_back(
              {q->questions[0].name, type::kA, kClassIn, 60, Ipv4{93, 184, 216, 34}});
          recursor.send_to(asio::buffer(encode(r)), rfrom);
          serve();
        });
  };
  serve();
  DnsConfig cfg;
  cfg.recursors.push_back({"127.0.0.1", recursor.local_endpoint().port()});
  cfg.recursor_timeout = std::chrono::milliseconds(200);
  Server server(io_, store_, cfg);
  ASSERT_TRUE(server.listen("127.0.0.1", 0).isOk());
  auto m = udpAsk(server.port(), query("example.com", 4242));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->header.id, 4242);
  ASSERT_EQ(m->answers.size(), 1u);
  EXPECT_EQ(m->answers[0].ttl, 60u);

  recursor.close();  // nobody answers now
  auto failed = udpAsk(server.port(), query("example.com", 4243));
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->header.rcode, rcode::kServFail);
  EXPECT_EQ(server.stats().forwarded, 2u);
}

TEST_F(ServerTest, ListenFailsWhenThePortIsTaken) {
  udp::socket taken(io_, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  Server server(io_, store_, DnsConfig{});
  Status s = server.listen("127.0.0.1", taken.local_endpoint().port());
  EXPECT_FALSE(s.isOk());
  EXPECT_NE(s.message().find("cannot listen for DNS"), std::string::npos);
}

}  // namespace
}  // namespace trellis::dns
