// Typical test-harness agent config (one server, loopback, fast raft).
data_dir  = "/tmp/trellis-harness"
server    = true
bootstrap = true
node_name = "harness"
bind_addr = "127.0.0.1"

ports {
  grpc = 8502
  http = 18500
}

connect {
  enabled = true
}

performance {
  raft_multiplier = 1
}

disable_update_check = true
log_level            = "debug"
enable_central_service_config = true
