datacenter = "dc1"
ports { http = 8500 }
