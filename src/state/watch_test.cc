#include "state/watch.h"

#include <gtest/gtest.h>

namespace trellis::state {
namespace {

TEST(WatchHub, FiresOnceAndUnregistersAllTopics) {
  WatchHub hub;
  int fired = 0;
  Waiter w([&] { ++fired; });
  hub.watch(w, WatchHub::tableTopic("kvs"));
  hub.watch(w, WatchHub::kvKeyTopic("a"));
  EXPECT_EQ(hub.waiterCount(), 2u);
  hub.fire(WatchHub::kvKeyTopic("a"));
  EXPECT_EQ(fired, 1);
  EXPECT_TRUE(w.fired());
  EXPECT_EQ(hub.waiterCount(), 0u);
  hub.fire(WatchHub::tableTopic("kvs"));
  EXPECT_EQ(fired, 1);
}

TEST(WatchHub, KvWriteWakesPrefixWatchersOnly) {
  WatchHub hub;
  int a = 0, b = 0, root = 0;
  Waiter wa([&] { ++a; });
  Waiter wb([&] { ++b; });
  Waiter wr([&] { ++root; });
  hub.watch(wa, WatchHub::kvPrefixTopic("app/"));
  hub.watch(wb, WatchHub::kvPrefixTopic("other/"));
  hub.watch(wr, WatchHub::kvPrefixTopic(""));
  hub.fireKv("app/config");
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 0);
  EXPECT_EQ(root, 1);
}

TEST(WatchHub, CancelledWaiterIsNotCalled) {
  WatchHub hub;
  int fired = 0;
  {
    Waiter w([&] { ++fired; });
    hub.watch(w, WatchHub::kvKeyTopic("k"));
  }
  hub.fireKv("k");
  EXPECT_EQ(fired, 0);
  EXPECT_EQ(hub.waiterCount(), 0u);
}

}  // namespace
}  // namespace trellis::state
