#pragma once
// What the xDS side (proxycfg) borrows from the HTTP API's Connect state: the agent's leaf
// certificate cache and the intentions snapshot. Core loop only.

#include <utility>
#include <boost/asio/awaitable.hpp>
#include <string>

#include "api/context.h"

namespace trellis::api {

// The cached leaf for `service`, signing a new one when missing, due for renewal or issued by a
// previous root (connect_ca.cc).
boost::asio::awaitable<Result<const Context::Leaf*>> ensureLeaf(Context& ctx,
                                                                const std::string& service);

// Every intention, rebuilt when the config-entries table changed (intentions.cc).
const intentions::IntentionSet& intentionSet(Context& ctx);

}  // namespace trellis::api
