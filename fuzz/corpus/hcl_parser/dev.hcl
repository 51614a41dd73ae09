# A development agent in the style of Consul's getting-started guides; load with -dev.
datacenter = "dc1"
node_name  = "consul-dev"
log_level  = "INFO"
client_addr = "0.0.0.0"

ui_config {
  enabled = true
}

addresses {
  http = "0.0.0.0"
}

ports {
  grpc = 8502
  dns  = 8600
}

connect {
  enabled = true
}

node_meta {
  rack = "r1"
}

acl {
  enabled        = false
  default_policy = "allow"
  tokens {
    initial_management = "9a1b5c3d-0000-4000-8000-000000000001"
  }
}

telemetry {
  prometheus_retention_time = "60s"
  disable_hostname          = true
}

dns_config {
  enable_truncate = true
  only_passing    = true
}

service {
  name = "web"
  port = 8080
  tags = ["v1", "primary",]
  connect {
    sidecar_service {}
  }
  check {
    http     = "http://localhost:8080/health"
    interval = "10s"
  }
}

service {
  name = "db"
  port = 5432
}

config_entries {
  bootstrap {
    kind = "proxy-defaults"
    name = "global"
    config {
      protocol = "http"
    }
  }
  bootstrap {
    kind     = "service-defaults"
    name     = "web"
    protocol = "http"
  }
}
