service "web" { port = 80 }
service "db" "x" { port = 1 }
