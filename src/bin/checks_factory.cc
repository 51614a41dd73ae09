#include "bin/checks_factory.h"

#include "agent/checks/runner.h"

namespace trellis::bin {

namespace {

class RunnerAdapter final : public agent::RunnerHandle {
 public:
  explicit RunnerAdapter(std::unique_ptr<agent::checks::Runner> r) : runner_(std::move(r)) {
    runner_->start();
  }
  ~RunnerAdapter() override { runner_->stop(); }

 private:
  std::unique_ptr<agent::checks::Runner> runner_;
};

}  // namespace

agent::RunnerFactory checkRunnerFactory(boost::asio::io_context& io) {
  return [&io](const pb::Check& check, std::function<void(const agent::CheckUpdate&)> on_result)
             -> std::unique_ptr<agent::RunnerHandle> {
    const pb::CheckDefinition& d = check.definition();
    agent::checks::CheckSpec spec;
    spec.check_id = check.check_id();
    spec.kind = check.type();
    spec.http = d.http();
    if (!d.method().empty()) spec.method = d.method();
    for (const auto& [k, v] : d.header()) {
      spec.header[k] = std::vector<std::string>(v.values().begin(), v.values().end());
    }
    spec.body = d.body();
    spec.tls_skip_verify = d.tls_skip_verify();
    spec.tls_server_name = d.tls_server_name();
    spec.disable_redirects = d.disable_redirects();
    spec.tcp = d.tcp();
    spec.args.assign(d.args().begin(), d.args().end());
    // Consul's minimum interval for agent-run checks is one second.
    spec.interval = std::max(std::chrono::nanoseconds(d.interval_ns()),
                             std::chrono::nanoseconds(std::chrono::seconds(1)));
    spec.timeout = std::chrono::nanoseconds(d.timeout_ns());
    spec.output_max_size = d.output_max_size() > 0 ? static_cast<size_t>(d.output_max_size()) : 4096;
    spec.success_before_passing = d.success_before_passing();
    spec.failures_before_warning = d.failures_before_warning();
    spec.failures_before_critical = d.failures_before_critical();
    auto runner = agent::checks::makeRunner(
        io, spec, [on_result](const agent::checks::CheckResult& r) {
          on_result(agent::CheckUpdate{r.status, r.output});
        });
    if (!runner) return nullptr;
    return std::make_unique<RunnerAdapter>(std::move(runner));
  };
}

}  // namespace trellis::bin
